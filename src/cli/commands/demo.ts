import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { decodeActionValue } from "../../abi/action.js";
import { Emulator } from "../../bpf/emulator.js";
import { SysfenceError } from "../../errors.js";
import { formatAction } from "../../policy/actions.js";
import { ARCHES } from "../../syscalls/arches.js";
import { evalValue } from "../../syscalls/constants.js";
import { syscallNumber } from "../../syscalls/table.js";
import { type CliIO, toJson } from "../io.js";
import { parseIntegerOption } from "../options.js";
import { loadAndCompile } from "../policy-input.js";
import { formatSummary } from "./compile.js";

/** The bundled example: Docker's default seccomp profile. */
export const DOCKER_EXAMPLE = fileURLToPath(
  new URL("../../../../examples/docker-default.json", import.meta.url),
);

/** The bundled 30-syscall server policy (the benchmark's default). */
export const SERVER_EXAMPLE = fileURLToPath(
  new URL("../../../../examples/server-policy.yaml", import.meta.url),
);

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
        const { straceVersion } = await import("../../record/engines/strace/strace.js");
        straceVersion(); // no strace: the install hint, before anything starts
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
      io.stdout(
        formatSummary(
          "examples/docker-default.json (Docker's default seccomp profile)",
          r.stats!,
          formatAction(r.parsed.policy.defaultAction),
          r.parsed.policy.rules.length,
        ),
      );
      const emu = new Emulator(r.program);
      const calls: [string, string[]][] = [
        ["getpid", []],
        ["socket", ["AF_INET", "SOCK_STREAM"]],
        ["socket", ["AF_VSOCK", "SOCK_STREAM"]],
        ["clone", ["CLONE_NEWUSER|SIGCHLD"]],
        ["clone", ["CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD"]],
        ["clone3", []],
        ["personality", ["0xffffffff"]],
        ["reboot", []],
      ];
      io.stdout("\nhow the compiled filter answers (emulated, x86_64):\n");
      for (const [name, args] of calls) {
        const res = emu.run({
          nr: syscallNumber("x86_64", name)!,
          arch: ARCHES.x86_64.audit,
          args: args.map((a) => evalValue(a)),
        });
        io.stdout(
          `  ${`${name}(${args.join(", ")})`.padEnd(64)} → ${formatAction(decodeActionValue(res.value)).padEnd(13)} ${res.executed} instructions\n`,
        );
      }
    });
}
