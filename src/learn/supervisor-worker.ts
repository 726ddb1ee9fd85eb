// The supervisor of a learning run, in a worker thread: receives each notified call on the listener,
// judges it (judge.ts) with the policy's own program (emulated) and its Landlock lists, answers it, and
// counts what was learned by thread, process image and argument values. Ends when every task under the
// filter is gone (POLLHUP) or when told to stop; then posts its counts (LearnCounts) to the main thread.
import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { decodeActionValue } from "../abi/action.js";
import { Emulator } from "../bpf/emulator.js";
import {
  loadNotifyCalls,
  type Notification,
  type NotifyCalls,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
} from "../install/notify-ffi.js";
import { Access, openAccess, PATH_USES, resolvePath } from "../record/path-access.js";
import { INTERESTING_ARGS } from "../record/profile.js";
import { argCount } from "../syscalls/args.js";
import { syscallName } from "../syscalls/table.js";
import { procStat } from "../util/proc-tree.js";
import { type Answer, judge, policyAnswer } from "./judge.js";
import { fileOfUse, landlockRefuses, reachesLandlock } from "./landlock-judge.js";
import type { LearnCounts, LearnedImage, SupervisorInput } from "./supervisor-types.js";
import { baseOf, readBytes, readString, realOf, sockaddrText } from "./task-memory.js";

export type { LearnCounts, LearnedImage, SupervisorInput } from "./supervisor-types.js";
export { sockaddrText } from "./task-memory.js";

const SOCK_STREAM = 1;
const O_CREAT = 0o100;
/** O_PATH: a descriptor for the path alone; Landlock checks no right for it. */
const O_PATH = 0o10000000;
const SIGKILL = 9;
const ENOENT = 2;

type Image = LearnedImage & { stale?: boolean; auxv?: string };

/** One supervision: the input, the listener's calls, the two programs, and what has been seen and counted. */
interface Supervisor {
  input: SupervisorInput;
  calls: NotifyCalls;
  control: Int32Array;
  emulator: Emulator;
  learner: Emulator;
  images: Map<number, Image>;
  /** Thread → process, as /proc says (forgotten for the other threads of a process at its exec). */
  tgids: Map<number, number>;
  /** Learned calls by "tid, image, name, v0, v1, v2": [calls, errors]. */
  counts: Map<string, [number, number]>;
  /** Paths by "path, access": uses. */
  paths: Map<string, number>;
  /** Processes seen under the filter (signals to them stay inside the sandbox). */
  seenTgids: Set<number>;
  out: LearnCounts;
  launched: boolean;
  nextImage: number;
}

/** A path or socket address a call names, with its access bits. */
type Use = { path: string; access: number };

function main(input: SupervisorInput): LearnCounts {
  const sv = startSupervisor(input);
  // loaded and bound: the program may start (its first notified call is answered at once)
  parentPort?.postMessage({ ready: true });
  for (;;) {
    if (Atomics.load(sv.control, 1) === 1) break;
    const p = sv.calls.poll(input.fd, 100);
    if (p === "hangup") break;
    if (p === "timeout") continue;
    const n = sv.calls.recv(input.fd);
    if (typeof n === "number") continue; // the task went away (ENOENT) or a signal (EINTR)
    notified(sv, n);
  }
  return finish(sv);
}

function startSupervisor(input: SupervisorInput): Supervisor {
  return {
    input,
    calls: loadNotifyCalls(),
    control: new Int32Array(input.control),
    emulator: new Emulator(input.program),
    learner: new Emulator(input.learning),
    images: new Map(),
    tgids: new Map(),
    counts: new Map(),
    paths: new Map(),
    seenTgids: new Set(),
    out: {
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
    },
    launched: false,
    nextImage: 1,
  };
}

