import type { Command } from "commander";
import type { Report } from "../../report/model.js";
import { type CliIO, toJson, UsageError, writeOutput } from "../io.js";
import { oneOf, REPORT_FORMATS } from "../option-values.js";
import { readProfileOrPolicy } from "./merge-diff.js";

/** The report of one input: a profile's (the policy generate would write, and what was recorded) or a policy's. */
async function reportOf(file: string, io: CliIO): Promise<Report> {
  const input = await readProfileOrPolicy(file, io);
  const { buildReport, reportOfProfile } = await import("../../report/model.js");
  return input.kind === "profile"
    ? reportOfProfile(input.profile, input.name)
    : buildReport(input.policy, input.name);
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
        let text: string;
        if (opts.diff) {
          const { diffReports, renderDiffText } = await import("../../report/diff.js");
          const d = diffReports(await reportOf(file, io), await reportOf(second as string, io));
          if (opts.format === "json") text = `${toJson(d)}\n`;
          else if (opts.format === "html")
            text = (await import("../../report/render-html-diff.js")).renderDiffHtml(d);
          else text = renderDiffText(d, opts.format === "md");
        } else {
          const report = await reportOf(file, io);
          if (opts.format === "json") text = `${toJson(report)}\n`;
          else if (opts.format === "html")
            text = (await import("../../report/render-html.js")).renderHtml(report);
          else {
            const r = await import("../../report/render-text.js");
            text = opts.format === "md" ? r.renderMarkdown(report) : r.renderText(report);
          }
        }
        if (opts.output) writeOutput(opts.output, text, io);
        else io.stdout(text);
      },
    );
}
