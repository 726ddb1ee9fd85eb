// How a call uses the paths it names (a profile's pathAccess, docs/profile-format.md): read, write, create
// or remove an entry, execute. An engine's adapter gives each path use these bits; the builder writes
// them as letters. Which argument of which call is a path, and what it means, is in PATH_USES.
import { dict } from "../util/dict.js";

/** Access bits of a path use (one event column). */
export const Access = {
  /** r: opened read-only, listed. */
  read: 1,
  /** w: opened for writing, truncated, its times, mode, owner or extended attributes changed. */
  write: 2,
  /** c: an entry created or removed at this path (creat, mkdir, unlink, rename's both paths, bind …). */
  create: 4,
  /** x: executed. */
  exec: 8,
  /**
   * Not an access: the path is relative to the calling process's current directory (a call without a
   * directory fd, or AT_FDCWD that strace did not decorate); the builder resolves it when it knows that.
   */
  relative: 16,
  /** Not an access: the path is a unix socket address ("unix:NAME"), relative when `relative` is set. */
  unix: 32,
  /**
   * m: only its metadata read or changed — stat-ed, access-ed, readlink-ed, chdir-ed into; its times, mode,
   * owner or extended attributes (Landlock confines none of these: the file layer leaves them out).
   */
  meta: 64,
  /**
   * Not an access: the path is absolute as the process named it (a file's, or a unix socket's), so it is
   * relative to the process's root; the builder puts the root a chroot gave the process in front of it.
   */
  rooted: 128,
} as const;

/** The bits that are accesses (the others say how to read the path). */
export const ACCESS_BITS = Access.read | Access.write | Access.create | Access.exec | Access.meta;

const LETTERS: [number, string][] = [
  [Access.create, "c"],
  [Access.meta, "m"],
  [Access.read, "r"],
  [Access.write, "w"],
  [Access.exec, "x"],
];

/** Access bits as a profile writes them: their letters in alphabetical order ("cmrwx"). */
export function accessLetters(bits: number): string {
  let s = "";
  for (const [b, l] of LETTERS) if (bits & b) s += l;
  return s;
}

/** A profile's letters as bits (unknown letters are ignored: read-profile rejects them). */
export function accessBits(letters: string): number {
  let bits = 0;
  for (const [b, l] of LETTERS) if (letters.includes(l)) bits |= b;
  return bits;
}

/**
 * A use's access bits when its call failed with EEXIST (mkdir, mknod, symlink, link's new name, rename
 * with RENAME_NOREPLACE, an O_CREAT|O_EXCL open onto a name that exists): the call created, opened or
 * changed nothing — it looked the name up and found it, a lookup (m) like a stat. Landlock checks nothing
 * for it (the kernel fails it before the Landlock hook), so no create or write is recorded.
 */
export function existingName(bits: number): number {
  return bits & ACCESS_BITS ? (bits & ~ACCESS_BITS) | Access.meta : bits;
}

/** Letters the union of two profiles' letters for one path has. */
export const unionLetters = (a: string, b: string): string => accessLetters(accessBits(a) | accessBits(b));

/** One path argument of a call. */
export interface PathUse {
  /** The argument holding the path (or the socket address). */
  arg: number;
  /** The argument holding the directory fd the path is relative to (-1: the current directory). */
  dirfd: number;
  /** The access (Access bits); 0: read from the open flags in argument `flags`. */
  access: number;
  /** The argument with open(2) flags (-1: none); `how`: openat2's struct open_how. */
  flags: number;
  how?: boolean;
}

const R = Access.read;
const W = Access.write;
const C = Access.create;
const X = Access.exec;
const M = Access.meta;
const use = (arg: number, access: number, dirfd = -1): PathUse => ({ arg, dirfd, access, flags: -1 });
const at = (arg: number, access: number): PathUse => use(arg, access, arg - 1);

/**
 * The path arguments of the calls that name files or socket addresses, and what each use means. A
 * symlink's target is not a path use (it is only stored, and resolved from the link's directory later).
 */
