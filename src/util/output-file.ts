// Every file sysfence writes goes through here: `-o FILE`, `fmt -w`, `audit --patch -o` and the program
// cache. The rules (docs/files-and-installs.md, "Output files"):
// - a symlink is followed only as the kernel's protected_symlinks would: when it is owned by the caller,
//   by root or by its directory's owner, or does not sit in a sticky world-writable directory;
// - a regular file is replaced whole: a private temp file (0600, O_EXCL|O_NOFOLLOW) beside it, given the
//   old file's owner and mode, renamed over it — a symlink on the way stays a symlink;
// - anything else (a device, a FIFO, our own /proc/self/fd/N) is written in place, never renamed over;
// - a directory, a missing directory or an unwritable target is one clear error, and so is a FIFO nobody
//   reads (opened non-blocking first: a blocking open would wait for a reader forever);
// - checkOutputFile() makes these checks before a command starts its work (every -o, record's default).
import { randomBytes } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsyncSync,
  lstatSync,
  openSync,
  readlinkSync,
  realpathSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { SysfenceError } from "../errors.js";
import { systemErrorText } from "./errno.js";

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_TRUNC, O_APPEND, O_NONBLOCK } = constants;
const MAX_LINKS = 40; // the kernel's limit on links followed in one lookup
const S_ISVTX = 0o1000;

/** Where a write lands once links are followed. */
type Target =
  | { kind: "new"; path: string }
  | { kind: "regular"; path: string; stat: Stats }
  | { kind: "in-place"; path: string; stat?: Stats }
  | { kind: "own-fd"; fd: number };

function fail(path: string, why: string, cause?: unknown): never {
  throw new SysfenceError(
    "E_IO",
    `cannot write ${path}: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

const euid = (): number => process.geteuid?.() ?? -1;

/** protected_symlinks: may this caller follow the link at `link` (its lstat given)? */
export function mayFollowLink(link: string, st: Stats): boolean {
  if (st.uid === euid() || st.uid === 0) return true;
  const parent = statSync(dirname(link));
  const stickyWorldWritable = (parent.mode & S_ISVTX) !== 0 && (parent.mode & 0o002) !== 0;
  return !stickyWorldWritable || parent.uid === st.uid;
}

/** /proc/PID/fd or /proc/PID/task/TID/fd: its entries are the kernel's magic links to open files. */
function procFdOwner(dir: string): number | undefined {
  const m = /^\/proc\/(\d+)(?:\/task\/\d+)?\/fd$/.exec(dir);
  return m ? Number(m[1]) : undefined;
}

/** Follows `path` component by component, checking every symlink on the way. */
function resolveTarget(path: string): Target {
  let absolute: string;
  try {
    absolute = resolve(path); // a relative path needs the current directory, which may have been removed
  } catch (e) {
    fail(path, `the current directory no longer exists (${systemErrorText(e)}).`, e);
  }
  const pending = absolute.split("/").filter(Boolean);
  let prefix = "/";
  let links = 0;
  while (pending.length) {
    const name = pending.shift() as string;
    if (name === ".") continue;
    if (name === "..") {
      prefix = dirname(prefix);
      continue;
    }
    const here = join(prefix, name);
    const last = pending.length === 0;
    let st: Stats;
    try {
      st = lstatSync(here);
    } catch (e) {
      const code = errnoOf(e);
      if (code === "ENOENT" && last) return { kind: "new", path: here };
      if (code === "ENOENT") fail(path, `the directory ${here} does not exist.`, e);
      if (code === "ENOTDIR") fail(path, `${prefix} is not a directory.`, e);
      fail(path, `${systemErrorText(e)} (on ${here}).`, e);
    }
    if (st.isSymbolicLink()) {
      if (!mayFollowLink(here, st))
        fail(
          path,
          `${here} is a symlink owned by uid ${st.uid} in a sticky world-writable directory; sysfence does not follow it (as the kernel's protected_symlinks would not). Give the real path.`,
        );
      if (++links > MAX_LINKS) fail(path, `more than ${MAX_LINKS} symlinks (a loop?).`);
      const owner = procFdOwner(realpathSync(prefix));
      if (owner !== undefined && last) {
        // our own stdout, stderr or another open file: write through the descriptor itself
        if (owner === process.pid && /^\d+$/.test(name)) return { kind: "own-fd", fd: Number(name) };
        return { kind: "in-place", path: here };
      }
      const dest = readlinkSync(here);
      pending.unshift(...dest.split("/").filter(Boolean));
      if (isAbsolute(dest)) prefix = "/";
      continue;
    }
    if (!last) {
      if (!st.isDirectory()) fail(path, `${here} is not a directory.`);
      prefix = here;
      continue;
    }
    if (st.isDirectory()) fail(path, "it is a directory; give a file name.");
    if (st.isFile()) return { kind: "regular", path: here, stat: st };
    return { kind: "in-place", path: here, stat: st };
  }
  fail(path, "it is a directory; give a file name.");
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

const bytesOf = (data: string | Uint8Array): Uint8Array =>
  typeof data === "string" ? Buffer.from(data) : data;

/** FIFOs checked before a command's work, kept open until written: their reader must not see an early EOF. */
const heldFifos = new Map<string, number>();

/**
 * A FIFO with no reader would block open(O_WRONLY) forever: opened non-blocking first, which fails with
 * ENXIO then; while that descriptor is open a reader exists, so the blocking open returns at once.
 */
