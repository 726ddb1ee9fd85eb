// The kernel calls of seccomp user notification (learning mode): the listener's ioctls, poll, and the
// pidfd calls that take the listener from the launcher. Bound through koffi on first use, in the thread
// that uses them (the supervisor runs in a worker thread with its own binding). Constants from
// include/uapi/linux/seccomp.h, include/uapi/asm-generic/unistd.h and include/uapi/asm-generic/poll.h.
import { createRequire } from "node:module";
import { SysfenceError } from "../errors.js";

export const SECCOMP_GET_NOTIF_SIZES = 3;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5;
export const SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1;
/** _IOWR('!', 0, struct seccomp_notif), _IOWR('!', 1, struct seccomp_notif_resp), _IOW('!', 2, __u64). */
const NOTIF_RECV = 0xc0502100;
const NOTIF_SEND = 0xc0182101;
const NOTIF_ID_VALID = 0x40082102;
/** sizeof(struct seccomp_notif) and sizeof(struct seccomp_notif_resp) on every architecture. */
export const NOTIF_SIZE = 80;
export const RESP_SIZE = 24;
const POLLIN = 0x1;
const POLLHUP = 0x10;
/** pidfd_open and pidfd_getfd: one number on every architecture (asm-generic/unistd.h 434, 438). */
const NR_PIDFD_OPEN = 434;
const NR_PIDFD_GETFD = 438;

/** One notification: struct seccomp_notif, decoded. */
export interface Notification {
  id: bigint;
  pid: number;
  nr: number;
  arch: number;
  ip: bigint;
  args: bigint[];
}

/** What a listener's poll found: a notification waiting, every task gone, or nothing yet. */
export type PollResult = "ready" | "hangup" | "timeout";

/** The calls a supervisor makes on its listener. */
export interface NotifyCalls {
  /** Waits up to ms for the listener. */
  poll(fd: number, ms: number): PollResult;
  /** SECCOMP_IOCTL_NOTIF_RECV: the next notification, or the errno (ENOENT: its task is gone; EINTR). */
  recv(fd: number): Notification | number;
  /** SECCOMP_IOCTL_NOTIF_SEND: continue the call, or answer it (val, -errno); 0 or the errno (ENOENT: gone). */
  send(fd: number, id: bigint, answer: { continue: true } | { error: number; val?: bigint }): number;
  /** SECCOMP_IOCTL_NOTIF_ID_VALID: whether the notification's task is still in that call. */
  idValid(fd: number, id: bigint): boolean;
  /** pidfd_open(pid) then pidfd_getfd(fd): a copy of another process's descriptor in this one. */
  takeFd(pid: number, fd: number): number;
  /** The type (SO_TYPE: SOCK_STREAM 1, SOCK_DGRAM 2 …) of process pid's socket fd; undefined if unknown. */
  socketType(pid: number, fd: number): number | undefined;
  close(fd: number): void;
  errno(): number;
}

let bound: NotifyCalls | undefined;

type Lib = ReturnType<typeof import("koffi")["load"]>;

