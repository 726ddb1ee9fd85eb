// The report as plain text (a terminal) and as Markdown (a pull request, a wiki).
import { processSummary, type Report, type Treatment } from "./model.js";

const MARK: Record<Treatment, string> = {
  allow: "allowed",
  restricted: "restricted",
  errno: "errno",
  denied: "denied",
};
const pct = (a: number, b: number) => `${((100 * a) / Math.max(b, 1)).toFixed(1)}%`;

/** Plain text. */
export function renderText(r: Report): string {
  const out: string[] = [];
  out.push(r.title, "");
  out.push(
    `allowed     ${r.allowed} of ${r.known} ${r.arch} syscalls (${pct(r.allowed, r.known)}); everything else: ${r.defaultAction}`,
  );
  const restricted = r.syscalls.filter((s) => s.treatment === "restricted");
  out.push(
    `arguments   ${restricted.length} calls allowed only with certain arguments${restricted.length ? `: ${restricted.map((s) => s.name).join(", ")}` : ""}`,
  );
  if (r.tiers) out.push(`tiers       ${tierLine(r.tiers)}`);
  const errno = r.syscalls.filter((s) => s.treatment === "errno" && s.detail !== r.defaultAction);
  if (errno.length) out.push(`errno       ${errno.map((s) => `${s.name} → ${s.detail}`).join(", ")}`);
  out.push("", "risky calls:");
  for (const k of r.risky)
    out.push(
      `  ${k.treatment === "allow" ? "!!" : k.treatment === "restricted" ? " !" : "  "} ${k.what.padEnd(32)} ${MARK[k.treatment].padEnd(10)} ${k.treatment === "allow" || k.treatment === "restricted" ? k.why : ""}`.trimEnd(),
    );
  out.push("", "groups (systemd):");
  for (const g of r.groups)
    out.push(
      `  ${g.name.padEnd(22)} ${`${g.allowed}/${g.members}`.padStart(7)}  ${g.status.padEnd(7)}  ${g.description}`,
    );
  if (restricted.length) {
    out.push("", "argument rules:");
    for (const s of restricted) out.push(`  ${s.name.padEnd(16)} ${s.detail}`);
  }
  if (r.profile) {
    const p = r.profile;
    out.push(
      "",
      `recorded    ${p.calls} calls by ${p.command}${p.complete ? "" : " (incomplete recording)"}${p.phaseBoundary ? `; work phase after ${p.phaseBoundary}` : ""}`,
    );
    for (const x of p.processes) out.push(`  ${x.exe} ${processSummary(x)}`);
    const s = p.summary;
    out.push(
      `phases      setup ${s.setup} calls (${pct(s.setup, s.setup + s.work)}) · work ${s.work} calls (${pct(s.work, s.setup + s.work)})`,
    );
    if (s.byProgram.length > 1) {
      out.push("", "calls by program (setup + work):");
      for (const x of s.byProgram)
        out.push(
          `  ${x.exe.padEnd(32)} ${String(x.setup).padStart(9)} + ${String(x.work).padStart(9)}  (${x.processes} process(es))`,
        );
    }
    out.push("", "most frequent calls:");
    for (const [n, c] of p.top) out.push(`  ${n.padEnd(20)} ${String(c).padStart(9)}`);
    if (p.sockets.length) {
      out.push("", "sockets:");
      for (const [s, c] of p.sockets) out.push(`  ${s} ×${c}`);
    }
    if (p.files.length) {
      out.push("", `files (${p.files.length}${p.files.length >= 200 ? "+" : ""}):`);
      for (const [f, c] of p.files.slice(0, 40)) out.push(`  ${f} ×${c}`);
      if (p.files.length > 40) out.push(`  … ${p.files.length - 40} more (--format json lists them)`);
    }
  }
  return `${out.join("\n")}\n`;
}

const md = (s: string) => s.replace(/\|/g, "\\|");

/** Markdown. */
export function renderMarkdown(r: Report): string {
  const out: string[] = [];
  out.push(`# ${md(r.title)}`, "");
  out.push(
    `**${r.allowed} of ${r.known}** ${r.arch} syscalls allowed (${pct(r.allowed, r.known)}); everything else: \`${r.defaultAction}\`.`,
    "",
  );
  if (r.tiers)
    out.push(
      "## Tiers",
      "",
      "| seen | always needed | static, allowed | static, answered | impossible | unresolved sites |",
      "|---|---|---|---|---|---|",
      `| ${r.tiers.seen} | ${r.tiers.always} | ${r.tiers.staticAllowed} | ${r.tiers.staticAnswered} (${md(r.tiers.staticAnswer)}) | ${r.tiers.impossible} | ${r.tiers.unresolved ?? "—"} |`,
      "",
    );
  out.push("## Risky calls", "", "| call | answer | why it matters |", "|---|---|---|");
  for (const k of r.risky)
    out.push(
      `| \`${md(k.what)}\` | ${k.treatment === "allow" ? "**allowed**" : MARK[k.treatment]} | ${md(k.why)} |`,
    );
  const restricted = r.syscalls.filter((s) => s.treatment === "restricted");
  if (restricted.length) {
    out.push("", "## Argument rules", "", "| call | rule |", "|---|---|");
    for (const s of restricted) out.push(`| \`${s.name}\` | ${md(s.detail)} |`);
  }
  out.push("", "## Groups", "", "| group | allowed | status | description |", "|---|---|---|---|");
  for (const g of r.groups)
    out.push(`| \`${g.name}\` | ${g.allowed}/${g.members} | ${g.status} | ${md(g.description)} |`);
  out.push("", "## Allowed calls", "", "| nr | call | answer | description |", "|---|---|---|---|");
  for (const s of r.syscalls.filter((x) => x.treatment !== "denied"))
    out.push(
      `| ${s.nr} | \`${s.name}\` | ${s.treatment === "allow" ? "allow" : s.treatment === "restricted" ? "restricted" : md(s.detail)} | ${md(s.description)} |`,
    );
  if (r.profile) {
    const p = r.profile;
    out.push(
      "",
      "## Recording",
      "",
      `${p.calls} calls by \`${md(p.command)}\`${p.complete ? "" : " (incomplete)"}.`,
      "",
    );
    for (const x of p.processes) out.push(`* \`${md(x.exe)}\` ${processSummary(x)}`);
    if (p.sockets.length) {
      out.push("", "### Sockets", "");
      for (const [s, c] of p.sockets) out.push(`* \`${md(s)}\` ×${c}`);
    }
    if (p.files.length) {
      out.push("", "### Files", "");
      for (const [f, c] of p.files.slice(0, 100)) out.push(`* \`${md(f)}\` ×${c}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** The tiers of a generated policy, side by side. */
export function tierLine(t: NonNullable<Report["tiers"]>): string {
  const answered = t.staticByAnswer
    ? Object.entries(t.staticByAnswer)
        .map(([a, n]) => `static, ${a} ${n}`)
        .join(" · ")
    : `static, ${t.staticAnswer} ${t.staticAnswered}`;
  return `seen ${t.seen} · always needed ${t.always} · static, allowed ${t.staticAllowed} · ${answered} · impossible (default action) ${t.impossible}${t.unresolved !== undefined ? ` · ${t.unresolved} reached syscall site(s) the analysis could not resolve` : ""}`;
}