export const PATH_USES: Record<string, PathUse[]> = Object.assign(dict<PathUse[]>(), {
  open: [{ arg: 0, dirfd: -1, access: 0, flags: 1 }],
  openat: [{ arg: 1, dirfd: 0, access: 0, flags: 2 }],
  openat2: [{ arg: 1, dirfd: 0, access: 0, flags: 2, how: true }],
  creat: [use(0, W | C)],
  execve: [use(0, X)],
  execveat: [at(1, X)],
  stat: [use(0, M)],
  lstat: [use(0, M)],
  stat64: [use(0, M)],
  lstat64: [use(0, M)],
  newfstatat: [at(1, M)],
  fstatat64: [at(1, M)],
  statx: [at(1, M)],
  statfs: [use(0, M)],
  statfs64: [use(0, M)],
  access: [use(0, M)],
  faccessat: [at(1, M)],
  faccessat2: [at(1, M)],
  readlink: [use(0, M)],
  readlinkat: [at(1, M)],
  getxattr: [use(0, M)],
  lgetxattr: [use(0, M)],
  listxattr: [use(0, M)],
  llistxattr: [use(0, M)],
  chdir: [use(0, M)],
  chroot: [use(0, M)],
  truncate: [use(0, W)],
  truncate64: [use(0, W)],
  utime: [use(0, M)],
  utimes: [use(0, M)],
  futimesat: [at(1, M)],
  utimensat: [at(1, M)],
  chmod: [use(0, M)],
  fchmodat: [at(1, M)],
  fchmodat2: [at(1, M)],
  chown: [use(0, M)],
  lchown: [use(0, M)],
  fchownat: [at(1, M)],
  setxattr: [use(0, M)],
  lsetxattr: [use(0, M)],
  removexattr: [use(0, M)],
  lremovexattr: [use(0, M)],
  mkdir: [use(0, C)],
  mkdirat: [at(1, C)],
  mknod: [use(0, C)],
  mknodat: [at(1, C)],
  unlink: [use(0, C)],
  unlinkat: [at(1, C)],
  rmdir: [use(0, C)],
  rename: [use(0, C), use(1, C)],
  renameat: [at(1, C), at(3, C)],
  renameat2: [at(1, C), at(3, C)],
  link: [use(0, R), use(1, C)],
  linkat: [at(1, R), at(3, C)],
  symlink: [use(1, C)],
  symlinkat: [at(2, C)],
  connect: [use(1, R)],
  bind: [use(1, C)],
});

// open(2) flags, the same on x86, arm and riscv (the generic values)
const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_PATH = 0o10000000;
const FLAG_NAMES: Record<string, number> = {
  O_RDONLY: 0,
  O_WRONLY,
  O_RDWR,
  O_CREAT,
  O_TRUNC,
  O_PATH,
};

/**
 * The access an open's flags ask for: read and/or write by the access mode, write for O_TRUNC, create
 * for O_CREAT (strace does not say whether the file existed); O_PATH: a lookup (m) alone, whatever else is
 * set (the kernel ignores the access mode, O_CREAT and O_TRUNC with it, and Landlock checks nothing for
 * it). `text`: the flags as strace printed them —
 * a number (-X raw: "0x241", "0"), a symbolic expression ("O_WRONLY|O_CREAT|O_TRUNC"), or openat2's
 * struct ("{flags=…, mode=…, resolve=…}"). Unreadable flags: read.
 */
export function openAccess(text: string): number {
  let t = text.trim();
  if (t.startsWith("{")) t = /flags=([^,}]+)/.exec(t)?.[1]?.trim() ?? "";
  let flags = 0;
  for (const part of t.split("|")) {
    const p = part.trim();
    if (/^(0x[0-9a-f]+|0[0-7]*|[1-9]\d*)$/i.test(p))
      flags |= Number(p.startsWith("0") && !/^0x/i.test(p) ? Number.parseInt(p, 8) : p);
    else flags |= FLAG_NAMES[p] ?? 0;
  }
  if (flags & O_PATH) return M;
  const mode = flags & O_ACCMODE;
  let bits = mode === O_WRONLY ? W : mode === O_RDWR ? R | W : R;
  if (flags & O_TRUNC) bits |= W;
  if (flags & O_CREAT) bits |= C;
  return bits;
}

/**
 * A path made absolute from `base` (an absolute directory), `.` and `..` resolved lexically (a `..`
 * above the root stays at the root), repeated and trailing slashes dropped.
 */
export function resolvePath(base: string, path: string): string {
  return normalPath(path.startsWith("/") ? path : `${base}/${path}`);
}

/** An absolute path with `.`, `..`, repeated and trailing slashes resolved lexically. */
export function normalPath(path: string): string {
  if (!/\/\/|\/\.\.?(\/|$)|.\/$/.test(path)) return path;
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/**
 * An absolute path as a process whose root is `root` (a chroot gave it; undefined or "/": the recording's)
 * names it, as sysfence names it: under the root, a `..` never above it (the kernel stops there too).
 */
export function rootedPath(root: string | undefined, path: string): string {
  const p = normalPath(path);
  if (root === undefined || root === "/") return p;
  return p === "/" ? root : `${root}${p}`;
}

/**
 * A relative path from the directory `base` (as sysfence names it) of a process whose root is `root`:
 * within the root (base under it), a `..` never goes above the root; a directory outside the root (one
 * the process kept across its chroot) is walked up freely, as the kernel walks it.
 */
export function resolveIn(root: string | undefined, base: string, path: string): string {
  if (root === undefined || root === "/" || path.startsWith("/")) return resolvePath(base, path);
  if (base === root) return rootedPath(root, `/${path}`);
  if (base.startsWith(`${root}/`)) return rootedPath(root, `${base.slice(root.length)}/${path}`);
  return resolvePath(base, path);
}