/** The listener's calls (poll and the SECCOMP_IOCTL_NOTIF_* ioctls), bound in `lib`, each with its buffer. */
function listenerCalls(
  lib: Lib,
  errno: () => number,
): Pick<NotifyCalls, "poll" | "recv" | "send" | "idValid"> {
  const ioctl = lib.func("int ioctl(int fd, unsigned long req, void *arg)");
  const poll = lib.func("int poll(void *fds, unsigned long n, int ms)");
  const pollBuf = Buffer.alloc(8);
  const notif = Buffer.alloc(NOTIF_SIZE);
  const resp = Buffer.alloc(RESP_SIZE);
  const idBuf = Buffer.alloc(8);
  return {
    poll(fd, ms) {
      pollBuf.writeInt32LE(fd, 0);
      pollBuf.writeInt16LE(POLLIN, 4);
      pollBuf.writeInt16LE(0, 6);
      const r = poll(pollBuf, 1, ms) as number;
      if (r <= 0) return "timeout";
      const revents = pollBuf.readInt16LE(6);
      if (revents & POLLIN) return "ready";
      return revents & POLLHUP ? "hangup" : "timeout";
    },
    recv(fd) {
      notif.fill(0); // the kernel refuses a buffer that is not zeroed (EINVAL)
      if ((ioctl(fd, NOTIF_RECV, notif) as number) < 0) return errno();
      const args: bigint[] = [];
      for (let i = 0; i < 6; i++) args.push(notif.readBigUInt64LE(32 + 8 * i));
      return {
        id: notif.readBigUInt64LE(0),
        pid: notif.readUInt32LE(8),
        nr: notif.readInt32LE(16),
        arch: notif.readUInt32LE(20),
        ip: notif.readBigUInt64LE(24),
        args,
      };
    },
    send(fd, id, answer) {
      resp.fill(0);
      resp.writeBigUInt64LE(id, 0);
      if ("continue" in answer) resp.writeUInt32LE(SECCOMP_USER_NOTIF_FLAG_CONTINUE, 20);
      else {
        resp.writeBigInt64LE(answer.val ?? 0n, 8);
        resp.writeInt32LE(-answer.error, 16);
      }
      return (ioctl(fd, NOTIF_SEND, resp) as number) < 0 ? errno() : 0;
    },
    idValid(fd, id) {
      idBuf.writeBigUInt64LE(id, 0);
      return (ioctl(fd, NOTIF_ID_VALID, idBuf) as number) === 0;
    },
  };
}

/** The calls that reach into another process's descriptors (pidfd_open, pidfd_getfd), bound in `lib`. */
function pidfdCalls(
  lib: Lib,
  errno: () => number,
  close: (fd: number) => unknown,
): Pick<NotifyCalls, "takeFd" | "socketType"> {
  const syscall3 = lib.func("long syscall(long nr, long a, long b, long c)");
  const getsockopt = lib.func("int getsockopt(int fd, int level, int name, void *value, void *len)");
  return {
    takeFd(pid, fd) {
      const pidfd = Number(syscall3(NR_PIDFD_OPEN, pid, 0, 0));
      if (pidfd < 0)
        throw new SysfenceError("E_LEARN", `pidfd_open(${pid}) failed with errno ${errno()} (Linux 5.3+).`);
      const copy = Number(syscall3(NR_PIDFD_GETFD, pidfd, fd, 0));
      const e = errno();
      close(pidfd);
      if (copy < 0)
        throw new SysfenceError(
          "E_LEARN",
          `pidfd_getfd could not take the launcher's listener (errno ${e}${e === 1 ? ": not permitted — a Yama ptrace_scope of 2 or more forbids it" : e === 38 ? ": the kernel needs Linux 5.6" : ""}).`,
        );
      return copy;
    },
    socketType(pid, fd) {
      const pidfd = Number(syscall3(NR_PIDFD_OPEN, pid, 0, 0));
      if (pidfd < 0) return undefined;
      const copy = Number(syscall3(NR_PIDFD_GETFD, pidfd, fd, 0));
      close(pidfd);
      if (copy < 0) return undefined;
      const value = Buffer.alloc(4);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(4, 0);
      // SOL_SOCKET 1, SO_TYPE 3 (asm-generic/socket.h; the same on x86, arm, riscv)
      const r = getsockopt(copy, 1, 3, value, len) as number;
      close(copy);
      return r === 0 ? value.readInt32LE(0) : undefined;
    },
  };
}

/** Binds the calls (once per thread: koffi functions are not shared between worker threads). */
export function loadNotifyCalls(): NotifyCalls {
  if (bound) return bound;
  if (process.platform !== "linux")
    throw new SysfenceError("E_SECCOMP_UNAVAILABLE", `seccomp needs Linux; this is ${process.platform}.`);
  const require = createRequire(import.meta.url);
  const koffi = require("koffi") as typeof import("koffi");
  const lib = koffi.load("libc.so.6");
  const close = lib.func("int close(int fd)");
  const errnoLoc = lib.func("int *__errno_location()");
  const errno = () => koffi.decode(errnoLoc(), "int") as number;
  bound = {
    ...listenerCalls(lib, errno),
    ...pidfdCalls(lib, errno, close),
    close: (fd) => {
      close(fd);
    },
    errno,
  };
  return bound;
}