function probeFifo(shown: string, path: string): number | undefined {
  const held = heldFifos.get(path);
  if (held !== undefined) {
    heldFifos.delete(path);
    return held;
  }
  try {
    if (!statSync(path).isFIFO()) return undefined;
    return openSync(path, O_WRONLY | O_NONBLOCK);
  } catch (e) {
    const code = errnoOf(e);
    if (code === "ENXIO")
      fail(
        shown,
        `${path} is a FIFO that nobody is reading; start its reader first, or give a regular file.`,
        e,
      );
    if (code === "EACCES" || code === "EPERM") fail(shown, "permission denied.", e);
    fail(shown, `${systemErrorText(e)}.`, e);
  }
}

/** Writes into the existing object at `path` (device, FIFO, a file we may write but not replace). */
function writeInPlace(shown: string, path: string, data: Uint8Array, flags: number): void {
  const probe = probeFifo(shown, path);
  let fd: number;
  try {
    fd = openSync(path, O_WRONLY | flags);
  } catch (e) {
    const code = errnoOf(e);
    if (code === "ENXIO") fail(shown, `${path} is a socket or a FIFO nobody reads.`, e);
    if (code === "EACCES" || code === "EPERM") fail(shown, "permission denied.", e);
    fail(shown, `${systemErrorText(e)}.`, e);
  }
  try {
    writeAll(fd, data);
  } catch (e) {
    fail(shown, `${systemErrorText(e)} while writing.`, e);
  } finally {
    closeSync(fd);
    if (probe !== undefined) closeSync(probe);
  }
}

/**
 * Checks, before any work, that `path` can be written by writeOutputFile: its directory exists, is a
 * directory and is writable (or the file itself is), it is not a directory, and a FIFO has a reader. A
 * command that runs for an hour (record) fails now, not at the end.
 */
export function checkOutputFile(path: string): void {
  const target = resolveTarget(path);
  if (target.kind === "own-fd") return;
  if (target.kind === "in-place") {
    const probe = probeFifo(path, target.path);
    if (probe !== undefined) heldFifos.set(target.path, probe);
    else if (!writable(target.path)) fail(path, "permission denied.");
    return;
  }
  const dir = dirname(target.path);
  if (writable(dir)) return;
  if (target.kind === "regular" && writable(target.path)) return; // written in place
  fail(path, `permission denied in ${dir}.`);
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch (e) {
    const code = errnoOf(e);
    if (code === "EROFS") fail(path, `${dirname(path)} is on a read-only file system.`, e);
    return false;
  }
}

/**
 * Creates `dir/.name.RANDOM.tmp` (0600, O_EXCL|O_NOFOLLOW), writes `data`, lets `prepare` set owner and mode
 * on the open descriptor, and renames it to `dir/name`. Returns false (nothing left behind) when `prepare`
 * returns false; throws the underlying error otherwise. `sync` false skips the fsync before the rename: only
 * for a file whose reader detects a torn body itself (the private store's MAC'd entries).
 */
export function replaceFile(
  dir: string,
  name: string,
  data: Uint8Array,
  prepare: (fd: number) => boolean = () => true,
  sync = true,
): boolean {
  const tmp = join(dir, `.${name}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  let renamed = false;
  try {
    writeAll(fd, data);
    if (sync) fsyncSync(fd);
    if (!prepare(fd)) return false;
    closeSync(fd);
    renameSync(tmp, join(dir, name));
    renamed = true;
    return true;
  } finally {
    if (!renamed) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      try {
        unlinkSync(tmp);
      } catch {
        // never created or already gone
      }
    }
  }
}

function currentUmask(): number {
  const old = process.umask(0o022);
  process.umask(old);
  return old;
}

/**
 * Writes `data` to `path` whole, by the rules at the top of this file.
 */
export function writeOutputFile(path: string, data: string | Uint8Array): void {
  const bytes = bytesOf(data);
  const target = resolveTarget(path);
  if (target.kind === "own-fd") {
    try {
      writeAll(target.fd, bytes);
    } catch (e) {
      fail(path, `${systemErrorText(e)} while writing descriptor ${target.fd}.`, e);
    }
    return;
  }
  if (target.kind === "in-place") {
    // a regular file behind another process's fd link is appended to, never truncated
    const flags = target.stat?.isFile() ? O_APPEND : 0;
    writeInPlace(path, target.path, bytes, flags);
    return;
  }
  const dir = dirname(target.path);
  const name = basename(target.path);
  const old = target.kind === "regular" ? target.stat : undefined;
  try {
    const done = replaceFile(dir, name, bytes, (fd) => {
      if (old) {
        if (old.uid !== euid() || old.gid !== (process.getegid?.() ?? -1)) {
          try {
            fchownSync(fd, old.uid, old.gid);
          } catch {
            return false; // another user's file we may write: written in place below, keeping its owner
          }
        }
        fchmodSync(fd, old.mode & 0o7777);
      } else fchmodSync(fd, 0o666 & ~currentUmask());
      return true;
    });
    if (done) return;
  } catch (e) {
    const code = errnoOf(e);
    // a directory we cannot write into, holding a file we may write: write the file itself
    if (!(old && (code === "EACCES" || code === "EPERM"))) {
      if (code === "EACCES" || code === "EPERM") fail(path, `permission denied in ${dir}.`, e);
      if (code === "EROFS") fail(path, `${dir} is on a read-only file system.`, e);
      fail(path, `${systemErrorText(e)}.`, e);
    }
  }
  // reached only for an existing file we may write but not replace
  writeInPlace(path, target.path, bytes, O_TRUNC | O_NOFOLLOW);
}
