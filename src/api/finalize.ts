// generate --finalize: the end of a burn-in — a policy's log rules that never fired in the window (read
// from the kernel log or the audit log, closed by a marker of sysfence's own) become their final answer.
import { readFile } from "node:fs/promises";
import { SysfenceError } from "../errors.js";
import { finalizePolicy, windowLines } from "../generate/finalize.js";
import { isMarkerLine, markerText, rateLimitInterval, sendAuditUserMessage } from "../observe/marker.js";
import { programsOfPolicy, recordFilter } from "../observe/programs.js";
import { groupRecords, suppressedCount } from "../observe/records.js";
import { RecordSieve } from "../observe/sieve.js";
import { bootTime, parseSince, readSource, sourceFromArgument } from "../observe/sources.js";
import { parsePolicy } from "../policy/parse.js";
import { systemErrorText } from "../util/errno.js";
import { printable } from "../util/printable.js";

/** Options of finalizeBurnIn(). */
export interface FinalizeOptions {
  /** The burn-in window's start: epoch seconds, an ISO date, or an age (2h, 1d). */
  since: string;
  /** The program whose records count (default: the programs the policy names). */
  exe?: readonly string[];
  /** auto (default), journal, dmesg, audit-log or a log file. */
  source?: string;
  /** Called with what the caller may show (records left out, the wait for the window's marker). */
  onMessage?: (line: string) => void;
}

/**
 * Ends a burn-in: reads the window's SECCOMP records of the policy's program, refuses a lossy window, and
 * returns the policy's text with the log rules that never fired given their final answer (comments kept),
 * which rules were finalized and which fired.
 */
export async function finalizeBurnIn(
  file: string,
  options: FinalizeOptions,
): Promise<ReturnType<typeof finalizePolicy>> {
  const onMessage = options.onMessage ?? (() => {});
  const text = await readFile(file, "utf8").catch((e) => {
    throw new SysfenceError("E_IO", `cannot read ${file}: ${systemErrorText(e)}.`, {
      cause: e,
    });
  });
  const since = parseSince(options.since) as number;
  // only the policy's program's records are evidence: the programs it names, or the one named with --exe
  const filter = recordFilter({
    named: options.exe ? [...options.exe] : undefined,
    target: programsOfPolicy(parsePolicy(text, { file }).policy),
    option: "--exe",
    none: `${file} does not name the program it is for (analysis.programs, written by generate with static analysis)`,
  });
  const src = sourceFromArgument(options.source ?? "auto");
  const source = src.path ?? src.kind;
  const sieve = new RecordSieve({ filter, since });
  // the kernel log says it dropped records only when the next message comes through after the rate-limit
  // interval: close the window with a marker of sysfence's own sent after that interval (observe/marker.ts)
  let until = Date.now() / 1000;
  let marker: { text: string; interval: number } | undefined;
  if (!src.path && (src.kind === "dmesg" || src.kind === "journal")) {
    const interval = rateLimitInterval();
    onMessage(
      `closing the window: a marker goes to the kernel log after the ${interval} s rate-limit interval`,
    );
    await new Promise((r) => setTimeout(r, interval * 1000 + 500));
    marker = { text: markerText(), interval };
    until = Date.now() / 1000;
    sendAuditUserMessage(marker.text);
  }
  const isMarker = marker
    ? (line: string) => isMarkerLine(line, (marker as { text: string }).text)
    : undefined;
  // kauditd prints the marker on its own time: read again until it shows (or give up: the window stays open)
  let all: string[] = [];
  for (let attempt = 0; ; attempt++) {
    all = [];
    await readSource(src, (line) => all.push(line));
    if (!isMarker || all.some(isMarker) || attempt >= 10) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const win = windowLines(all, isMarker);
  let suppressed = 0;
  // dmesg stamps lines with seconds since boot: a dropped-messages line counts only inside the window,
  // and the first stamped line is the oldest message the ring buffer still holds
  const boot = src.kind === "dmesg" ? bootTime() : undefined;
  let oldest: number | undefined;
  for (const line of win.lines) {
    const stamp = boot === undefined ? undefined : /^\[\s*(\d+\.\d+)\]/.exec(line);
    const at = stamp && boot !== undefined ? boot + Number(stamp[1]) : undefined;
    if (at !== undefined) oldest ??= at;
    const r = sieve.feed(line);
    if (!r && (at === undefined || at >= since)) suppressed += suppressedCount(line);
  }
  for (const line of sieve.report(source, "name the program with --exe", printable)) onMessage(line);
  const result = finalizePolicy(text, file, {
    source,
    since,
    until,
    violations: groupRecords(sieve.records),
    suppressed,
    malformed: sieve.malformed.length,
    oldest,
    ...(marker ? { marker: { state: win.found ? "found" : "missing", interval: marker.interval } } : {}),
  });
  return result;
}
