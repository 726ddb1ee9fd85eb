// The frame every HTML report shares: one self-contained page (no scripts, no external files, readable
// offline), its style sheet, and what the pictures mark treatments with — a colour AND a pattern, with the
// word beside it in every legend, so nothing is told by colour alone.
import type { Treatment } from "./model.js";

export const esc = (s: string | number) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

export const LABEL: Record<Treatment, string> = {
  allow: "allowed",
  restricted: "allowed with argument rules",
  errno: "errno answer",
  denied: "denied",
};

/** A header cell of a column. */
export const th = (text: string, cls = "") => `<th scope="col"${cls ? ` class="${cls}"` : ""}>${text}</th>`;
/** A table with a header row; `rows` already hold `<tr>`s (their first cell a `<th scope="row">`). */
export const table = (cls: string, heads: string[], rows: string, caption?: string) =>
  `<table class="${cls}">${caption ? `<caption>${caption}</caption>` : ""}<thead><tr>${heads.join("")}</tr></thead><tbody>${rows}</tbody></table>`;

const STYLE = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:24px 32px}header h1{margin:0;font-size:22px;overflow-wrap:anywhere}
header p{margin:4px 0 0;color:#b8c0cc;overflow-wrap:anywhere}header code{color:#dfe5ee}
main{max-width:1180px;margin:0 auto;padding:24px 32px}
section{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:20px 24px;margin:0 0 20px;min-width:0}
h2{margin:0 0 12px;font-size:18px}h3{font-size:15px;margin:18px 0 8px}
p,li,td,th,dd,dt,span,b,code,summary{overflow-wrap:anywhere}
.summary{display:flex;gap:28px;align-items:center;flex-wrap:wrap}
.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:4px 16px;flex:1 1 260px;min-width:0}
.facts b{font-variant-numeric:tabular-nums}
.map{display:flex;flex-wrap:wrap;gap:2px}
.c{display:inline-block;min-width:14px;height:18px;font-size:9px;line-height:18px;padding:0 3px;border-radius:3px;color:#fff;white-space:nowrap;max-width:100%;overflow-wrap:normal}
.legend{display:flex;gap:8px 16px;flex-wrap:wrap;margin:0 0 10px;font-size:13px}
.legend i{display:inline-block;width:14px;height:14px;border-radius:3px;margin-right:5px;vertical-align:-2px;border:1px solid #9aa3ad}
.t-allow{background:#2e7d4f}
.t-restricted{background:#b07a00 repeating-linear-gradient(135deg,rgba(255,255,255,.38) 0 3px,transparent 3px 7px)}
.t-errno{background:#3f6fbf radial-gradient(rgba(255,255,255,.55) 1px,transparent 1.6px) 0 0/5px 5px}
.t-denied{background:#e3e6ea repeating-linear-gradient(45deg,rgba(0,0,0,.10) 0 1px,transparent 1px 5px)}
.t-closed{background:#c9302c repeating-linear-gradient(45deg,rgba(255,255,255,.45) 0 2px,transparent 2px 6px)}
.t-same-open{background:#a9cbb6}.c.t-same-open{color:#1d2330}
.c.t-restricted,.c.t-errno,.c.t-closed{text-shadow:0 0 2px rgba(0,0,0,.8)}
.risks{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(260px,100%),1fr));gap:10px}
.risk{border-radius:8px;padding:10px 12px;border:1px solid #e3e6ea;min-width:0}.risk p{margin:4px 0 0;font-size:13px;color:#444}
.risk .head{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:4px 8px}
.risk .head b{min-width:0}
.risk.open{border:2px solid #c9302c;background:#fdf1f0}.risk.shut{opacity:.8}
.badge{font-size:11px;font-weight:700;padding:1px 7px;border-radius:9px;background:#d6d9de;white-space:nowrap}
.open .badge{background:#c9302c;color:#fff}
table{border-collapse:collapse;width:100%;table-layout:auto}
caption{text-align:left;font-size:13px;color:#555;padding:0 0 6px}
th,td{padding:4px 8px;border-bottom:1px solid #eef0f3;vertical-align:top;text-align:left}
thead th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#555;border-bottom:2px solid #d6d9de}
tbody th{font-weight:400}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.bar{width:30%}td.bar span{display:block;height:10px;border-radius:5px;background:#2e7d4f;min-width:1px}
.top td.bar span{background:#3f6fbf}
.full{color:#b33}.partial{color:#8a5f00}.none{color:#2e7d4f}
ul.rules{margin:0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:2px 14px}
ul.rules li{min-width:0}
th.name code{overflow-wrap:normal;white-space:nowrap}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
.stack{display:flex;height:14px;border-radius:4px;overflow:hidden;min-width:0}
.stack span{display:block;height:100%}
.s-setup{background:#8a6fd1 repeating-linear-gradient(135deg,rgba(255,255,255,.4) 0 3px,transparent 3px 7px)}
.s-work{background:#2e7d4f}
.added,.better{color:#1f6b40}.removed,.worse{color:#b33}.changed{color:#8a5f00}
.mark{font-weight:700;display:inline-block;min-width:1.2em}
.timeline{position:relative;height:auto}
@media (max-width:640px){
  header{padding:16px}main{padding:12px}section{padding:14px 12px}
  .hide-narrow{display:none}
  th,td{padding:4px 4px}
}
`;

/** The page: a title, a line under it, and the sections. */
export function page(title: string, subtitle: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style></head><body>
<header><h1>${esc(title)}</h1><p>${subtitle}</p></header>
<main>
${body}
</main></body></html>
`;
}

/** The legend of the treatments (pattern swatch and word), with counts. */
export function legend(counts: Record<Treatment, number>): string {
  return (["allow", "restricted", "errno", "denied"] as Treatment[])
    .map((t) => `<span><i class="t-${t}"></i>${LABEL[t]} (${counts[t]})</span>`)
    .join("");
}
