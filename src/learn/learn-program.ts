// The filter of a learning run (pure): the policy with every answer it gives calls it did not plan for turned
// into SECCOMP_RET_USER_NOTIF (learningPolicy), so the supervisor sees each call the policy would refuse (or
// log) and decides it; the policy's deliberate answers (a rule written without a tier: clone3 and io_uring
// ENOSYS, a person's `openat → EACCES`) stay in the filter. Before the program, a prologue that notifies every call the supervisor must see whatever the policy says —
// every execve (the launch's own is let through, later ones are judged) and, when the policy has a Landlock
// layer, the calls that name files (Landlock's decisions are judged by the supervisor: learning runs without
// the layer, which has no log-only mode).
import * as O from "../abi/opcodes.js";
import { OFF_ARCH, OFF_NR, SECCOMP_RET_USER_NOTIF } from "../abi/seccomp-data.js";
import { Assembler } from "../bpf/assembler.js";
import type { Insn } from "../bpf/insn.js";
import { SysfenceError } from "../errors.js";
import type { Action, Policy, Rule } from "../policy/model.js";

const NOTIFY: Action = { kind: "user-notif" };

/**
 * A deliberate answer: a refusal written without a tier (by a person, or generate's clone3/io_uring ENOSYS)
 * — kept as it is while learning. A tiered refusal (static-high, argument-fallback), a log rule and the
 * default action are answers to calls nobody planned for: those are learned.
 */
export const isDeliberate = (r: Rule): boolean =>
  r.tier === undefined && r.action.kind !== "allow" && r.action.kind !== "log";

/** The policy a learning filter is compiled from: every answer that is not allow or deliberate notifies. */
export function learningPolicy(policy: Policy): Policy {
  const learn = (a: Action): Action => (a.kind === "allow" ? a : NOTIFY);
  return {
    ...policy,
    flags: undefined,
    defaultAction: learn(policy.defaultAction),
    badArchAction: learn(policy.badArchAction),
    rules: policy.rules.map((r) =>
      r.action.kind === "allow" || isDeliberate(r) ? r : { ...r, action: NOTIFY },
    ),
  };
}

/**
 * `body` (the compiled learningPolicy) with a prologue: calls numbered `notifyNrs` on architecture `audit`
 * are notified before the program runs. Leaves A = 0 and X untouched before it, as the kernel starts one.
 */
export function learningProgram(body: readonly Insn[], audit: number, notifyNrs: readonly number[]): Insn[] {
  if (notifyNrs.length === 0) return [...body];
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
      `the learning filter has ${out.length} instructions (the policy's ${body.length} and ${out.length - body.length} to notify execve and the file calls), past the kernel's limit of ${O.BPF_MAXINSNS}.`,
    );
  return out;
}
