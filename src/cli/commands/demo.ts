import type { Command } from "commander";
import { summaryOf } from "../../api/compile-output.js";
import { checkDemoRecorder, DOCKER_EXAMPLE, demoVerdicts } from "../../api/demo.js";
import { SysfenceError } from "../../errors.js";
import { type CliIO, toJson } from "../io.js";
import { parseIntegerOption } from "../options.js";
import { loadAndCompile } from "../policy-input.js";

/** `sysfence demo`: the main job on a built-in example. */
export function registerDemo(program: Command, io: CliIO): void {
  program
    .command("demo")
    .description(
      "the whole workflow on the bundled server: record it under a load, generate its policy, report, run it under the policy, stop an injected shell",
    )
    .option(
      "--compile",
      "instead: compile the bundled Docker default profile and show how it decides a few calls",
    )
    .option("--clients <n>", "concurrent clients", "8")
    .option("--rounds <n>", "rounds per client", "40")
    .option("--json", "print the result as JSON (the steps go to stderr)")
    .action(async (opts: { compile?: boolean; clients: string; rounds: string; json?: boolean }) => {
      if (!opts.compile) {
        const clients = parseIntegerOption("--clients", opts.clients, { min: 1, max: 1000 });
        const rounds = parseIntegerOption("--rounds", opts.rounds, { min: 1, max: 1000000 });
        const { runDemo } = await import("../../demo/run-demo.js");
        checkDemoRecorder(); // no strace: the install hint, before anything starts
        const r = await runDemo((line) => (opts.json ? io.stderr : io.stdout)(`${line}\n`), {
          clients,
          rounds,
        });
        const ok = r.failures.length === 0 && r.serverSurvived && r.attackStopped && r.exitCode === 0;
        if (opts.json) io.stdout(`${toJson({ ok, ...r })}\n`);
        if (!ok) throw new SysfenceError("E_DEMO_FAILED", "the demo did not end as it should (see above).");
        return;
      }
      const r = await loadAndCompile(DOCKER_EXAMPLE, { caps: undefined }, io);
      io.stdout(summaryOf(r, "examples/docker-default.json (Docker's default seccomp profile)"));
      io.stdout("\nhow the compiled filter answers (emulated, x86_64):\n");
      for (const v of demoVerdicts(r))
        io.stdout(`  ${v.call.padEnd(64)} → ${v.action.padEnd(13)} ${v.executed} instructions\n`);
    });
}