/** One notified call: judged, answered, and counted when learned. */
function notified(sv: Supervisor, n: Notification): void {
  const { input, out } = sv;
  out.notified++;
  const name = n.arch === input.audit ? syscallName(input.arch, n.nr) : undefined;
  if (!sv.launched && n.pid === input.launcherPid) {
    // sysfence's launcher between its filter and the program's first instruction
    if (name === "execve" && Atomics.load(sv.control, 0) === 1) sv.launched = true;
    out.launcher++;
    sv.calls.send(input.fd, n.id, { continue: true });
    return;
  }
  if (n.arch !== input.audit) out.foreign++;
  // seccomp(SECCOMP_SET_MODE_FILTER, flags with NEW_LISTENER): the kernel refuses it (EBUSY) under ours
  if (name === "seccomp" && n.args[0] === 1n && (n.args[1] & BigInt(SECCOMP_FILTER_FLAG_NEW_LISTENER)) !== 0n)
    out.ownListener++;
  const data = { nr: n.nr, arch: n.arch, instructionPointer: n.ip, args: n.args };
  const action = decodeActionValue(sv.emulator.run(data).value);
  if (action.kind !== "allow" && decodeActionValue(sv.learner.run(data).value).kind !== "user-notif") {
    // a deliberate answer of the policy's (notified for the file or exec check only): given, not learned
    if (!answer(sv, n, policyAnswer(action))) out.gone++;
    return;
  }
  const uses = name ? pathUses(sv, n, name) : [];
  // the memory was read while the task waited in this call (not a reused pid)
  if (uses.length && !sv.calls.idValid(input.fd, n.id)) {
    out.gone++;
    return;
  }
  const outside = action.kind === "allow" ? signalOutside(sv, n, name) : undefined;
  if (outside !== undefined) uses.push({ path: `signal:${outside}`, access: 0 });
  const denied =
    outside !== undefined ||
    (action.kind === "allow" && tcpRefused(sv, n, name, uses)) ||
    (action.kind === "allow" && landlockDenies(sv, uses));
  const verdict = judge(name, action, denied, input.mode);
  const tgid = tgidOf(sv, n.pid);
  sv.seenTgids.add(tgid);
  if (name === "execve" || name === "execveat") {
    // the process becomes a new image (if the exec succeeds): read its exe again at its next call
    const img = sv.images.get(tgid);
    if (img) img.stale = true;
    for (const [tid, g] of sv.tgids) if (g === tgid && tid !== n.pid) sv.tgids.delete(tid);
  }
  if (!verdict.learned || !name) {
    if (!answer(sv, n, verdict.answer)) out.gone++;
    return;
  }
  const image = imageOf(sv, tgid);
  if (!answer(sv, n, verdict.answer)) {
    out.gone++;
    return;
  }
  learned(sv, n, name, image, verdict, uses);
}

/** Counts a learned call (by thread, image and values) and the paths it used. */
function learned(
  sv: Supervisor,
  n: Notification,
  name: string,
  image: number,
  verdict: ReturnType<typeof judge>,
  uses: Use[],
): void {
  const { out } = sv;
  out.learned++;
  if (verdict.learned === "landlock") out.landlock++;
  if (verdict.answer.kind !== "continue") out.answered++;
  const [v0, v1, v2] = values(n, name);
  const key = `${n.pid}\t${image}\t${name}\t${v0}\t${v1}\t${v2}`;
  const c = sv.counts.get(key) ?? [0, 0];
  c[0]++;
  if (verdict.answer.kind === "errno") c[1]++;
  sv.counts.set(key, c);
  for (const u of uses) {
    const k = `${u.path}\t${u.access}`;
    sv.paths.set(k, (sv.paths.get(k) ?? 0) + 1);
  }
}

/** The counts as the worker posts them. */
function finish(sv: Supervisor): LearnCounts {
  const { out } = sv;
  for (const [key, [n, errors]] of sv.counts) {
    const [tid, image, name, v0, v1, v2] = key.split("\t");
    out.calls.push([Number(tid), Number(image), name, v0, v1, v2, n, errors]);
  }
  for (const [key, n] of sv.paths) {
    const t = key.lastIndexOf("\t");
    out.paths.push([key.slice(0, t), Number(key.slice(t + 1)), n]);
  }
  return out;
}

function auxvOf(tgid: number): string | undefined {
  try {
    return readFileSync(`/proc/${tgid}/auxv`).toString("hex");
  } catch {
    return undefined;
  }
}

/** The process a thread belongs to (/proc/TID/status Tgid), remembered. */
function tgidOf(sv: Supervisor, tid: number): number {
  let g = sv.tgids.get(tid);
  if (g === undefined) {
    try {
      g = Number(/^Tgid:\s+(\d+)/m.exec(readFileSync(`/proc/${tid}/status`, "utf8"))?.[1] ?? tid);
    } catch {
      g = tid;
    }
    sv.tgids.set(tid, g);
  }
  return g;
}

/** The id of the image a process runs: its known one, or a new one after an exec. */
function imageOf(sv: Supervisor, tgid: number): number {
  const known = sv.images.get(tgid);
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
  const image = { id: sv.nextImage++, pid: tgid, exe, parent, auxv };
  sv.images.set(tgid, image);
  sv.out.images.push({ id: image.id, pid: tgid, exe, parent });
  return image.id;
}

