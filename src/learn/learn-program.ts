// The filter of a learning run (pure): the policy's own program with every answer other than ALLOW turned
// into SECCOMP_RET_USER_NOTIF, so the supervisor sees each call the policy would refuse (or log) and decides
// it; before it, a prologue that notifies every call the supervisor must see whatever the policy says —
// every execve (the launch's own is let through, later ones are judged) and, when the policy has a Landlock
// layer, the calls that name files (Landlock's decisions are judged by the supervisor: learning runs without
// the layer, which has no log-only mode).
import { Assembler } from "../bpf/assembler.js";
import type { Insn } from "../bpf/insn.js";
import * as O from "../bpf/opcodes.js";
import {
  OFF_ARCH,
  OFF_NR,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_USER_NOTIF,
} from "../bpf/seccomp-data.js";
import { SysfenceError } from "../errors.js";

/**
 * `program` (a compiled policy) as a learning filter: calls numbered `notifyNrs` on architecture `audit`
 * are notified before the program runs; every RET of the program other than ALLOW becomes USER_NOTIF.
 * Leaves A = 0 and X untouched before the program, as the kernel starts one.
 */
export function learningProgram(
  program: readonly Insn[],
  audit: number,
  notifyNrs: readonly number[],
): Insn[] {
  const body = program.map((i) => {
    if (i.code === (O.BPF_RET | O.BPF_A))
      throw new SysfenceError(
        "E_INTERNAL",
        "a learning filter cannot be made from a program that returns A.",
      );
    if (i.code !== (O.BPF_RET | O.BPF_K)) return i;
    const action = (i.k & SECCOMP_RET_ACTION_FULL) >>> 0;
    return action === SECCOMP_RET_ALLOW ? i : { ...i, k: SECCOMP_RET_USER_NOTIF };
  });
  if (notifyNrs.length === 0) return body;
  const asm = new Assembler();
  const rest = asm.newLabel("program");
  const notify = asm.newLabel("notify");
  const numbers = asm.newLabel("nr");
  asm.load(OFF_ARCH).jump(O.BPF_JEQ, audit, numbers, rest);
  asm.label(numbers).load(OFF_NR);
  const sorted = [...new Set(notifyNrs)].sort((a, b) => a - b);
  sorted.forEach((nr, k) => {
    const next = asm.newLabel("next");
    asm.jump(O.BPF_JEQ, nr, notify, k === sorted.length - 1 ? rest : next);
    if (k < sorted.length - 1) asm.label(next);
  });
  asm.label(notify).ret(SECCOMP_RET_USER_NOTIF);
  asm.label(rest).emit(O.BPF_LD | O.BPF_IMM, 0);
  const out = [...asm.assemble(), ...body];
  if (out.length > O.BPF_MAXINSNS)
    throw new SysfenceError(
      "E_PROGRAM_TOO_LONG",
      `the learning filter has ${out.length} instructions (the policy's ${program.length} and ${out.length - program.length} to notify execve and the file calls), past the kernel's limit of ${O.BPF_MAXINSNS}.`,
    );
  return out;
}
