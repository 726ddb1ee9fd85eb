// The bpf engine's path events (path-programs.ts's PATH_EVENT records) as bpf.ts reads them: the path or
// socket address a call named, made absolute against the directory the kernel walked, or (absolute as the
// process named it) put under the process's root.
import { resolveIn, rootedPath } from "../../path-access.js";
import { inet6Text } from "../strace/decode.js";
import { COUNTED, DIR, PATH_HEADER, USE_KIND } from "./path-programs.js";

/** A path event as bpf.ts reads it (pathEvent). */
export interface PathEvent {
  tgid: number;
  image: number;
  result: number;
  /** The use's access bits (openAccess of the flags when the use has no fixed access). */
  flags: bigint;
  access: number;
  kind: number;
  dir: number;
  /** The directory a relative path is relative to (absolute), when it was walked. */
  base?: string;
  /** The path or socket address bytes (none: a successful exec's directory alone). */
  bytes: Buffer;
  /** A counted use's hash: its repeats are counted in the kernel under it (path-programs.ts). */
  hash?: bigint;
}

/** Reads a path event's record (PATH_EVENT: header, path, the directory's names leaf first). */
export function pathEvent(r: Buffer): PathEvent | undefined {
  if (r.length < PATH_HEADER) return undefined;
  const len = r.readUInt32LE(28);
  const at = PATH_HEADER + len;
  if (r.length < at) return undefined;
  const e: PathEvent = {
    tgid: r.readUInt32LE(4),
    image: r.readUInt32LE(8),
    result: r.readInt32LE(12),
    flags: r.readBigUInt64LE(16),
    access: r[24],
    kind: r[25],
    dir: r[26],
    bytes: r.subarray(PATH_HEADER, at),
  };
  if (r[COUNTED] === 1 && r.length >= at + 8) e.hash = r.readBigUInt64LE(at);
  else if (e.dir === DIR.walked) {
    const names = at < r.length ? r.toString("utf8", at, r.length - 1).split("\0") : [];
    e.base = `/${names.reverse().join("/")}`;
  }
  return e;
}

/**
 * The path (or socket address: "unix:/run/x", "unix:@name", "inet:1.2.3.4:80", "inet6:[::1]:80") an event
 * names, made absolute against its directory; undefined for none (an empty path, another address family),
 * "relative" when it is relative and its directory could not be walked. `root`: the process's root, when a
 * chroot gave it one (bpf.ts keeps it): an absolute path is under it, and a `..` in a relative one does not
 * go above it. The walked directory is already named as sysfence sees it (the walk goes past the root).
 */
export function eventPath(e: PathEvent, root?: string): string | undefined | { relative: string } {
  const b = e.bytes;
  if (e.kind === USE_KIND.sockaddr) {
    if (b.length < 2) return undefined;
    const family = b.readUInt16LE(0);
    if (family === 1) {
      if (b.length < 3) return undefined;
      if (b[2] === 0) {
        const end = b.indexOf(0, 3);
        return `unix:@${b.toString("utf8", 3, end < 0 ? b.length : end)}`;
      }
      const end = b.indexOf(0, 2);
      const p = b.toString("utf8", 2, end < 0 ? b.length : end);
      if (p.startsWith("/")) return `unix:${rootedPath(root, p)}`;
      return e.base === undefined ? { relative: `unix:${p}` } : `unix:${resolveIn(root, e.base, p)}`;
    }
    if (family === 2 && b.length >= 8) return `inet:${[...b.subarray(4, 8)].join(".")}:${b.readUInt16BE(2)}`;
    if (family === 10 && b.length >= 24) return inet6Text([...b.subarray(8, 24)], b.readUInt16BE(2));
    return undefined;
  }
  const end = b.indexOf(0);
  const p = b.toString("utf8", 0, end < 0 ? b.length : end);
  if (p === "") return undefined;
  // a chdir or chroot that succeeded has made the directory walked (at its return) the one it named
  const moved = (e.kind === USE_KIND.chdir || e.kind === USE_KIND.chroot) && e.result === 0;
  if (moved && e.base !== undefined) return e.base;
  if (p.startsWith("/")) return rootedPath(root, p);
  if (e.base === undefined) return { relative: p };
  return resolveIn(root, e.base, p);
}
