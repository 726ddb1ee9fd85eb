// A real browser for the HTML reports: Debian's chromium, headless (scripts/setup.sh installs it). A copy
// is driven over the DevTools protocol (--remote-debugging-pipe, no npm package): the page is laid out at a
// width, a script measures it, and a screenshot of the whole page is kept in a directory the tests print.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

export const CHROMIUM = ["chromium", "chromium-browser"].find(
  (c) => spawnSync(c, ["--version"], { encoding: "utf8" }).status === 0,
);

/** Where screenshots and measured pages go (SYSFENCE_ARTIFACTS, or a new temporary directory). */
export const ARTIFACTS =
  process.env.SYSFENCE_ARTIFACTS ?? mkdtempSync(join(tmpdir(), "sysfence-report-artifacts-"));

/**
 * Runs in the page: every element whose content is wider than its box (clipped, or spilling over what
 * follows), every element that reaches past the viewport's right edge, and siblings whose boxes overlap.
 * Elements inside an SVG picture (drawn to overlap) and invisible ones are not looked at.
 */
const MEASURE = `(() => {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  const name = (e) => e.tagName.toLowerCase() + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\\s+/).join(".") : "") + " «" + (e.textContent || "").trim().slice(0, 40) + "»";
  const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const all = [...document.body.querySelectorAll("*")].filter((e) => !e.closest("svg") && shown(e));
  for (const e of all) {
    const cs = getComputedStyle(e);
    if (cs.display !== "inline" && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)
      problems.push("overflows its box by " + (e.scrollWidth - e.clientWidth) + " px: " + name(e));
    const r = e.getBoundingClientRect();
    if (r.right > vw + 1) problems.push("reaches past the viewport (" + Math.round(r.right) + " > " + vw + "): " + name(e));
  }
  for (const p of all) {
    const kids = [...p.children].filter((k) => !k.closest("svg") && shown(k) && getComputedStyle(k).position !== "absolute");
    if (kids.length > 400) continue;
    for (let i = 0; i < kids.length; i++) {
      const a = kids[i].getBoundingClientRect();
      for (let j = i + 1; j < kids.length; j++) {
        const b = kids[j].getBoundingClientRect();
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 1) problems.push("overlaps its sibling: " + name(kids[i]) + " and " + name(kids[j]));
      }
    }
  }
  return JSON.stringify({ viewport: vw, height: document.documentElement.scrollHeight, problems });
})()`;

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio"];

/**
 * Lays `html` out in a viewport `width` px wide (the DevTools protocol over --remote-debugging-pipe:
 * headless windows are at least 500 px wide, so narrower widths are set by device-metrics emulation), runs
 * the measurement, and keeps a screenshot of the whole page in ARTIFACTS.
 */
export async function measure(html: string, width: number, name: string) {
  const file = join(ARTIFACTS, `${name}-${width}.html`);
  writeFileSync(file, html);
  const browser = spawn(CHROMIUM as string, [...FLAGS, "--remote-debugging-pipe"], {
    stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
  });
  let stderr = "";
  browser.stderr?.on("data", (d) => {
    stderr += d;
  });
  const toBrowser = browser.stdio[3] as Writable;
  const fromBrowser = browser.stdio[4] as Readable;
  const waiting = new Map<number, { ok: (v: Record<string, unknown>) => void; fail: (e: Error) => void }>();
  const events: { method: string; sessionId?: string }[] = [];
  let onEvent = () => {};
  let buffered = "";
  fromBrowser.on("data", (d: Buffer) => {
    buffered += d.toString("utf8");
    let end = buffered.indexOf("\0");
    while (end >= 0) {
      const msg = JSON.parse(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf("\0");
      if (msg.id !== undefined) {
        const w = waiting.get(msg.id);
        waiting.delete(msg.id);
        if (msg.error) w?.fail(new Error(`${JSON.stringify(msg.error)}`));
        else w?.ok(msg.result);
      } else {
        events.push(msg);
        onEvent();
      }
    }
  });
  let next = 1;
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((ok, fail) => {
      const id = next++;
      waiting.set(id, { ok, fail });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  const event = (method: string) =>
    new Promise<void>((ok) => {
      onEvent = () => {
        if (events.some((e) => e.method === method)) ok();
      };
      onEvent();
    });
  try {
    const { targetId } = await send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = (await send("Target.attachToTarget", { targetId, flatten: true })) as {
      sessionId: string;
    };
    await send("Page.enable", {}, sessionId);
    await send(
      "Emulation.setDeviceMetricsOverride",
      { width, height: 900, deviceScaleFactor: 1, mobile: width < 600 },
      sessionId,
    );
    const loaded = event("Page.loadEventFired");
    await send("Page.navigate", { url: `file://${file}` }, sessionId);
    await loaded;
    const r = (await send("Runtime.evaluate", { expression: MEASURE, returnByValue: true }, sessionId)) as {
      result: { value: string };
    };
    const m = JSON.parse(r.result.value) as { viewport: number; height: number; problems: string[] };
    const shot = (await send(
      "Page.captureScreenshot",
      { format: "png", captureBeyondViewport: true, clip: { x: 0, y: 0, width, height: m.height, scale: 1 } },
      sessionId,
    )) as { data: string };
    const png = join(ARTIFACTS, `${name}-${width}.png`);
    writeFileSync(png, Buffer.from(shot.data, "base64"));
    return { ...m, screenshot: png };
  } catch (e) {
    throw new Error(`chromium: ${(e as Error).message}\n${stderr.slice(-2000)}`);
  } finally {
    browser.kill();
  }
}