/** Whether the policy's Landlock lists refuse one of the paths (where the layer reaches it). */
function landlockDenies(sv: Supervisor, uses: Use[]): boolean {
  const lists = sv.input.lists;
  return (
    lists !== undefined &&
    uses.some((u) => {
      const file = fileOfUse(u.path, u.access);
      return (
        file !== undefined &&
        reachesLandlock(file, u.access, existsSync) &&
        landlockRefuses(lists, file, u.access)
      );
    })
  );
}

/**
 * Whether the Landlock layer would refuse a TCP bind or connect: the port is not in the policy's list for
 * it (a list the policy does not have leaves that access unrestricted; UDP and unix sockets are not TCP).
 */
function tcpRefused(sv: Supervisor, n: Notification, name: string | undefined, uses: Use[]): boolean {
  const { input } = sv;
  const list = name === "bind" ? input.tcp?.bind : name === "connect" ? input.tcp?.connect : undefined;
  if (!list) return false;
  const port = /^inet6?:.*:(\d+)$/.exec(uses[0]?.path ?? "")?.[1];
  if (port === undefined || list.includes(Number(port))) return false;
  return sv.calls.socketType(tgidOf(sv, n.pid), Number(BigInt.asIntN(32, n.args[0]))) === SOCK_STREAM;
}

/**
 * With the policy's signal scope: the target of a signal call when it is outside the sandbox (a process
 * neither under this filter nor started from the launched program), as its exe; undefined otherwise.
 * Landlock refuses signals to processes outside the sender's domain.
 */
function signalOutside(sv: Supervisor, n: Notification, name: string | undefined): string | undefined {
  const { input, seenTgids } = sv;
  if (!input.signalScope || !name) return undefined;
  const target =
    name === "kill" || name === "rt_sigqueueinfo" || name === "tgkill" || name === "rt_tgsigqueueinfo"
      ? Number(BigInt.asIntN(32, n.args[0]))
      : name === "tkill"
        ? tgidOf(sv, Number(BigInt.asIntN(32, n.args[0])))
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
}

/** The paths (or socket addresses) a call names, each with its access bits. */
function pathUses(sv: Supervisor, n: Notification, name: string): Use[] {
  const uses = PATH_USES[name];
  if (!uses) return [];
  const found: Use[] = [];
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
    // the rules' /proc/self is the launched process's own directory: another process's is its /proc/PID
    const tgid = tgidOf(sv, n.pid);
    const path = realOf(tgid, resolvePath(base, raw), tgid === sv.input.launcherPid);
    let access = u.access;
    if (u.flags >= 0) {
      let flags = Number(n.args[u.flags] & 0xffffffffn);
      if (u.how) flags = readBytes(n.pid, n.args[u.flags], 8)?.readUInt32LE(0) ?? 0;
      access = flags & O_PATH ? Access.meta : openAccess(String(flags));
      // O_CREAT on a file that exists creates nothing
      if (flags & O_CREAT && existsSync(path)) access &= ~Access.create;
    }
    // mkdir, mknod, symlink and link onto a name that exists fail with EEXIST before Landlock is asked
    if (MAKES_ENTRY.has(name) && u.access & Access.create && lexists(path)) access &= ~Access.create;
    found.push({ path, access });
  }
  return found;
}

/** Calls whose path is an entry they make, never replace. */
const MAKES_ENTRY = new Set([
  "mkdir",
  "mkdirat",
  "mknod",
  "mknodat",
  "symlink",
  "symlinkat",
  "link",
  "linkat",
]);

/** Whether a directory entry is there (a dangling symlink is one). */
function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The values of the call's interesting arguments (at most three), as decimal text; "" for none. */
function values(n: Notification, name: string): [string, string, string] {
  const idx = INTERESTING_ARGS[name];
  const v: [string, string, string] = ["", "", ""];
  if (!idx || name === "clone3") return v;
  const count = argCount(name) ?? 6;
  for (let k = 0; k < idx.length && k < 3; k++) if (idx[k] < count) v[k] = n.args[idx[k]].toString();
  return v;
}

/** Gives the answer; false when the task is gone. A kill answer kills the process and fails the call. */
function answer(sv: Supervisor, n: Notification, a: Answer): boolean {
  const { input, calls } = sv;
  if (a.kind === "kill") {
    try {
      process.kill(tgidOf(sv, n.pid), SIGKILL);
      sv.out.killed++;
    } catch {
      // already gone
    }
    calls.send(input.fd, n.id, { error: ENOENT });
    return true;
  }
  const r = calls.send(input.fd, n.id, a.kind === "continue" ? { continue: true } : { error: a.errno });
  return r === 0;
}

if (parentPort) {
  const counts = main(workerData as SupervisorInput);
  parentPort.postMessage(counts);
}
