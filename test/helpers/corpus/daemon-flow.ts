// The corpus flow for a daemon: record it under one small use, generate, then run it untraced and under the
// policy, drive the broader uses against each, stop both with SIGTERM and compare.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { descendants, freePort } from "../daemon-loads.js";
import { cliPrefix, compare, generate, type ProgramResult, scratch } from "./common.js";
import { failedCalls, isKill, newFailures, seccompRecords, summarize } from "./diagnose.js";
import { type DaemonProgram, exec, sleep } from "./types.js";

/** How long a daemon may take to stop on SIGTERM. */
export const STOP_MS = 10_000;

interface Started {
  child: ChildProcess;
  /** The daemon's own pid (under strace: the traced child). */
  pid: number;
  exited: Promise<{ code: number | null; signal: string | null }>;
  log: string;
}

function start(argv: string[], dir: string, env: Record<string, string> = {}): Started {
  const log = join(dir, "daemon.log");
  const fd = openSync(log, "a");
  // a process group of its own: a master may signal its whole group (lighttpd's does on SIGTERM)
  const child = spawn(argv[0], argv.slice(1), {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) =>
    child.on("exit", (code, signal) => res({ code, signal })),
  );
  return { child, pid: child.pid!, exited, log };
}

const logTail = (s: Started) => {
  try {
    return readFileSync(s.log, "utf8").trim().split("\n").slice(-3).join(" | ");
  } catch {
    return "";
  }
};

/** The daemon under strace (sysfence record's tracer, or ours): strace's child. */
function tracee(root: number): number | undefined {
  const all = [root, ...descendants(root)];
  const comm = (p: number) => {
    try {
      return readFileSync(`/proc/${p}/comm`, "utf8").trim();
    } catch {
      return "";
    }
  };
  const strace = all.find((p) => comm(p) === "strace");
  return strace ? descendants(strace).find((p) => comm(p) !== "strace") : undefined;
}

/** SIGTERM, then waits; SIGKILLs everything left after STOP_MS. Undefined when it stopped as `want`. */
async function stop(s: Started, pid: number) {
  const t0 = Date.now();
  const tree = [pid, ...descendants(pid)];
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    // already gone
  }
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), STOP_MS).unref());
  const e = await Promise.race([s.exited, timeout]);
  if (e === "timeout") {
    for (const p of [...descendants(s.child.pid!), s.child.pid!, ...tree])
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // gone
      }
    await s.exited;
    return { end: `still running ${STOP_MS} ms after SIGTERM`, ms: Date.now() - t0 };
  }
  return { end: e.signal ? `killed by ${e.signal}` : `exit ${e.code}`, ms: Date.now() - t0 };
}

interface Session {
  keys: string[];
  windows: [number, number][];
  pids: number[];
  stop: { end: string; ms: number };
  log: string;
  /** The uses before which the daemon was started again (an earlier use killed it). */
  restarts: string[];
}

/** Starts the daemon in `dir` (optionally under sysfence `words` and strace), drives every use, stops it. */
async function session(
  p: DaemonProgram,
  dir: string,
  port: number,
  words: string[] | null,
  straceFile?: string,
) {
  let argv = p.argv(port, dir);
  if (words) argv = [...cliPrefix(p.asNobody), ...words, "--", ...argv];
  else if (p.asNobody) argv = [...cliPrefix(true).slice(0, -2), ...argv];
  // -A: a daemon started again after a kill appends to the same trace
  if (straceFile) argv = ["strace", "-f", "-A", "-ttt", "-qq", "-o", straceFile, ...argv];
  const out: Session = { keys: [], windows: [], pids: [], stop: { end: "", ms: 0 }, log: "", restarts: [] };
  const launch = async () => {
    const s = start(argv, dir, p.env);
    let dead = false;
    void s.exited.then(() => {
      dead = true;
    });
    try {
      await p.ready(port, dir);
    } catch (e) {
      await stop(s, s.pid);
      throw new Error(`${(e as Error).message}; log: ${logTail(s)}`);
    }
    const pid = straceFile ? (tracee(s.pid) ?? s.pid) : s.pid;
    out.pids.push(s.pid, pid, ...descendants(pid));
    return { s, pid, dead: () => dead };
  };
  let d = await launch();
  for (const u of p.uses) {
    // a daemon killed by an earlier use is started again: each use is judged on its own
    await sleep(100); // the exit of a daemon killed at the end of the last use reaches us
    if (d.dead()) {
      out.restarts.push(u.name);
      d = await launch();
    }
    const t0 = Date.now() / 1000;
    try {
      out.keys.push(await u.run(port, dir, d.pid));
    } catch (e) {
      out.keys.push(`error: ${(e as Error).message}`);
    }
    out.windows.push([t0, Date.now() / 1000]);
    out.pids.push(...descendants(d.pid));
  }
  const { s, pid } = d;
  out.stop = await stop(s, pid);
  out.log = logTail(s);
  return out;
}

