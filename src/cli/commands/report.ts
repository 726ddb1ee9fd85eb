import type { Command } from "commander";
import type { Report } from "../../api/report.js";
import { type CliIO, stdinOf, toJson, UsageError, writeOutput } from "../io.js";
import { oneOf, REPORT_FORMATS } from "../option-values.js";

/** The report of one input: a profile's (the policy generate would write, and what was recorded) or a policy's. */
async function reportOf(file: string, io: CliIO): Promise<Report> {
  const api = await import("../../api/report.js");
  return api.reportFile(file, { stdin: stdinOf(io), ...(await import("../../api/host.js")).host() });
}

/** `sysfence report PROFILE|POLICY` and `sysfence report --diff OLD NEW`. */
export function registerReport(program: Command, io: CliIO): void {
  program
    .command("report")
    .description(
      "the attack surface at a glance: allowed calls, groups, risky calls, argument rules, what was recorded; with --diff, what changed between two",
    )
    .argument(
      "<input>",
      "a profile (sysfence record) or a policy (sysfence YAML/JSON, Docker/OCI); with --diff: OLD",
    )
    .argument("[new]", "with --diff: NEW, the profile or policy compared with OLD")
    .option(
      "--diff",
      "compare two inputs (profiles or policies): calls opened, closed, changed; risky calls and groups that moved",
    )
    .option("--format <format>", REPORT_FORMATS.join(" | "), "text")
    .option("-o, --output <file>", "write here (atomically); default: stdout")
    .option("--json", "same as --format json")
    .action(
      async (
        file: string,
        second: string | undefined,
        opts: { format: string; output?: string; json?: boolean; diff?: boolean },
      ) => {
        if (opts.json) opts.format = "json";
        if (!oneOf(REPORT_FORMATS, opts.format))
          throw new UsageError(`--format '${opts.format}': use ${REPORT_FORMATS.join(", ")}.`);
        if (opts.diff && second === undefined)
          throw new UsageError(
            "report --diff needs two inputs: report --diff OLD NEW (profiles or policies).",
          );
        if (!opts.diff && second !== undefined)
          throw new UsageError(
            `report takes one input; to compare ${file} with ${second}, write report --diff ${file} ${second}.`,
          );
        if (file === "-" && second === "-")
          throw new UsageError("report --diff: only one of OLD and NEW can be - (standard input).");
        const api = await import("../../api/report.js");
        let text: string;
        if (opts.diff) {
          const d = api.diffReports(await reportOf(file, io), await reportOf(second as string, io));
          if (opts.format === "json") text = `${toJson(d)}\n`;
          else if (opts.format === "html") text = api.renderDiffHtml(d);
          else text = api.renderDiffText(d, opts.format === "md");
        } else {
          const report = await reportOf(file, io);
          if (opts.format === "json") text = `${toJson(report)}\n`;
          else if (opts.format === "html") text = api.renderHtml(report);
          else text = opts.format === "md" ? api.renderMarkdown(report) : api.renderText(report);
        }
        if (opts.output) writeOutput(opts.output, text, io);
        else io.stdout(text);
      },
    );
}
