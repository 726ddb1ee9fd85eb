import type { Command } from "commander";
import { SERVER_EXAMPLE } from "../../api/demo.js";
import { type CliIO, toJson } from "../io.js";
import { parseIntegerOption } from "../options.js";
import { loadPolicy } from "../policy-input.js";

/** `sysfence bench`. */
export function registerBench(program: Command, io: CliIO): void {
  program
    .command("bench")
    .description(
      "what a filter costs per system call (no filter, sysfence, libseccomp linear and binary tree), and on a whole workload",
    )
    .argument("[policy]", "policy file (default: examples/server-policy.yaml)")
    .option(
      "--workload <cmd>",
      "also time this shell command with and without the policy (median and spread)",
    )
    .option("--iterations <n>", "calls per round (7 rounds, median)", "200000")
    .option("--runs <n>", "workload runs", "7")
    .option("--json", "print JSON")
    .action(
      async (
        file: string | undefined,
        opts: { workload?: string; iterations: string; runs: string; json?: boolean },
      ) => {
        const iterations = parseIntegerOption("--iterations", opts.iterations, { min: 1, max: 1e9 });
        const runs = parseIntegerOption("--runs", opts.runs, { min: 1, max: 1000 });
        const { benchPolicy, benchWorkload } = await import("../../api/bench.js");
        const path = file ?? SERVER_EXAMPLE;
        const { policy } = await loadPolicy(path, {}, io);
        const result = benchPolicy(policy, iterations);
        if (opts.json) {
          const workload = opts.workload ? benchWorkload(path, opts.workload, runs) : undefined;
          io.stdout(`${toJson({ policy: path, ...result, workload })}\n`);
          return;
        }
        const head = ["call", ...result.engines.map((e) => e.engine)];
        const rows = result.calls.map((c, i) => [
          `${c.label} [${c.role}]`,
          ...result.engines.map((e) =>
            e.length ? `${e.ns[i].toFixed(0)} ns (${e.instructions[i]} insns)` : `${e.ns[i].toFixed(0)} ns`,
          ),
        ]);
        const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
        const line = (cells: string[]) =>
          cells
            .map((c, k) => c.padEnd(widths[k]))
            .join("  ")
            .trimEnd();
        io.stdout(
          `policy ${path}; per call, median of 7 rounds of ${opts.iterations} calls (filter lengths: ${result.engines
            .filter((e) => e.length)
            .map((e) => `${e.engine} ${e.length}`)
            .join(", ")})\n`,
        );
        io.stdout(`${line(head)}\n${rows.map(line).join("\n")}\n`);
        const workload = opts.workload ? benchWorkload(path, opts.workload, runs) : undefined;
        if (workload) {
          const med = (xs: number[]) => xs[xs.length >> 1];
          const spread = (xs: number[]) => `${xs[0].toFixed(0)}–${xs[xs.length - 1].toFixed(0)} ms`;
          io.stdout(`\nworkload: ${opts.workload}\n`);
          io.stdout(
            `  plain                   median ${med(workload.plain).toFixed(0)} ms (${spread(workload.plain)})\n`,
          );
          io.stdout(
            `  sysfence run, 1 rule    median ${med(workload.launcher).toFixed(0)} ms (${spread(workload.launcher)})  ← launcher cost\n`,
          );
          io.stdout(
            `  sysfence run --policy   median ${med(workload.filtered).toFixed(0)} ms (${spread(workload.filtered)})\n`,
          );
        }
      },
    );
}
