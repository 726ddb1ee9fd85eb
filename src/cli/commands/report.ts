import type { Command } from "commander";
import { type CliIO, stdinOf, toJson, UsageError, writeOutput } from "../io.js";

/** `sysfence report PROFILE|POLICY`. */
export function registerReport(program: Command, io: CliIO): void {
  program
    .command("report")
    .description(
      "the attack surface at a glance: allowed calls, groups, risky calls, argument rules, what was recorded",
    )
    .argument("<input>", "a profile (sysfence record) or a policy (sysfence YAML/JSON, Docker/OCI)")
    .option("--format <format>", "text | md | html | json", "text")
    .option("-o, --output <file>", "write here (atomically); default: stdout")
    .option("--json", "same as --format json")
    .action(async (file: string, opts: { format: string; output?: string; json?: boolean }) => {
      if (opts.json) opts.format = "json";
      if (!["text", "md", "html", "json"].includes(opts.format))
        throw new UsageError(`--format '${opts.format}': use text, md, html or json.`);
      const api = await import("../../api/report.js");
      const report = await api.reportFile(file, {
        stdin: stdinOf(io),
        ...(await import("../../api/host.js")).host(),
      });
      let text: string;
      if (opts.format === "json") text = `${toJson(report)}\n`;
      else if (opts.format === "html") text = api.renderHtml(report);
      else text = opts.format === "md" ? api.renderMarkdown(report) : api.renderText(report);
      if (opts.output) writeOutput(opts.output, text, io);
      else io.stdout(text);
    });
}
