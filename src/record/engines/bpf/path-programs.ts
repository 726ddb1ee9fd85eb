// The bpf engine's path program: every path a call names (path-access.ts PATH_USES: the open family, the
// stat, mkdir, unlink, rename, link, symlink, readlink, chdir … calls, exec, bind and connect), read at the
// call's sys_exit (the kernel has copied it: its page is there) and sent with the directory a relative one
// is relative to — the calling task's current directory (fs->pwd) or its directory fd's file (f_path) —
// walked in the kernel from the dentry up to the root of its mount namespace (past the task's root: a
// chroot'ed task's directory is named as sysfence sees it), crossing mounts (struct mount's mnt_parent
// and mnt_mountpoint). A successful chroot's event carries its new root, walked the same way: user space
// (bpf.ts) keeps each process's root, and puts it in front of the absolute paths the process names. sys_exit (programs.ts) tail-calls it (a prog array, index PATH_PROG) for a traced
// call whose syscall has a use, so no other call pays for it. Pure: map fds and the kernel's layout (BTF
// member offsets) in, bytes out. This file holds what it and its readers agree on (the event, the `uses`
// table, the layout) and sys_exit's tail call; the program is path-exit.ts, path-setup.ts loads it, and
// bpf.ts reads its events (path-events.ts).
//
// The event (PATH_EVENT): kind, tgid, image number, the call's result (s32), the open flags (u64; 0 when
// the use has none), the use's access bits (0: from the flags), what was read (USE_KIND), how the
// directory was found (DIR), COUNTED (1: a hash follows the path), the bytes of the path with its NUL (a
// socket address's bytes); then the path, then the directory's names leaf first, each with its NUL
// ("src\0project\0home\0" is /home/project/src; none: the root), or (COUNTED) the use's 64-bit hash.
// User space (path-events.ts) makes the path absolute; one whose directory could not be walked is counted
// as lost there.
//
// Repeats counted in the kernel: a use that needs no directory (DIR.none: an absolute path, a socket
// address) is hashed — its bytes as read, the header's flags, access, kind and length, and the task's root
// (fs->root's mount and dentry: an absolute path names another file under another root), all that user
// space's aggregation key (bpf.ts pathUse: access and path under the process's root) depends on — and looked up in the `seen` hash
// map: found, its count goes up by one and nothing is sent; not found, the event is sent with its hash
// (COUNTED) and the hash inserted with count 0 once the ring buffer took it. At the end bpf.ts adds each
// hash's count to the key its first event named. A full map inserts nothing: that use's repeats are events
// again (more events, never a lost use); a plain hash map (not LRU) so that no count is evicted. Two
// distinct uses whose 64-bit hashes are equal would share one count (odds about n² / 2⁶⁵ for n uses).
import { type EbpfAsm, R1, R2, R3, R6, R8, R10 } from "../../../ebpf/asm.js";
import { PATH_MAX } from "./layout.js";
import { ARG_BITS, NEEDS, ST_PTR } from "./program-parts.js";

/** The path event's kind (layout.ts EVENT's are 1 … 5). */
export const PATH_EVENT = 6;
/** Bytes of the path event's header. */
export const PATH_HEADER = 32;
/** Steps walked at most from a directory up to the root, a name or a mount each (past them: DIR.deep). */
export const DIR_DEPTH = 128;
/** Bytes of the directory's names an event carries at most (past them: DIR.deep). */
export const DIR_MAX = 4096;
/** Bytes of one name (NAME_MAX 255, include/uapi/linux/limits.h, with its NUL). */
export const NAME_BYTES = 256;
/**
 * Byte of the per-CPU event buffer, past everything an event holds, that says which of a call's two uses
 * an invocation reads: 1 when the program tail-called itself for the second (cleared as it is read).
 */
export const SECOND_USE = PATH_HEADER + PATH_MAX + DIR_MAX + NAME_BYTES;
/** Bytes of the per-CPU event buffer: header, path, names (the last one's NAME_BYTES may start at DIR_MAX - 1), SECOND_USE. */
export const PATH_BUF = SECOND_USE + 8;
/** Header byte that is 1 when the event is counted (its hash follows the path; repeats go to `seen`). */
export const COUNTED = 27;
/** Distinct uses whose repeats the kernel counts (the `seen` map's entries). */
export const SEEN_ENTRIES = 16384;
/** The prog array's index of the path program. */
export const PATH_PROG = 0;

