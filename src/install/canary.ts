// The proof that a filter took. seccomp() returning 0 proves nothing when an outer filter answers it with
// "errno 0", and prctl(PR_GET_SECCOMP) says only that *some* filter is in place (and may itself be
// filtered). So every program sysfence installs first answers one reserved syscall number — unused on every
// architecture — with an errno chosen for this install; after installing, sysfence makes that call and goes
// on only when exactly that errno comes back. Pure: the kernel calls are in install.ts.
import * as O from "../abi/opcodes.js";
import { OFF_ARCH, OFF_NR, SECCOMP_RET_ERRNO } from "../abi/seccomp-data.js";
import { Assembler } from "../bpf/assembler.js";
import type { Insn } from "../bpf/insn.js";
import { SysfenceError } from "../errors.js";

/** The reserved number: far above every table (x86_64 ~460, MIPS n32 ~6460), below ARM's private range. */
export const CANARY_NR = 0xfff0;
/** The canary's errno is drawn from here; real errnos end near 134, MAX_ERRNO is 4095. */
const ERRNO_LO = 3000;
const ERRNO_HI = 4095;

/**
 * An errno for this install that differs from what the canary answers now (`before`: an outer filter's)
 * and from every errno given to the filters installed before it in the same install.
 */
export function pickCanaryErrno(
  before: number | readonly number[],
  random: () => number = Math.random,
): number {
  const taken = typeof before === "number" ? [before] : before;
  for (;;) {
    const e = ERRNO_LO + Math.floor(random() * (ERRNO_HI - ERRNO_LO + 1));
    if (!taken.includes(e)) return e;
  }
}

/**
 * `program` with a prologue that answers CANARY_NR on the native architecture (`audit`) with `errno`.
 * The prologue leaves A = 0 and X untouched, as the kernel starts a program, so any program runs on
 * unchanged after it.
 */
export function withCanary(program: readonly Insn[], audit: number, errno: number): Insn[] {
  const asm = new Assembler();
  const rest = asm.newLabel("program");
  const check = asm.newLabel("nr");
  const answer = asm.newLabel("canary");
  asm.load(OFF_ARCH).jump(O.BPF_JEQ, audit, check, rest);
  asm.label(check).load(OFF_NR).jump(O.BPF_JEQ, CANARY_NR, answer, rest);
  asm.label(answer).ret((SECCOMP_RET_ERRNO | errno) >>> 0);
  asm.label(rest).emit(O.BPF_LD | O.BPF_IMM, 0);
  const prologue = asm.assemble();
  const out = [...prologue, ...program];
  if (out.length > O.BPF_MAXINSNS)
    throw new SysfenceError(
      "E_PROGRAM_TOO_LONG",
      `the program has ${program.length} instructions; with sysfence's ${prologue.length}-instruction install check it passes the kernel's limit of ${O.BPF_MAXINSNS}. Drop argument rules or split the policy.`,
    );
  return out;
}
