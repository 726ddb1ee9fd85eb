// What the bpf engine's kernel programs (programs.ts) and its reader (kernel.ts) agree on: the events the
// ring buffer carries, the totals' slots and the sizes of strings.

/** Bytes read of a path or an executed file's name (PATH_MAX, include/uapi/linux/limits.h, with its NUL). */
export const PATH_MAX = 4096;

/** Bytes of an event's header: six u32 (kind and five fields); a path or file name follows it. */
export const HEADER = 24;

/**
 * Event kinds and their fields (u32 after the kind):
 * - fork: parent tgid, child pid, the child's image number, the parent's image number;
 * - exec: tgid, tid, the new image number; the file name follows;
 * - exit: tgid, tid, exit code (wait status), image number;
 * - seed: pid in sysfence's PID namespace, pid in the initial one (record --pid in a namespace);
 * - path: tgid, image number, the call's result (s32), the open flags (u64, 0: none); the path follows.
 */
export const EVENT = { fork: 1, exec: 2, exit: 3, seed: 4, path: 5 } as const;

/** The slots of the per-CPU totals (u64 each). */
export const TOTALS = { calls: 0, lostCalls: 1, lostEvents: 2, unreadPaths: 3 } as const;
export const TOTAL_SLOTS = 4;

/** Signals counted (the kernel's are 1 … 64). */
export const SIGNALS = 65;

/** Entries of the syscall table `args` (every syscall number on the architectures sysfence knows is below). */
export const SYSCALLS = 1024;

/**
 * Slots of sys_enter's per-CPU count cache (`dc`): a call without values adds one to its slot while the
 * slot holds its count key, and goes to the count map only when it takes the slot over (a power of two).
 * Each slot: the two key words and the calls not yet in the count map (u64 each).
 */
export const COUNT_CACHE_SLOTS = 256;
export const COUNT_CACHE_SLOT = 24;