/**
 * What a use reads: a path string, a socket address (its length in another register), openat2's how, an
 * exec's file, chdir's directory (read as a string; at its return the current directory is the new one),
 * chroot's (read as a string; at a successful one's return the task's root is the new one, and the walk
 * is of it).
 */
export const USE_KIND = { string: 0, sockaddr: 1, how: 2, exec: 3, chdir: 4, chroot: 5 } as const;
/**
 * How the event's directory was found: not needed (an absolute path, an abstract or inet address), walked
 * to the root, more than DIR_DEPTH steps (names and mounts), a name unreadable, the directory fd not open.
 */
export const DIR = { none: 0, walked: 1, deep: 2, unreadable: 3, badFd: 4 } as const;

/** `uses` entry bytes, per use (two per syscall, 8 bytes each): registers + 1 (0: none), access, kind. */
export const USE = { arg: 0, dirfd: 1, flags: 2, access: 3, kind: 4, len: 5, size: 8 } as const;

/** The offsets the path program reads kernel memory at (BTF member offsets, bytes). */
export interface PathLayout {
  /** struct pt_regs: the syscall number (x86_64 orig_ax, arm64 syscallno). */
  syscallNr: number;
  /** pt_regs offsets of the arguments at sys_exit (arm64: x0 holds the result there, orig_x0 the argument). */
  exitArgs: number[];
  taskFs: number;
  taskFiles: number;
  fsPwdMnt: number;
  fsPwdDentry: number;
  fsRootMnt: number;
  fsRootDentry: number;
  filesFdt: number;
  fdtMaxFds: number;
  fdtFd: number;
  fileMnt: number;
  fileDentry: number;
  dentryParent: number;
  dentryName: number;
  vfsmountRoot: number;
  /** struct mount: its embedded vfsmount (mount = vfsmount - mountMnt), parent and mountpoint. */
  mountMnt: number;
  mountParent: number;
  mountMountpoint: number;
}

/** The path program's layout from a BTF reader's member offsets (`at(struct, member path)`). */
export function pathLayout(
  at: (struct: string, path: string) => number,
  exitArgs: number[],
  syscallNr: number,
): PathLayout {
  return {
    exitArgs,
    syscallNr,
    taskFs: at("task_struct", "fs"),
    taskFiles: at("task_struct", "files"),
    fsPwdMnt: at("fs_struct", "pwd.mnt"),
    fsPwdDentry: at("fs_struct", "pwd.dentry"),
    fsRootMnt: at("fs_struct", "root.mnt"),
    fsRootDentry: at("fs_struct", "root.dentry"),
    filesFdt: at("files_struct", "fdt"),
    fdtMaxFds: at("fdtable", "max_fds"),
    fdtFd: at("fdtable", "fd"),
    fileMnt: at("file", "f_path.mnt"),
    fileDentry: at("file", "f_path.dentry"),
    dentryParent: at("dentry", "d_parent"),
    dentryName: at("dentry", "d_name.name"),
    vfsmountRoot: at("vfsmount", "mnt_root"),
    mountMnt: at("mount", "mnt"),
    mountParent: at("mount", "mnt_parent"),
    mountMountpoint: at("mount", "mnt_mountpoint"),
  };
}

/** The path program's maps: the engine's ring buffer and totals, its `uses` table and per-CPU event buffer. */
export interface PathMapFds {
  rb: number;
  tot: number;
  st: number;
  uses: number;
  buf: number;
  /** Counted uses' repeats by hash (u64 → u64). */
  seen: number;
  /** The prog array the program is in (at PATH_PROG): it tail-calls itself for a call's second use. */
  progs: number;
}

/**
 * sys_exit's path step when the path program is loaded (prog array `progs`): the work phase a first:SYSCALL
 * call starts is entered here (a tail call does not return), then the path program takes over. r6: ctx,
 * r8: the process's state. A tail call that fails (the array is empty) falls through to what follows.
 */
export function pathTail(a: EbpfAsm, progs: number): void {
  a.ldxMem(8, R1, R10, NEEDS).jmpImm("set", R1, ARG_BITS.first, "pt_work").ja("pt_call");
  a.label("pt_work").alu64Imm("or", R8, 1).ldxMem(8, R1, R10, ST_PTR).stxMem(8, R1, R8, 0);
  a.label("pt_call").mov64Reg(R1, R6).ldMapFd(R2, progs).mov64Imm(R3, PATH_PROG).call("tail_call");
}
