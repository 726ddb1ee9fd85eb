// What the supervisor reads of a notified task (learn/supervisor-worker.ts): strings and bytes of its memory
// through /proc/PID/mem (read while the task waits in its call), the directory a relative path starts from,
// the path as the kernel resolves it, and socket addresses as a profile writes them.
import { closeSync, openSync, readlinkSync, readSync, realpathSync } from "node:fs";
import { inet6Text } from "../record/engines/strace/decode.js";

const AT_FDCWD = -100;

/** A NUL-terminated string of the task's memory at addr (up to 4096 bytes), or undefined. */
export function readString(pid: number, addr: bigint): string | undefined {
  if (addr === 0n) return undefined;
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/mem`, "r");
  } catch {
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    let at = Number(addr);
    for (let total = 0; total < 4096; ) {
      const room = 4096 - (at % 4096);
      const buf = Buffer.alloc(Math.min(room, 4096 - total));
      let n = 0;
      try {
        n = readSync(fd, buf, 0, buf.length, at);
      } catch {
        break;
      }
      if (n <= 0) break;
      const nul = buf.subarray(0, n).indexOf(0);
      if (nul >= 0) {
        chunks.push(buf.subarray(0, nul));
        return Buffer.concat(chunks).toString("utf8");
      }
      chunks.push(buf.subarray(0, n));
      total += n;
      at += n;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Up to 128 bytes of the task's memory at addr, or undefined. */
export function readBytes(pid: number, addr: bigint, len: number): Buffer | undefined {
  if (addr === 0n || len <= 0) return undefined;
  try {
    const fd = openSync(`/proc/${pid}/mem`, "r");
    try {
      const buf = Buffer.alloc(Math.min(len, 128));
      const n = readSync(fd, buf, 0, buf.length, Number(addr));
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** The directory a relative path is resolved against: the task's cwd (AT_FDCWD) or the directory dirfd holds. */
export function baseOf(pid: number, dirfd: number): string | undefined {
  try {
    return readlinkSync(dirfd === AT_FDCWD || dirfd < 0 ? `/proc/${pid}/cwd` : `/proc/${pid}/fd/${dirfd}`);
  } catch {
    return undefined;
  }
}

/**
 * A path as the kernel resolves it for the task (Landlock judges the file reached, not the name): symlinks
 * followed (a missing file: its directory's), /proc/self as the task's own; /proc/PID of the task kept as
 * /proc/self, as a policy writes it (tgid: the task's process) — when `selfIsOwn`: the policy's /proc/self
 * is the launched process's directory (run opens it before the exec), so another process's own entries are
 * named /proc/PID, which no rule grants.
 */
export function realOf(tgid: number, path: string, selfIsOwn = true): string {
  const own = `/proc/${tgid}`;
  const named = path === "/proc/self" || path.startsWith("/proc/self/") ? own + path.slice(10) : path;
  let real = named;
  try {
    real = realpathSync(named);
  } catch {
    const i = named.lastIndexOf("/");
    try {
      real = `${realpathSync(named.slice(0, i) || "/")}/${named.slice(i + 1)}`.replace(/^\/\//, "/");
    } catch {
      // neither exists: as named
    }
  }
  return selfIsOwn && (real === own || real.startsWith(`${own}/`))
    ? `/proc/self${real.slice(own.length)}`
    : real;
}

/** A socket address as a profile writes it ("unix:/run/x", "inet:1.2.3.4:80", "inet6:[::1]:80"). */
export function sockaddrText(b: Buffer): string | undefined {
  if (b.length < 2) return undefined;
  const family = b.readUInt16LE(0);
  if (family === 1) {
    const rest = b.subarray(2);
    if (rest.length === 0) return undefined;
    if (rest[0] === 0) return `unix:@${rest.subarray(1).toString("utf8").replace(/\0.*$/s, "")}`;
    const nul = rest.indexOf(0);
    return `unix:${rest.subarray(0, nul < 0 ? rest.length : nul).toString("utf8")}`;
  }
  if (family === 2 && b.length >= 8) return `inet:${[...b.subarray(4, 8)].join(".")}:${b.readUInt16BE(2)}`;
  if (family === 10 && b.length >= 24) {
    return inet6Text([...b.subarray(8, 24)], b.readUInt16BE(2));
  }
  return undefined;
}
