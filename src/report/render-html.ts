// The report as one self-contained HTML page: no scripts, no external files, readable offline.

import { processSummary, type Report, type Treatment } from "./model.js";
import { tierLine } from "./render-text.js";

const esc = (s: string | number) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

const COLOR: Record<Treatment, string> = {
  allow: "#2e9d5b",
  restricted: "#e0a526",
  errno: "#4a7fd4",
  denied: "#d6d9de",
};
const LABEL: Record<Treatment, string> = {
  allow: "allowed",
  restricted: "allowed with argument rules",
  errno: "errno answer",
  denied: "denied",
};

function donut(allowed: number, known: number): string {
  const r = 52;
  const c = 2 * Math.PI * r;
  const frac = allowed / Math.max(known, 1);
  return `<svg viewBox="0 0 140 140" width="150" height="150" role="img" aria-label="${allowed} of ${known} allowed">
<circle cx="70" cy="70" r="${r}" fill="none" stroke="#e8eaee" stroke-width="18"/>
<circle cx="70" cy="70" r="${r}" fill="none" stroke="${frac > 0.25 ? "#d9534f" : "#2e9d5b"}" stroke-width="18" stroke-dasharray="${(c * frac).toFixed(1)} ${c.toFixed(1)}" transform="rotate(-90 70 70)"/>
<text x="70" y="68" text-anchor="middle" font-size="24" font-weight="700">${(100 * frac).toFixed(1)}%</text>
<text x="70" y="90" text-anchor="middle" font-size="11" fill="#555">${allowed} of ${known}</text></svg>`;
}

