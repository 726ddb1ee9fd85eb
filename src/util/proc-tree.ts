// Process trees from /proc: a recording's program and everything it started.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Parent pid and process group of a live process, or undefined when it is gone. */
export function procStat(
  pid: number,
): { ppid: number; pgrp: number; state: string; tpgid: number; cpuTicks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid pgrp session tty_nr tpgid …": comm may hold spaces and parentheses
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // cpuTicks: utime + stime, in clock ticks (USER_HZ)
    return {
      state: f[0],
      ppid: Number(f[1]),
      pgrp: Number(f[2]),
      tpgid: Number(f[5]),
      cpuTicks: Number(f[11]) + Number(f[12]),
    };
  } catch {
    return undefined;
  }
}

/**
 * Waits (2 ms polls, up to `ms`) until process pid has stopped itself (state T); false on the timeout or
 * once `gone()` says it ended.
 */
export async function untilStopped(
  pid: number,
  ms: number,
  gone: () => boolean = () => false,
): Promise<boolean> {
  for (let waited = 0; waited < ms && !gone(); waited += 2) {
    if (procStat(pid)?.state === "T") return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return false;
}

/** True while a process exists and is not a zombie. */
export const alive = (pid: number) => {
  const s = procStat(pid);
  return s !== undefined && s.state !== "Z";
};

/** Every live descendant of pid (children first level by level), pid itself excluded. */
export function descendantsOf(pid: number): number[] {
  // the tree's own children lists (every thread's, CONFIG_PROC_CHILDREN): a recording asks ten times a
  // second, and a scan of every process on the machine costs more the busier the machine is
  const fromChildren = childrenWalk(pid);
  if (fromChildren) return fromChildren;
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const p = Number(name);
    if (!Number.isInteger(p)) continue;
    const s = procStat(p);
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(p);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of children.get(queue.shift() as number) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** Sends a signal, ignoring a process that is already gone. */
export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

let pdeathsig: boolean | undefined;
/**
 * The command line that runs `cmd args` so it gets `signal` when sysfence's process ends (even a SIGKILLed
 * one): util-linux's `setpriv --pdeathsig`, which execs in place (same pid). Unchanged when setpriv cannot.
 */
export function withParentDeathSignal(
  cmd: string,
  args: readonly string[],
  signal: "KILL" | "INT" | "TERM",
): [string, string[]] {
  pdeathsig ??= spawnSync("setpriv", ["--pdeathsig", "KILL", "true"]).status === 0;
  return pdeathsig ? ["setpriv", ["--pdeathsig", signal, cmd, ...args]] : [cmd, [...args]];
}

/** A process's first child (from /proc/PID/task/PID/children), or undefined. */
export function firstChild(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ")[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/** Descendants through /proc/PID/task/TID/children, or undefined when the kernel does not offer those files. */
function childrenWalk(root: number): number[] | undefined {
  const out: number[] = [];
  const seen = new Set<number>();
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift() as number;
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // gone
    }
    for (const tid of tids) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8");
      } catch (e) {
        if (
          (e as NodeJS.ErrnoException).code === "ENOENT" &&
          pid === root &&
          tid === String(root) &&
          alive(root)
        )
          return undefined; // no children files in this kernel
        continue;
      }
      for (const c of text.split(" ")) {
        if (!c.trim()) continue;
        const child = Number(c);
        if (!seen.has(child)) {
          seen.add(child);
          out.push(child);
          queue.push(child);
        }
      }
    }
  }
  return out;
}

/** The inode of the initial PID namespace (PROC_PID_INIT_INO, include/linux/proc_ns.h). */
const INITIAL_PID_NS = "pid:[4026531836]";

/**
 * Which PID namespace this process and its /proc are in: "initial" (pids are the kernel's global ones, as
 * its tracepoints report them), "own" (a container or `unshare -p`: /proc shows this namespace's pids), or
 * "foreign" (/proc was mounted for another namespace than this process's: its pids are neither).
 */
export function pidNamespace(): "initial" | "own" | "foreign" {
  let self = "";
  try {
    self = readlinkSync("/proc/self");
  } catch {
    // no /proc, or one of a namespace this process is not in (its /proc/self leads nowhere)
  }
  if (self !== String(process.pid)) return "foreign";
  try {
    return readlinkSync("/proc/self/ns/pid") === INITIAL_PID_NS ? "initial" : "own";
  } catch {
    return "initial"; // a kernel without PID namespaces has only the one
  }
}
