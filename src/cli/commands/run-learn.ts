// `sysfence run … --learn OUT -- COMMAND`: the CLI side of a learning run (learn/learn.ts does the work):
// says plainly what the mode does, writes OUT whole at the end (also after SIGINT/SIGTERM, which the
// program gets first), summarises what was learned and prints the next command.
import type { LandlockPlan } from "../../policy/landlock.js";
import type { Policy } from "../../policy/model.js";
import { checkOutputFile } from "../../util/output-file.js";
import { type CliIO, toJson, writeOutput } from "../io.js";
import type { RunArgs } from "./run-args.js";

/** Runs the learning, writes OUT; the program's exit status. */
export async function learnCommand(
  opts: RunArgs & { learn: string },
  policy: Policy,
  plan: LandlockPlan | undefined,
  command: string[],
  io: CliIO,
): Promise<number> {
  const out = opts.learn;
  if (out !== "-") checkOutputFile(out);
  const say = (line: string) => io.stderr(`sysfence run --learn: ${line}\n`);
  // banners are notes (-q drops them); a missing command is an error before any of them
  const note = (line: string) => say(`note: ${line}`);
  const { resolveCommand } = await import("../../install/run.js");
  resolveCommand(command[0]);
  const mode = { all: opts.learnAll === true, answerAsPolicy: opts.learnAnswer === "policy" };
  note(
    mode.answerAsPolicy
      ? "learning mode, answering as the policy: every call the policy does not allow gets the policy's answer and is recorded."
      : `learning mode: calls the policy does not allow are recorded and let through — the program runs as if unconfined for them${mode.all ? "" : " — except the privilege class (exec beyond the policy's, namespaces, mount, ptrace, module loading, bpf, the setuid family …), which gets the policy's answer and is recorded (--learn-all lets it through too)"}.`,
  );
  if (plan?.enforced.files && policy.landlock)
    note(
      mode.answerAsPolicy
        ? "the Landlock layer is judged by sysfence, not applied: file uses it would refuse are recorded and answered EACCES."
        : "the Landlock layer is judged by sysfence, not applied: file uses it would refuse are recorded and let through.",
    );
  else if (policy.landlock) note(`the Landlock layer is not judged: ${plan?.dropped[0] ?? "off"}.`);
  const { learnRun } = await import("../../learn/learn.js");
  const r = await learnRun({ policy, plan, command, mode, onNote: note });
  writeOutput(out, `${toJson(r.profile)}\n`, io);
  const c = r.counts;
  const filtered = c.learned - c.landlock;
  const distinct = new Set(c.calls.map((x) => x[2])).size;
  say(
    `recorded ${filtered} call(s) the seccomp filter would refuse${c.landlock ? ` and ${c.landlock} use(s) of files, TCP ports or signals the Landlock layer would refuse` : ""} (${distinct} syscall(s) in all)${c.answered ? `; ${c.answered} got the policy's answer` : ""}${c.killed ? `; ${c.killed} process(es) killed as the policy says` : ""}${c.gone ? `; ${c.gone} notified call(s) ended before an answer (their tasks were gone), not counted` : ""}. Written: ${out}${r.profile.complete ? "" : " (marked incomplete: the run was interrupted)"}.`,
  );
  if (c.ownListener)
    say(
      `the program tried ${c.ownListener}× to install a seccomp filter with a listener of its own; the kernel allows one listener per filter chain, so under --learn it got EBUSY. A program that supervises its own calls (a container runtime, a sandbox) cannot be learned this way: record it with sysfence record instead.`,
    );
  if (c.learned && opts.policy && out !== "-")
    say(`next: sysfence audit --patch ${opts.policy} ${out} -o PATCHED.yaml, then run under PATCHED.yaml.`);
  else if (!c.learned && r.profile.complete)
    say("nothing to learn: the policy allowed every call this run made.");
  return r.status;
}