/** One HTML page. */
export function renderHtml(r: Report): string {
  const counts = (t: Treatment) => r.syscalls.filter((s) => s.treatment === t).length;
  const cells = r.syscalls
    .map(
      (s) =>
        `<span class="c" style="background:${COLOR[s.treatment]}" title="${esc(`${s.nr} ${s.name}: ${LABEL[s.treatment]}${s.detail ? ` — ${s.detail}` : ""}${s.description ? `\n${s.description}` : ""}${s.seen ? `\nrecorded ×${s.seen}` : ""}`)}">${s.treatment === "denied" ? "" : esc(s.name)}</span>`,
    )
    .join("");
  const legend = (["allow", "restricted", "errno", "denied"] as Treatment[])
    .map((t) => `<span><i style="background:${COLOR[t]}"></i>${LABEL[t]} (${counts(t)})</span>`)
    .join("");
  const risky = r.risky
    .map((k) => {
      const open = k.treatment === "allow" || k.treatment === "restricted";
      return `<div class="risk ${open ? "open" : "shut"}"><b>${esc(k.what)}</b><span class="badge">${open ? (k.treatment === "allow" ? "ALLOWED" : "RESTRICTED") : k.treatment === "errno" ? "errno" : "denied"}</span><p>${esc(k.why)}</p></div>`;
    })
    .join("");
  const groups = r.groups
    .map(
      (g) =>
        `<tr><td><code>${esc(g.name)}</code></td><td class="bar"><span style="width:${((100 * g.allowed) / g.members).toFixed(0)}%"></span></td><td>${g.allowed}/${g.members}</td><td class="${g.status}">${g.status}</td><td>${esc(g.description)}</td></tr>`,
    )
    .join("");
  const rules = r.syscalls
    .filter((s) => s.treatment === "restricted" || (s.treatment === "errno" && s.detail !== r.defaultAction))
    .map(
      (s) =>
        `<tr><td><code>${esc(s.name)}</code></td><td>${esc(s.detail)}</td><td>${esc(s.description)}</td></tr>`,
    )
    .join("");
  let recorded = "";
  if (r.profile) {
    const p = r.profile;
    const max = Math.max(1, ...p.top.map(([, c]) => c));
    recorded = `<section><h2>What was recorded</h2>
<p>${esc(p.calls)} calls by <code>${esc(p.command)}</code>${p.complete ? "" : " <b>(incomplete recording)</b>"}${p.phaseBoundary ? `; work phase after <code>${esc(p.phaseBoundary)}</code>` : ""}.</p>
<ul>${p.processes.map((x) => `<li><code>${esc(x.exe)}</code> ${esc(processSummary(x))}</li>`).join("")}</ul>
<h3>Most frequent calls</h3><table class="top">${p.top.map(([n, c]) => `<tr><td><code>${esc(n)}</code></td><td class="bar"><span style="width:${((100 * c) / max).toFixed(1)}%"></span></td><td>${esc(c)}</td></tr>`).join("")}</table>
${p.sockets.length ? `<h3>Sockets</h3><ul>${p.sockets.map(([s, c]) => `<li><code>${esc(s)}</code> ×${esc(c)}</li>`).join("")}</ul>` : ""}
${p.files.length ? `<details><summary>Files (${esc(p.files.length)})</summary><ul>${p.files.map(([f, c]) => `<li><code>${esc(f)}</code> ×${esc(c)}</li>`).join("")}</ul></details>` : ""}
</section>`;
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(r.title)}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:24px 32px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#b8c0cc}
main{max-width:1180px;margin:0 auto;padding:24px 32px}
section{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:20px 24px;margin:0 0 20px}
h2{margin:0 0 12px;font-size:18px}h3{font-size:15px;margin:18px 0 8px}
.summary{display:flex;gap:28px;align-items:center;flex-wrap:wrap}.facts{display:grid;grid-template-columns:auto auto;gap:4px 16px}
.facts b{font-variant-numeric:tabular-nums}
.map{display:flex;flex-wrap:wrap;gap:2px}.c{display:inline-block;min-width:14px;height:18px;font-size:9px;line-height:18px;padding:0 3px;border-radius:3px;color:#fff;overflow:hidden;white-space:nowrap}
.legend{display:flex;gap:16px;flex-wrap:wrap;margin:0 0 10px;font-size:13px}.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:5px;vertical-align:-1px}
.risks{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}
.risk{border-radius:8px;padding:10px 12px;border:1px solid #e3e6ea}.risk p{margin:4px 0 0;font-size:13px;color:#444}
.risk.open{border-color:#d9534f;background:#fdf1f0}.risk.shut{opacity:.75}
.badge{float:right;font-size:11px;font-weight:700;padding:1px 7px;border-radius:9px;background:#d6d9de}.open .badge{background:#d9534f;color:#fff}
table{border-collapse:collapse;width:100%}td{padding:4px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
td.bar{width:180px}td.bar span{display:block;height:10px;border-radius:5px;background:#2e9d5b}
.top td.bar span{background:#4a7fd4}.full{color:#b33}.partial{color:#a67300}.none{color:#2e7d4f}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
</style></head><body>
<header><h1>${esc(r.title)}</h1><p>${esc(r.kind)} <code>${esc(r.source)}</code> · ${esc(r.arch)} · generated by sysfence</p></header>
<main>
<section class="summary">${donut(r.allowed, r.known)}
<div class="facts"><span>allowed</span><b>${r.allowed} of ${r.known} ${esc(r.arch)} syscalls</b>
<span>with argument rules</span><b>${counts("restricted")}</b>
<span>errno answers</span><b>${counts("errno")}</b>${r.tiers ? `\n<span>tiers</span><b>${esc(tierLine(r.tiers))}</b>` : ""}
<span>every other call</span><b>${esc(r.defaultAction)}</b>
<span>risky calls still open</span><b>${r.risky.filter((k) => k.treatment === "allow" || k.treatment === "restricted").length} of ${r.risky.length}</b></div></section>
<section><h2>Risky calls</h2><div class="risks">${risky}</div></section>
<section><h2>Every syscall</h2><div class="legend">${legend}</div><div class="map">${cells}</div></section>
${rules ? `<section><h2>Argument rules and errno answers</h2><table>${rules}</table></section>` : ""}
<section><h2>Groups (systemd)</h2><table>${groups}</table></section>
${recorded}
</main></body></html>
`;
}
