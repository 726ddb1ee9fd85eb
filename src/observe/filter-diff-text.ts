// How a filter diff reads: text (the verdict, the differences, what was compared, sysfence's additions),
// GitHub Markdown, JSON.
import type { FilterDiff } from "./filter-diff.js";

const MAX_SAMPLED_NAMES = 8;

/** The verdict line. */
export function filterVerdict(d: FilterDiff, oldName: string, newName: string): string {
  return d.differences.length
    ? `DRIFT: ${newName} decides ${d.differences.length} (architecture, syscall, argument range) differently from ${oldName}`
    : `no drift: ${oldName} and ${newName} decide every call the same way`;
}

function compared(d: FilterDiff): string[] {
  const exact = d.sampled.length === 0 && d.incomplete.length === 0;
  const out = [
    `Compared ${d.checked.pairs.join("; ")}: ${d.checked.arches.join(", ")}; ${d.checked.numbers} syscall numbers, ${d.checked.cells} argument cells — ${exact ? "exhaustive" : "not exhaustive"}.`,
  ];
  if (d.sampled.length)
    out.push(
      `Masked argument comparisons (sampled, not exhaustive) in: ${d.sampled.slice(0, MAX_SAMPLED_NAMES).join(", ")}${d.sampled.length > MAX_SAMPLED_NAMES ? ` and ${d.sampled.length - MAX_SAMPLED_NAMES} more` : ""}.`,
    );
  if (d.incomplete.length)
    out.push(`Too many argument cells, only some compared: ${d.incomplete.join(", ")}.`);
  return out;
}

/** The filter diff as text. */
export function formatFilterDiff(d: FilterDiff, oldName: string, newName: string): string {
  const out = [filterVerdict(d, oldName, newName)];
  if (d.differences.length) {
    out.push("", `What changes decision (${oldName} → ${newName}):`);
    for (const x of d.differences)
      out.push(`  ! ${x.arch} ${x.syscall}(${x.args.join(", ")}): ${x.old} → ${x.new}`);
  }
  out.push("", ...compared(d));
  if (d.additions.length) {
    out.push("", "sysfence's own additions (not drift):");
    for (const a of d.additions) out.push(`  = ${a}`);
  }
  return `${out.join("\n")}\n`;
}

const md = (s: string) => s.replace(/([|`*_\\<>[\]])/g, "\\$1");

/** The filter diff as GitHub-flavoured Markdown. */
export function formatFilterDiffMarkdown(d: FilterDiff, oldName: string, newName: string): string {
  const out = [`### ${d.differences.length ? "❌" : "✅"} ${md(filterVerdict(d, oldName, newName))}`, ""];
  if (d.differences.length) {
    out.push(
      `| architecture | syscall | arguments | ${md(oldName)} | ${md(newName)} |`,
      "|---|---|---|---|---|",
    );
    for (const x of d.differences)
      out.push(
        `| ${md(x.arch)} | \`${x.syscall}\` | ${md(x.args.join(", ")) || "any"} | ${md(x.old)} | ${md(x.new)} |`,
      );
    out.push("");
  }
  out.push(...compared(d).map(md), "");
  if (d.additions.length) {
    out.push("<details><summary>sysfence's own additions (not drift)</summary>", "");
    for (const a of d.additions) out.push(`- ${md(a)}`);
    out.push("", "</details>", "");
  }
  return `${out.join("\n")}\n`;
}
