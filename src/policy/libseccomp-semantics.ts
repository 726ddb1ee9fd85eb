import { type Diagnostic, formatLocation } from "../errors.js";
import type { ArchName } from "../syscalls/arches.js";
import { argWidth } from "../syscalls/args.js";
import { isKnownSyscall, syscallNumber } from "../syscalls/table.js";
import { formatAction, sameAction } from "./actions.js";
import type { Action, Condition, Rule } from "./model.js";
import { commonWitness } from "./overlap.js";

// What an OCI profile means to runc, Docker, podman and crun: they compile it with libseccomp, whose
// rules are not first-match. Verified against Debian's libseccomp 2.5.4 (test/differential):
// - a rule whose action equals the default action is dropped (runc skips it: libseccomp refuses it);
// - an unconditional rule for a syscall overrides every conditional rule for it, whatever the order;
// - conditional rules with different actions that can hold at once are decided by libseccomp's internal
//   tree order, not file order: such profiles are refused here, with an example call;
// - on architectures that multiplex (i386, s390x, ppc64le), a rule on a socket or SysV IPC call also
//   governs socketcall(2)/ipc(2) with the sub-call number in arg0; its conditions on arg0 are dropped and
//   those on other arguments compare socketcall's and ipc's own registers.

/** Architectures whose socket and IPC calls also go through socketcall(2) and ipc(2). */
export const MULTIPLEXING_ARCHES: readonly ArchName[] = ["i386", "s390x", "ppc64le"];

/** socketcall(2) sub-call numbers (include/uapi/linux/net.h SYS_*). */
export const SOCKETCALL_SUBCALLS: Readonly<Record<string, number>> = {
  socket: 1,
  bind: 2,
  connect: 3,
  listen: 4,
  accept: 5,
  getsockname: 6,
  getpeername: 7,
  socketpair: 8,
  send: 9,
  recv: 10,
  sendto: 11,
  recvfrom: 12,
  shutdown: 13,
  setsockopt: 14,
  getsockopt: 15,
  sendmsg: 16,
  recvmsg: 17,
  accept4: 18,
  recvmmsg: 19,
  sendmmsg: 20,
};

/** ipc(2) sub-call numbers (include/uapi/linux/ipc.h SEMOP … SHMCTL). */
export const IPC_SUBCALLS: Readonly<Record<string, number>> = {
  semop: 1,
  semget: 2,
  semctl: 3,
  semtimedop: 4,
  msgsnd: 11,
  msgrcv: 12,
  msgget: 13,
  msgctl: 14,
  shmat: 21,
  shmdt: 22,
  shmget: 23,
  shmctl: 24,
};

/** The socketcall(2) or ipc(2) sub-call number of a call, if it has one (own keys only: names are user input). */
export function subcallOf(name: string): number | undefined {
  if (Object.hasOwn(SOCKETCALL_SUBCALLS, name)) return SOCKETCALL_SUBCALLS[name];
  if (Object.hasOwn(IPC_SUBCALLS, name)) return IPC_SUBCALLS[name];
  return undefined;
}

