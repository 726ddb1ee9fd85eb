// The supervisor of a learning run, in a worker thread: receives each notified call on the listener,
// judges it (judge.ts) with the policy's own program (emulated) and its Landlock lists, answers it, and
// counts what was learned by thread, process image and argument values. Ends when every task under the
// filter is gone (POLLHUP) or when told to stop; then posts its counts (LearnCounts) to the main thread.
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, readSync, realpathSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { decodeActionValue } from "../abi/action.js";
import { Emulator } from "../bpf/emulator.js";
import type { Insn } from "../bpf/insn.js";
import {
  loadNotifyCalls,
  type Notification,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
} from "../install/notify-ffi.js";
import { inet6Text } from "../record/engines/strace/decode.js";
import { Access, openAccess, PATH_USES, resolvePath } from "../record/path-access.js";
import { INTERESTING_ARGS } from "../record/profile.js";
import type { ArchName } from "../syscalls/arches.js";
import { argCount } from "../syscalls/args.js";
import { syscallName } from "../syscalls/table.js";
import { procStat } from "../util/proc-tree.js";
import { type Answer, judge, type LearnMode, policyAnswer } from "./judge.js";
import { type LandlockLists, landlockRefuses, reachesLandlock } from "./landlock-judge.js";

/** What the main thread gives the worker. */
export interface SupervisorInput {
  fd: number;
  launcherPid: number;
  audit: number;
  arch: ArchName;
  /** The policy's program as it would be installed (without the learning prologue). */
  program: Insn[];
  /** The learning policy's program (without the prologue): USER_NOTIF marks the answers that are learned. */
  learning: Insn[];
  /** The policy's Landlock lists when the layer would be enforced here; absent: no file judging. */
  lists?: LandlockLists;
  /** The policy's TCP port lists the layer would enforce here (an absent list: that access unrestricted). */
  tcp?: { bind?: number[]; connect?: number[] };
  /** The policy scopes signals to its sandbox and the kernel would enforce it: signal calls are judged. */
  signalScope?: boolean;
  mode: LearnMode;
  /** [0]: 1 once the launcher may exec (SIGCONT sent); [1]: 1 to stop now. */
  control: SharedArrayBuffer;
}

/** A process image the learned calls came from. */
export interface LearnedImage {
  id: number;
  pid: number;
  exe: string;
  parent?: number;
}

/** What the worker posts when it ends. */
export interface LearnCounts {
  images: LearnedImage[];
  /** [tid, image id, syscall, v0, v1, v2 ("" none), calls, errors] */
  calls: [number, number, string, string, string, string, number, number][];
  /** [path, Access bits, uses] */
  paths: [string, number, number][];
  /** Calls notified in all; the launcher's own; learned; answered as the policy; tasks gone before the answer. */
  notified: number;
  launcher: number;
  learned: number;
  landlock: number;
  answered: number;
  gone: number;
  foreign: number;
  /** Kills the supervisor gave (a kill answer), by pid. */
  killed: number;
  /** The program's own attempts to install a filter with a listener (the kernel answers EBUSY: one per chain). */
  ownListener: number;
}

const AT_FDCWD = -100;
const SOCK_STREAM = 1;
const O_CREAT = 0o100;
const SIGKILL = 9;
const ENOENT = 2;