export async function runDaemon(p: DaemonProgram): Promise<ProgramResult> {
  const root = scratch(p.name);
  if (p.asNobody) exec(["chown", "nobody", root]); // the profile and policy are written as nobody
  // every run happens in the directory and on the port the recording used: the policy's file layer names
  // the paths it wrote in and the ports it bound. Each run starts from a fresh set-up.
  const work = join(root, "work");
  const fresh = async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { mode: 0o755 });
    await p.setup(work);
    return work;
  };
  const [profile, policy] = [join(root, "profile.json"), join(root, "policy.yaml")];
  const result: ProgramResult = { name: p.name, kind: "daemon", uses: [] };
  // 1. record one small use
  const rdir = await fresh();
  const port = await freePort();
  const cli = cliPrefix(p.asNobody);
  const rec = start(
    [...cli, "record", "--engine", "strace", "-q", "-o", profile, "--", ...p.argv(port, rdir)],
    rdir,
    p.env,
  );
  try {
    await p.ready(port, rdir);
    await p.recordLoad(port, rdir);
  } catch (e) {
    await stop(rec, tracee(rec.pid) ?? rec.pid);
    return { ...result, error: `recording: ${(e as Error).message}; log: ${logTail(rec)}` };
  }
  const r = await stop(rec, tracee(rec.pid) ?? rec.pid);
  if (r.end !== "exit 0") return { ...result, error: `sysfence record: ${r.end}; ${logTail(rec)}` };
  const g = generate(cli, profile, policy);
  if (g.error) return { ...result, error: g.error };
  result.stats = g.stats;
  // 2. the broader uses, untraced and under the policy
  const plain = await session(p, await fresh(), port, null);
  const since = Date.now() / 1000;
  const pdir = await fresh();
  let pol: Session;
  try {
    pol = await session(p, pdir, port, ["run", "--policy", policy]);
  } catch (e) {
    return { ...result, error: `under the policy: ${(e as Error).message}` };
  }
  const records = seccompRecords(since, pol.pids, p.exes);
  result.errnoAnswers = [
    ...new Set(records.filter((x) => x.action === "errno").map((x) => x.syscall)),
  ].sort();
  const inWindow = (t: number, [a, b]: [number, number]) => t >= a - 0.05 && t <= b + 0.05;
  p.uses.forEach((u, i) => {
    const recs = records.filter((x) => inWindow(x.time, pol.windows[i]));
    const killed = recs.some(isKill);
    const problem = compare(plain.keys[i], pol.keys[i], killed ? "killed" : "");
    result.uses.push({
      name: u.name,
      todo: u.todo,
      killed,
      problem: killed && !problem ? "killed (a SECCOMP kill record)" : problem,
      calls: [...new Set(recs.map((x) => `SECCOMP record: ${x.syscall} → ${x.action} (${x.exe})`))],
    });
  });
  const stopKilled = records.some(isKill) && !result.uses.some((u) => u.killed);
  const stopProblem =
    pol.stop.end !== plain.stop.end || pol.stop.end.startsWith("still")
      ? `${pol.stop.end} after ${pol.stop.ms} ms (untraced: ${plain.stop.end}); log: ${pol.log}`
      : stopKilled
        ? "a SECCOMP kill record"
        : undefined;
  result.uses.push({
    name: "stops cleanly on SIGTERM",
    todo: p.stopTodo,
    killed: stopKilled || pol.stop.end === "killed by SIGSYS",
    problem: stopProblem,
    calls: [],
  });
  // 3. the calls behind the failures: both sessions again under strace, calls attributed by time
  if (result.uses.some((u) => u.problem)) {
    const [fp, fq] = [join(root, "plain.strace"), join(root, "policy.strace")];
    const sp = await session(p, await fresh(), port, null, fp).catch(() => undefined);
    const dq = await fresh();
    const sq = await session(p, dq, port, ["run", "--policy", policy], fq).catch(() => undefined);
    if (sp && sq) {
      const skip = p.asNobody ? 3 : 2;
      const calls = newFailures(failedCalls(fq, skip), failedCalls(fp, skip - 1));
      result.uses.forEach((u, i) => {
        if (!u.problem) return;
        const w = sq.windows[i] ?? [sq.windows.at(-1)?.[1] ?? 0, Number.POSITIVE_INFINITY];
        const mine = calls.filter((c) => c.time >= w[0] && c.time <= w[1]);
        u.calls = [...summarize(mine, [dq, root]), ...u.calls.slice(0, 6)];
      });
      const startup = calls.filter((c) => c.time < (sq.windows[0]?.[0] ?? 0));
      if (startup.length)
        result.uses[0].calls.push(...summarize(startup, [dq, root]).map((t) => `(at start-up) ${t}`));
    }
  }
  return result;
}
