// report: a profile or a policy → its attack surface.
import type { DiffInput } from "../generate/diff.js";
import type { PolicyInput } from "../install/install.js";
import { buildReport, type Report, reportOfProfile } from "../report/model.js";
import type { ArchName } from "../syscalls/arches.js";
import { type DocumentSource, readDocumentFile } from "./document.js";
import { diffInputOf, type ProfileInput } from "./inputs.js";

export type { Report } from "../report/model.js";

/** The attack surface of a policy or a profile (object or file path), as `sysfence report --format json`. */
export function report(input: ProfileInput | PolicyInput, name = "policy"): Report {
  return reportOfSide(diffInputOf(input, "report", name));
}

/** `sysfence report FILE` as one step: a profile or a policy file (`-`: standard input) → its report. */
export async function reportFile(
  file: string,
  options: DocumentSource & { arch: ArchName; kernel?: string },
): Promise<Report> {
  return reportOfSide(await readDocumentFile(file, options));
}

/** A profile's report (the policy generate would write, and what was recorded) or a policy's. */
function reportOfSide(side: DiffInput): Report {
  return side.kind === "profile"
    ? reportOfProfile(side.profile, side.name)
    : buildReport(side.policy, side.name);
}

export { diffReports, type ReportDiff, renderDiffText } from "../report/diff.js";
export { renderHtml } from "../report/render-html.js";
export { renderDiffHtml } from "../report/render-html-diff.js";
export { renderMarkdown, renderText } from "../report/render-text.js";
