// The recording's part of a profile's report page: calls by phase, by program, the most frequent calls
// split by phase, and a timeline when the profile has times. Phases are told by pattern and word too.
import { esc, table, th } from "./html-page.js";
import type { Report } from "./model.js";
import { processSummary } from "./model.js";
import type { RecordingSummary } from "./recording.js";

const n = (x: number) => x.toLocaleString("en-US");
const pct = (a: number, b: number) => ((100 * a) / Math.max(b, 1)).toFixed(1);

/** A bar of setup and work calls, scaled to `max`, with its numbers in its title. */
function stack(setup: number, work: number, max: number): string {
  const w = (x: number) => `${((100 * x) / Math.max(max, 1)).toFixed(2)}%`;
  return `<div class="stack" role="img" aria-label="${setup} setup, ${work} work" title="setup ${n(setup)} · work ${n(work)}">${setup ? `<span class="s-setup" style="width:${w(setup)}"></span>` : ""}${work ? `<span class="s-work" style="width:${w(work)}"></span>` : ""}</div>`;
}

const PHASE_LEGEND = `<div class="legend"><span><i class="s-setup"></i>setup (before the work phase)</span><span><i class="s-work"></i>work</span></div>`;

function timeline(t: NonNullable<RecordingSummary["timeline"]>): string {
  const span = Math.max(t.end - t.start, 1e-3);
  const at = (s: number) => `+${(s - t.start).toFixed(s - t.start < 10 ? 2 : 0)} s`;
  const x = (s: number) => (10 + (980 * (s - t.start)) / span).toFixed(1);
  const marks = [
    ...t.recordings.map((r) => ({ at: r.at, what: `recording ${r.source}`, kind: "rec" })),
    ...t.work.map((w) => ({ at: w.at, what: `work phase of ${w.exe} begins`, kind: "work" })),
  ].sort((a, b) => a.at - b.at);
  const ticks = marks
    .map((m) =>
      m.kind === "work"
        ? `<path d="M${x(m.at)} 8 l6 10 h-12 z" fill="#2e7d4f"><title>${esc(m.what)}</title></path>`
        : `<rect x="${x(m.at)}" y="8" width="3" height="14" fill="#3f6fbf"><title>${esc(m.what)}</title></rect>`,
    )
    .join("");
  const rows = marks
    .map(
      (m) =>
        `<tr><th scope="row" class="num">${at(m.at)}</th><td>${m.kind === "work" ? "▲" : "▮"} ${esc(m.what)}</td></tr>`,
    )
    .join("");
  return `<h3>Over time (${span.toFixed(span < 10 ? 2 : 0)} s)</h3>
<svg viewBox="0 0 1000 40" width="100%" height="40" preserveAspectRatio="none" role="img" aria-label="the recording's ${span.toFixed(1)} seconds"><rect x="10" y="24" width="980" height="6" rx="3" fill="#d6d9de"/>${ticks}</svg>
${table("events", [th("when", "num"), th("what")], `<tr><th scope="row" class="num">+0 s</th><td>recording starts</td></tr>${rows}<tr><th scope="row" class="num">${at(t.end)}</th><td>recording ends</td></tr>`)}`;
}

/** The sections about what was recorded. */
export function recordingSections(p: NonNullable<Report["profile"]>): string {
  const s = p.summary;
  const total = s.setup + s.work;
  const maxProgram = Math.max(1, ...s.byProgram.map((x) => x.setup + x.work));
  const maxCall = Math.max(1, ...s.byCall.map((x) => x.setup + x.work));
  const programs = s.byProgram
    .map(
      (x) =>
        `<tr><th scope="row"><code>${esc(x.exe)}</code></th><td class="num">${n(x.processes)}</td><td class="num hide-narrow">${n(x.threads)}</td><td class="bar">${stack(x.setup, x.work, maxProgram)}</td><td class="num">${n(x.setup + x.work)}</td></tr>`,
    )
    .join("");
  const calls = s.byCall
    .map(
      (x) =>
        `<tr><th scope="row" class="name"><code>${esc(x.name)}</code></th><td class="bar">${stack(x.setup, x.work, maxCall)}</td><td class="num">${n(x.setup)}</td><td class="num">${n(x.work)}</td></tr>`,
    )
    .join("");
  return `<section><h2>What was recorded</h2>
<p>${n(p.calls)} calls by <code>${esc(p.command)}</code>${p.complete ? "" : " <b>(incomplete recording)</b>"}${p.phaseBoundary ? `; work phase after <code>${esc(p.phaseBoundary)}</code>` : "; no work phase marked (every call counts as setup)"}.</p>
${PHASE_LEGEND}
<div class="facts"><span>setup</span><b>${n(s.setup)} calls (${pct(s.setup, total)}%)</b><span>work</span><b>${n(s.work)} calls (${pct(s.work, total)}%)</b></div>
<p>${stack(s.setup, s.work, total)}</p>
${s.timeline ? timeline(s.timeline) : ""}
<h3>Calls by program</h3>
${table("programs", [th("program"), th("processes", "num"), th("threads", "num hide-narrow"), th("setup and work"), th("calls", "num")], programs)}
<details><summary>Every process (${p.processes.length})</summary><ul>${p.processes.map((x) => `<li><code>${esc(x.exe)}</code> ${esc(processSummary(x))}</li>`).join("")}</ul></details>
<h3>Most frequent calls, by phase</h3>
${table("top", [th("call"), th("setup and work"), th("setup", "num"), th("work", "num")], calls)}
${p.sockets.length ? `<h3>Sockets</h3><ul>${p.sockets.map(([x, c]) => `<li><code>${esc(x)}</code> ×${esc(c)}</li>`).join("")}</ul>` : ""}
${p.files.length ? `<details><summary>Files (${esc(p.files.length)})</summary><ul>${p.files.map(([f, c]) => `<li><code>${esc(f)}</code> ×${esc(c)}</li>`).join("")}</ul></details>` : ""}
</section>`;
}
