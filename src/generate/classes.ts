// Every syscall of every supported architecture in one of four classes, which decide what `generate` does
// with a call static analysis finds reachable but no recording saw (docs/policy-format.md, "Classes"):
//
// - low: harmless beside any policy (queries, memory without PROT_EXEC, signals to itself, I/O on open
//   descriptors): allowed, with the argument bans of STATIC_BANS and the ordinary values of ordinary.ts.
// - confined: file, socket, IPC and signal calls: ordinary program behaviour whose reach the Landlock layer
//   confines (which files, which TCP ports, which processes): allowed where that layer is enforced;
//   elsewhere they fall back to the seccomp-only answer below, never to a wider one.
// - seccomp-only: ordinary calls Landlock does not confine (chmod/chown, extended attributes, times,
//   connect — UDP and pathname unix sockets —, inotify, memory locking, Linux AIO, the 32-bit multiplexers
//   seccomp cannot look into): allowed only when seen; reachable, they get the --unseen answer (EPERM).
// - privilege: new kernel attack surface or new privilege (exec beyond what was seen, ptrace, mounts and
//   namespaces, modules, kexec, bpf, perf, keys, the setuid family, io_uring, open_by_handle_at, personality,
//   reboot and swap, chroot, …) and calls that do nothing on a modern kernel: never allowed unless seen.
//
// A name on no list is privilege (fail closed); a test fails when an architecture's table has a name this
// file does not classify, so a new kernel's syscall gets a class by a person, not by default.

import { CONFINED, PRIVILEGE, SECCOMP_ONLY } from "./class-lists.js";
import { LOW } from "./class-lists-low.js";

/** The four classes, in the order of the table in docs. */
export type SyscallClass = "low" | "confined" | "seccomp-only" | "privilege";

/** Which layer a confined call relies on (the generator checks the policy enforces it). */
export type ConfinedBy = "landlock-fs" | "landlock-tcp" | "landlock-signal" | "ipc";

/** class → reason → names. */
export const CLASSES: Record<SyscallClass, Record<string, readonly string[]>> = {
  low: LOW,
  confined: CONFINED,
  "seccomp-only": SECCOMP_ONLY,
  privilege: PRIVILEGE,
};

/** What a confined call relies on, by the reason it is listed under. */
const CONFINED_BY: Record<string, ConfinedBy> = {};
const index = new Map<string, { cls: SyscallClass; why: string }>();
for (const [cls, lists] of Object.entries(CLASSES) as [SyscallClass, Record<string, readonly string[]>][])
  for (const [why, names] of Object.entries(lists))
    for (const n of names) {
      if (index.has(n)) throw new Error(`classes.ts: ${n} is listed twice`);
      index.set(n, { cls, why });
    }
for (const [why, names] of Object.entries(CLASSES.confined)) {
  const by: ConfinedBy = why.startsWith("files")
    ? "landlock-fs"
    : why.startsWith("sockets")
      ? "landlock-tcp"
      : why.startsWith("signals")
        ? "landlock-signal"
        : "ipc";
  for (const n of names) CONFINED_BY[n] = by;
}

/** A syscall's class and the one-line reason (privilege, "not classified", for a name on no list). */
export function classOf(name: string): { cls: SyscallClass; why: string; confinedBy?: ConfinedBy } {
  const c = index.get(name);
  if (!c) return { cls: "privilege", why: "not classified (a new syscall): treated as privilege" };
  return CONFINED_BY[name] ? { ...c, confinedBy: CONFINED_BY[name] } : c;
}

/** True when `name` is on one of the lists (a test checks every architecture's table). */
export function isClassified(name: string): boolean {
  return index.has(name);
}

/**
 * Argument bans a statically allowed call keeps: no new namespaces through clone, no executable memory
 * unless the recording saw it, prlimit64 only reading.
 */
export const STATIC_BANS: Record<string, string[]> = {
  clone: ["arg0 & 0x7e020000 == 0"], // CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
  mmap: ["arg2 & 0x4 == 0"], // PROT_EXEC
  mmap2: ["arg2 & 0x4 == 0"],
  mprotect: ["arg2 & 0x4 == 0"],
  pkey_mprotect: ["arg2 & 0x4 == 0"],
  prlimit64: ["arg2 == 0"], // reading a limit, never setting one
};
