// The corpus flow for one program: record one small use with strace, generate with the defaults, then run
// broader uses untraced and under `sysfence run --policy`, compare, and find the calls behind any failure.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cliPrefix, compare, generate, type ProgramResult, scratch } from "./common.js";
import { runDaemon } from "./daemon-flow.js";
import { type FailedCall, failedCalls, isKill, newFailures, seccompRecords, summarize } from "./diagnose.js";
import { type CliProgram, exec, type Outcome, type Program, type Step, shq } from "./types.js";

export * from "./common.js";

/** Records, generates, runs: the whole corpus flow for one program. */
export async function runProgram(p: Program): Promise<ProgramResult> {
  return p.kind === "cli" ? runCli(p) : runDaemon(p);
}

/** One command, untraced or under sysfence (`words`: record … / run …), optionally under strace. */
function runStep(step: Step, dir: string, words: string[] | null, straceFile?: string): Outcome {
  const cmd = typeof step.argv === "function" ? step.argv(dir) : step.argv;
  let argv = words ? [...cliPrefix(), ...words, "--", ...cmd] : cmd;
  if (straceFile) argv = ["strace", "-f", "-ttt", "-qq", "-o", straceFile, ...argv];
  if (step.tty) argv = ["script", "-qec", argv.map(shq).join(" "), "/dev/null"];
  const o = exec(argv, { cwd: dir, input: step.input ?? "", env: step.env, timeout: 60_000 });
  const norm = (s: string) => s.replaceAll("\r\n", "\n").replaceAll(dir, "<dir>");
  const after = step.after ? `\n-- after: ${exec(step.after, { cwd: dir }).stdout}` : "";
  return { ...o, stdout: norm(o.stdout + after), stderr: norm(o.stderr) };
}

const defaultKey = (o: Outcome) => `exit ${o.status ?? o.signal}\n${o.stdout}`;

async function runCli(p: CliProgram): Promise<ProgramResult> {
  const root = scratch(p.name);
  const cleanups: (() => void)[] = [];
  // every run happens in the same directory, the one the recording used: the policy's file layer names
  // the paths the program wrote in. A run starts from a saved state copied back into it.
  const work = join(root, "work");
  const fresh = async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work);
    const undo = await p.setup(work);
    if (undo) cleanups.push(undo);
    return work;
  };
  const restore = (state: string) => {
    rmSync(work, { recursive: true, force: true });
    exec(["cp", "-a", state, work]);
    return work;
  };
  const [profile, policy] = [join(root, "profile.json"), join(root, "policy.yaml")];
  const result: ProgramResult = { name: p.name, kind: "cli", uses: [] };
  try {
    const rec = runStep(p.record, await fresh(), ["record", "--engine", "strace", "-q", "-o", profile]);
    if (rec.status !== 0) {
      result.error = `sysfence record exited ${rec.status}: ${rec.stderr.trim()}`;
      return result;
    }
    const g = generate(cliPrefix(), profile, policy);
    if (g.error) return { ...result, error: g.error };
    result.stats = g.stats;
    // every use starts from the state the untraced sequence had before it: a use failing under the policy
    // leaves no broken state for the next (each is judged alone)
    await fresh();
    const state = join(root, "state"); // the untraced sequence's state
    exec(["cp", "-a", work, state]);
    const before = (i: number) => join(root, `before-${i}`);
    const errnos = new Set<string>();
    for (const [i, step] of p.uses.entries()) {
      exec(["cp", "-a", state, before(i)]);
      const key = step.key ?? defaultKey;
      const plain = runStep(step, restore(before(i)), null);
      rmSync(state, { recursive: true, force: true });
      exec(["cp", "-a", work, state]);
      const since = Date.now() / 1000 - 0.05;
      const pol = runStep(step, restore(before(i)), ["run", "--policy", policy]);
      const records = seccompRecords(since, pol.pid ? [pol.pid] : [], p.exes);
      const killed = pol.signal === "SIGSYS" || pol.status === 159 || records.some(isKill);
      const problem = killed
        ? `killed (${pol.signal ?? pol.status}); stderr: ${pol.stderr.trim().slice(0, 200)}`
        : compare(key(plain), key(pol), pol.stderr);
      const calls = records.map((r) => `SECCOMP record: ${r.syscall} → ${r.action} (${r.exe})`);
      for (const r of records) if (r.action === "errno") errnos.add(r.syscall);
      result.uses.push({ name: step.name, todo: step.todo, killed, problem, calls: problem ? calls : [] });
    }
    result.errnoAnswers = [...errnos].sort();
    // the calls behind each failure: the use again from the same state under strace, with and without
    for (const [i, step] of p.uses.entries()) {
      const u = result.uses[i];
      if (!u.problem) continue;
      const [fp, fq] = [join(root, `plain-${i}.strace`), join(root, `policy-${i}.strace`)];
      runStep(step, restore(before(i)), null, fp);
      const dq = restore(before(i));
      runStep(step, dq, ["run", "--policy", policy], fq);
      const calls: FailedCall[] = newFailures(failedCalls(fq, 2), failedCalls(fp, 1));
      u.calls = [...summarize(calls, [dq, root]), ...[...new Set(u.calls)].slice(0, 6)];
    }
    return result;
  } finally {
    for (const c of cleanups) c();
  }
}