function main(input: SupervisorInput): LearnCounts {
  const calls = loadNotifyCalls();
  const control = new Int32Array(input.control);
  const emulator = new Emulator(input.program);
  const learner = new Emulator(input.learning);
  const images = new Map<number, LearnedImage & { stale?: boolean; auxv?: string }>();
  const auxvOf = (tgid: number): string | undefined => {
    try {
      return readFileSync(`/proc/${tgid}/auxv`).toString("hex");
    } catch {
      return undefined;
    }
  };
  const tgids = new Map<number, number>();
  const counts = new Map<string, [number, number]>();
  const paths = new Map<string, number>();
  const out: LearnCounts = {
    images: [],
    calls: [],
    paths: [],
    notified: 0,
    launcher: 0,
    learned: 0,
    landlock: 0,
    answered: 0,
    gone: 0,
    foreign: 0,
    killed: 0,
    ownListener: 0,
  };
  let launched = false;
  let nextImage = 1;
  // loaded and bound: the program may start (its first notified call is answered at once)
  parentPort?.postMessage({ ready: true });

  const tgidOf = (tid: number): number => {
    let g = tgids.get(tid);
    if (g === undefined) {
      try {
        g = Number(/^Tgid:\s+(\d+)/m.exec(readFileSync(`/proc/${tid}/status`, "utf8"))?.[1] ?? tid);
      } catch {
        g = tid;
      }
      tgids.set(tid, g);
    }
    return g;
  };
  const imageOf = (tgid: number): number => {
    const known = images.get(tgid);
    if (known && !known.stale) return known.id;
    // an exec that failed (a PATH search, a missing file) left the image as it was: its auxiliary vector,
    // which each exec writes anew (AT_RANDOM, AT_ENTRY …), says so
    const auxv = auxvOf(tgid);
    if (known && auxv !== undefined && auxv === known.auxv) {
      known.stale = false;
      return known.id;
    }
    let exe = known?.exe ?? "?";
    let parent: number | undefined;
    try {
      exe = readlinkSync(`/proc/${tgid}/exe`);
      parent = procStat(tgid)?.ppid;
    } catch {
      // gone: keep what was known
    }
    const image = { id: nextImage++, pid: tgid, exe, parent, auxv };
    images.set(tgid, image);
    out.images.push({ id: image.id, pid: tgid, exe, parent });
    return image.id;
  };

  /** A NUL-terminated string of the task's memory at addr (up to 4096 bytes), or undefined. */
  const readString = (pid: number, addr: bigint): string | undefined => {
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
  };
  const readBytes = (pid: number, addr: bigint, len: number): Buffer | undefined => {
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
  };
  const baseOf = (pid: number, dirfd: number): string | undefined => {
    try {
      return readlinkSync(dirfd === AT_FDCWD || dirfd < 0 ? `/proc/${pid}/cwd` : `/proc/${pid}/fd/${dirfd}`);
    } catch {
      return undefined;
    }
  };

  /**
   * A path as the kernel resolves it for the task (Landlock judges the file reached, not the name): symlinks
   * followed (a missing file: its directory's), /proc/self as the task's own; /proc/PID of the task kept as
   * /proc/self, as a policy writes it.
   */
  const realOf = (tid: number, path: string): string => {
    const own = `/proc/${tgidOf(tid)}`;
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
    return real === own || real.startsWith(`${own}/`) ? `/proc/self${real.slice(own.length)}` : real;
  };

  /**
   * Whether the Landlock layer would refuse a TCP bind or connect: the port is not in the policy's list for
   * it (a list the policy does not have leaves that access unrestricted; UDP and unix sockets are not TCP).
   */
  const tcpRefused = (n: Notification, name: string | undefined, uses: { path: string }[]): boolean => {
    const list = name === "bind" ? input.tcp?.bind : name === "connect" ? input.tcp?.connect : undefined;
    if (!list) return false;
    const port = /^inet6?:.*:(\d+)$/.exec(uses[0]?.path ?? "")?.[1];
    if (port === undefined || list.includes(Number(port))) return false;
    return calls.socketType(tgidOf(n.pid), Number(BigInt.asIntN(32, n.args[0]))) === SOCK_STREAM;
  };

  /**
   * With the policy's signal scope: the target of a signal call when it is outside the sandbox (a process
   * neither under this filter nor started from the launched program), as its exe; undefined otherwise.
   * Landlock refuses signals to processes outside the sender's domain.
   */
  const seenTgids = new Set<number>();
  const signalOutside = (n: Notification, name: string | undefined): string | undefined => {
    if (!input.signalScope || !name) return undefined;
    const target =
      name === "kill" || name === "rt_sigqueueinfo" || name === "tgkill" || name === "rt_tgsigqueueinfo"
        ? Number(BigInt.asIntN(32, n.args[0]))
        : name === "tkill"
          ? tgidOf(Number(BigInt.asIntN(32, n.args[0])))
          : 0;
    // (0, -1 and process groups are not judged: a learning run cannot tell which processes they reach)
    if (target <= 0 || seenTgids.has(target)) return undefined;
    for (let p = target, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === input.launcherPid || seenTgids.has(p)) return undefined;
      const parent = procStat(p)?.ppid;
      if (parent === undefined) return undefined; // gone: nothing to judge
      p = parent;
    }
    try {
      return readlinkSync(`/proc/${target}/exe`);
    } catch {
      return `pid ${target}`;
    }
  };

  /** The paths (or socket addresses) a call names, each with its access bits. */
  const pathUses = (n: Notification, name: string): { path: string; access: number }[] => {
    const uses = PATH_USES[name];
    if (!uses) return [];
    const found: { path: string; access: number }[] = [];
    for (const u of uses) {
      if (name === "connect" || name === "bind") {
        const addr = readBytes(n.pid, n.args[1], Number(n.args[2] & 0xffffn));
        const text = addr && sockaddrText(addr);
        if (text) found.push({ path: text, access: u.access });
        continue;
      }
      const raw = readString(n.pid, n.args[u.arg]);
      if (raw === undefined) continue;
      const dirfd = u.dirfd >= 0 ? Number(BigInt.asIntN(32, n.args[u.dirfd])) : -1;
      const base = raw.startsWith("/") ? "/" : baseOf(n.pid, dirfd);
      if (base === undefined) continue;
      const path = realOf(n.pid, resolvePath(base, raw));
      let access = u.access;
      if (u.flags >= 0) {
        let flags = Number(n.args[u.flags] & 0xffffffffn);
        if (u.how) flags = readBytes(n.pid, n.args[u.flags], 8)?.readUInt32LE(0) ?? 0;
        access = openAccess(String(flags));
        // O_CREAT on a file that exists creates nothing
        if (flags & O_CREAT && existsSync(path)) access &= ~Access.create;
      }
      found.push({ path, access });
    }
    return found;
  };

  const values = (n: Notification, name: string): [string, string, string] => {
    const idx = INTERESTING_ARGS[name];
    const v: [string, string, string] = ["", "", ""];
    if (!idx || name === "clone3") return v;
    const count = argCount(name) ?? 6;
    for (let k = 0; k < idx.length && k < 3; k++) if (idx[k] < count) v[k] = n.args[idx[k]].toString();
    return v;
  };

  const answer = (n: Notification, a: Answer): boolean => {
    if (a.kind === "kill") {
      try {
        process.kill(tgidOf(n.pid), SIGKILL);
        out.killed++;
      } catch {
        // already gone
      }
      calls.send(input.fd, n.id, { error: ENOENT });
      return true;
    }
    const r = calls.send(input.fd, n.id, a.kind === "continue" ? { continue: true } : { error: a.errno });
    return r === 0;
  };

  for (;;) {
    if (Atomics.load(control, 1) === 1) break;
    const p = calls.poll(input.fd, 100);
    if (p === "hangup") break;
    if (p === "timeout") continue;
    const n = calls.recv(input.fd);
    if (typeof n === "number") continue; // the task went away (ENOENT) or a signal (EINTR)
    out.notified++;
    const name = n.arch === input.audit ? syscallName(input.arch, n.nr) : undefined;
    if (!launched && n.pid === input.launcherPid) {
      // sysfence's launcher between its filter and the program's first instruction
      if (name === "execve" && Atomics.load(control, 0) === 1) launched = true;
      out.launcher++;
      calls.send(input.fd, n.id, { continue: true });
      continue;
    }
    if (n.arch !== input.audit) out.foreign++;
    // seccomp(SECCOMP_SET_MODE_FILTER, flags with NEW_LISTENER): the kernel refuses it (EBUSY) under ours
    if (
      name === "seccomp" &&
      n.args[0] === 1n &&
      (n.args[1] & BigInt(SECCOMP_FILTER_FLAG_NEW_LISTENER)) !== 0n
    )
      out.ownListener++;
    const data = { nr: n.nr, arch: n.arch, instructionPointer: n.ip, args: n.args };
    const action = decodeActionValue(emulator.run(data).value);
    if (action.kind !== "allow" && decodeActionValue(learner.run(data).value).kind !== "user-notif") {
      // a deliberate answer of the policy's (notified for the file or exec check only): given, not learned
      if (!answer(n, policyAnswer(action))) out.gone++;
      continue;
    }
    const uses = name ? pathUses(n, name) : [];
    // the memory was read while the task waited in this call (not a reused pid)
    if (uses.length && !calls.idValid(input.fd, n.id)) {
      out.gone++;
      continue;
    }
    const outside = action.kind === "allow" ? signalOutside(n, name) : undefined;
    if (outside !== undefined) uses.push({ path: `signal:${outside}`, access: 0 });
    const denied =
      outside !== undefined ||
      (action.kind === "allow" && tcpRefused(n, name, uses)) ||
      (action.kind === "allow" &&
        input.lists !== undefined &&
        uses.some(
          (u) =>
            reachesLandlock(u.path, u.access, existsSync) &&
            landlockRefuses(input.lists as LandlockLists, u.path, u.access),
        ));
    const verdict = judge(name, action, denied, input.mode);
    const tgid = tgidOf(n.pid);
    seenTgids.add(tgid);
    if (name === "execve" || name === "execveat") {
      // the process becomes a new image (if the exec succeeds): read its exe again at its next call
      const img = images.get(tgid);
      if (img) img.stale = true;
      for (const [tid, g] of tgids) if (g === tgid && tid !== n.pid) tgids.delete(tid);
    }
    if (!verdict.learned || !name) {
      if (!answer(n, verdict.answer)) out.gone++;
      continue;
    }
    const image = imageOf(tgid);
    if (!answer(n, verdict.answer)) {
      out.gone++;
      continue;
    }
    out.learned++;
    if (verdict.learned === "landlock") out.landlock++;
    if (verdict.answer.kind !== "continue") out.answered++;
    const [v0, v1, v2] = values(n, name);
    const key = `${n.pid}\t${image}\t${name}\t${v0}\t${v1}\t${v2}`;
    const c = counts.get(key) ?? [0, 0];
    c[0]++;
    if (verdict.answer.kind === "errno") c[1]++;
    counts.set(key, c);
    for (const u of uses) {
      const k = `${u.path}\t${u.access}`;
      paths.set(k, (paths.get(k) ?? 0) + 1);
    }
  }
  for (const [key, [n, errors]] of counts) {
    const [tid, image, name, v0, v1, v2] = key.split("\t");
    out.calls.push([Number(tid), Number(image), name, v0, v1, v2, n, errors]);
  }
  for (const [key, n] of paths) {
    const t = key.lastIndexOf("\t");
    out.paths.push([key.slice(0, t), Number(key.slice(t + 1)), n]);
  }
  return out;
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

if (parentPort) {
  const counts = main(workerData as SupervisorInput);
  parentPort.postMessage(counts);
}