/** Rewrites OCI rules (in file order, one per OCI entry or OR-ed index) into a first-match-safe policy. */
export function applyLibseccompSemantics(
  input: readonly Rule[],
  defaultAction: Action,
  arches: readonly ArchName[],
  file: string,
): { rules: Rule[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const expanded = expandSubcalls(input, defaultAction, arches, file, diagnostics);
  // Per syscall: an unconditional rule overrides the conditional ones; conditional ones must not overlap.
  const dropped = overriddenAndOverlapping(expanded, arches, diagnostics);
  const rules: Rule[] = [];
  for (const r of expanded) {
    const gone = dropped.get(r);
    if (!gone) rules.push(r);
    else {
      const names = r.names.filter((n) => !gone.has(n));
      if (names.length) rules.push({ ...r, names });
    }
  }
  return { rules, diagnostics };
}

/**
 * The rules that differ from the default, with socketcall/ipc sub-calls added as libseccomp adds them on a
 * multiplexing architecture; names unknown everywhere are skipped, with one warning.
 */
function expandSubcalls(
  input: readonly Rule[],
  defaultAction: Action,
  arches: readonly ArchName[],
  file: string,
  diagnostics: Diagnostic[],
): Rule[] {
  const multiplexed = arches.some((a) => MULTIPLEXING_ARCHES.includes(a));
  const unknown = new Set<string>();
  const expanded: Rule[] = [];
  for (const r of input) {
    if (sameAction(r.action, defaultAction)) continue;
    const names: string[] = [];
    for (const n of r.names) {
      const sub = subcallOf(n);
      if (multiplexed && sub !== undefined) {
        const via = Object.hasOwn(SOCKETCALL_SUBCALLS, n) ? "socketcall" : "ipc";
        const cond: Condition = {
          arg: 0,
          op: "==",
          value: BigInt(sub),
          unsigned: true,
          location: r.location,
        };
        // libseccomp puts the sub-call in arg0 and keeps the rule's other conditions, which then compare
        // socketcall's own registers (arch-x86.c); a condition on arg0 is dropped.
        expanded.push({
          names: [via],
          action: r.action,
          conditions: [cond, ...r.conditions.filter((c) => c.arg !== 0).map((c) => ({ ...c }))],
          comment: `${n} through ${via}(2), as libseccomp adds it on ${arches.filter((a) => MULTIPLEXING_ARCHES.includes(a)).join(", ")}`,
          location: r.location,
        });
      }
      if (isKnownSyscall(n)) names.push(n);
      else if (!(multiplexed && sub !== undefined)) unknown.add(n);
    }
    if (names.length) expanded.push({ ...r, names });
  }
  if (unknown.size)
    diagnostics.push({
      severity: "warning",
      message: `${unknown.size} syscall name(s) unknown on every architecture were skipped, as runc skips them: ${[...unknown].sort().join(", ")}`,
      location: { file },
    });

  return expanded;
}

/**
 * Per syscall, the conditional rules an unconditional one overrides (returned: rule → names dropped from
 * it); an overlap of conditional rules with different actions is an error.
 */
function overriddenAndOverlapping(
  expanded: Rule[],
  arches: readonly ArchName[],
  diagnostics: Diagnostic[],
): Map<Rule, Set<string>> {
  const byName = new Map<string, Rule[]>();
  for (const r of expanded) for (const n of r.names) byName.set(n, [...(byName.get(n) ?? []), r]);
  const dropped = new Map<Rule, Set<string>>();
  for (const [name, rules] of byName) {
    const unconditional = rules.find((r) => r.conditions.length === 0);
    const conditional = rules.filter((r) => r.conditions.length > 0);
    if (unconditional) {
      for (const r of conditional) {
        const set = dropped.get(r) ?? new Set<string>();
        set.add(name);
        dropped.set(r, set);
      }
      continue;
    }
    const widths = arches.filter((a) => syscallNumber(a, name) !== undefined);
    const bitsOf = (arg: number) => Math.min(64, ...widths.map((a) => argWidth(name, arg, a).bits));
    for (let i = 0; i < conditional.length; i++)
      for (let j = i + 1; j < conditional.length; j++) {
        const a = conditional[i];
        const b = conditional[j];
        if (sameAction(a.action, b.action)) continue;
        const witness = commonWitness([...a.conditions, ...b.conditions], bitsOf);
        if (!witness) continue;
        const used = new Set([...a.conditions, ...b.conditions].map((c) => c.arg));
        const call = `${name}(${[...used]
          .sort()
          .map((k) => `arg${k}=${witness[k]}`)
          .join(", ")})`;
        diagnostics.push({
          severity: "error",
          message: `two rules for ${name} answer ${call} differently ('${formatAction(a.action)}' at ${formatLocation(a.location)}, '${formatAction(b.action)}' here); libseccomp, which runc, Docker and podman use, does not decide such overlaps by file order`,
          location: b.location,
          hint: "make the rules' conditions disjoint, or convert the profile (sysfence import) to a sysfence policy, where the first matching rule wins",
        });
      }
  }
  return dropped;
}
