// The end of a burn-in: `generate --unseen log` wrote rules that log and allow the reachable calls no
// recording saw; `audit --patch` turned the ones that happened into allow rules; `generate --finalize`
// turns the log rules that never fired into their `final` answer, and writes the evidence window into the
// header. The kernel's log is lossy without auditd, so a window with dropped records or a ring buffer
// that no longer reaches back to the window's start is refused: silence there is not evidence.
import { isMap, isSeq, parseDocument, type YAMLMap } from "yaml";
import { SysfenceError } from "../errors.js";
import type { Violation } from "../observe/records.js";
import { formatAction } from "../policy/actions.js";
import { parsePolicy } from "../policy/parse.js";

export interface Evidence {
  /** Where the records came from (dmesg, journal, a file). */
  source: string;
  /** Window start and end, epoch seconds. */
  since: number;
  until: number;
  /** Records of the policy's program in the window, grouped (only LOG ones show a log rule fired). */
  violations: readonly Violation[];
  /** Messages the kernel said it dropped (kauditd_printk_skb: N callbacks suppressed). */
  suppressed: number;
  /** Malformed SECCOMP lines in the window: records that cannot be read, so may hide a rule that fired. */
  malformed?: number;
  /** The oldest message the source still holds (epoch seconds), when it can be lost (a ring buffer). */
  oldest?: number;
  /**
   * For the kernel log (dmesg, journal): whether sysfence's window-end marker, sent after the printk
   * rate-limit interval (observe/marker.ts), came through — "missing" leaves the window open. Suppression
   * lines before it count in `suppressed`; what comes after it is outside the window.
   */
  marker?: { state: "found" | "missing"; interval: number };
}

export interface Finalized {
  text: string;
  finalized: string[];
  fired: string[];
}

const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d+Z$/, "Z");

/**
 * The part of a kernel log that is the window: the lines before the marker line (all of them when there is
 * no marker to look for); `found` says whether the marker was there.
 */
export function windowLines(
  lines: readonly string[],
  isMarker?: (line: string) => boolean,
): { lines: readonly string[]; found: boolean } {
  if (!isMarker) return { lines, found: false };
  const at = lines.findIndex(isMarker);
  return at < 0 ? { lines, found: false } : { lines: lines.slice(0, at), found: true };
}

/** Refuses evidence that cannot prove a call never happened. */
export function checkEvidence(e: Evidence): void {
  if (e.marker?.state === "missing")
    throw new SysfenceError(
      "E_USAGE",
      `the window could not be closed: sysfence's marker, sent to the kernel log ${e.marker.interval} s after the window (the printk rate-limit interval), did not appear in ${e.source} — the rate limit was spent by other messages, or audit messages do not reach it. Without it, silence at the window's end proves nothing (dropped records are reported only when the next message comes through). Finalize again, or run auditd.`,
    );
  if (e.suppressed > 0)
    throw new SysfenceError(
      "E_USAGE",
      `the kernel dropped ${e.suppressed} audit message(s) in the window (kauditd_printk_skb … callbacks suppressed): a log rule that "never fired" may have fired. Get a complete window: run auditd (records then go to /var/log/audit/audit.log), lower the rate, or raise kernel.printk_ratelimit_burst, then finalize again.`,
    );
  if (e.malformed)
    throw new SysfenceError(
      "E_USAGE",
      `${e.source} holds ${e.malformed} malformed SECCOMP record(s) in the window (listed above): what they say cannot be read, so a log rule that "never fired" may have fired. Finalize from a log whose records are whole (auditd's audit.log), or a window that leaves them out.`,
    );
  if (e.oldest !== undefined && e.oldest > e.since)
    throw new SysfenceError(
      "E_USAGE",
      `${e.source} holds messages only from ${iso(e.oldest)}, after the window's start (${iso(e.since)}): the ring buffer wrapped and records may be lost. Use a shorter --since, a larger buffer (log_buf_len=), or auditd.`,
    );
}

/**
 * Turns every log rule with a `final` answer whose calls never fired (no record in the evidence) into that
 * answer; a log rule that did fire stays (patch it with `audit --patch` first) and is reported.
 */
export function finalizePolicy(text: string, file: string, e: Evidence): Finalized {
  checkEvidence(e);
  const parsed = parsePolicy(text, { file });
  if (parsed.format !== "sysfence")
    throw new SysfenceError("E_USAGE", `${file} is not a sysfence policy; --finalize edits sysfence YAML.`);
  const arches = new Set<string>(parsed.policy.architectures);
  // a log rule fired when the kernel logged its call with the LOG action: an ALLOW record (the kernel does
  // not write one for a filter's answer), or a KILL, ERRNO or TRAP one (another filter's answer), is not it
  const seen = new Set(
    e.violations.filter((v) => arches.has(v.arch) && v.action === "log").map((v) => v.syscall),
  );
  const doc = parseDocument(text);
  const rules = doc.get("syscalls", true);
  if (!isSeq(rules)) throw new SysfenceError("E_POLICY_INVALID", `${file}: syscalls is not a list.`);
  const finalized: string[] = [];
  const fired: string[] = [];
  const finals = new Set<string>();
  parsed.policy.rules.forEach((rule, i) => {
    if (rule.action.kind !== "log" || !rule.final) return;
    const node = rules.items[i] as YAMLMap;
    if (!isMap(node)) return;
    if (rule.names.some((n) => seen.has(n))) {
      fired.push(...rule.names.filter((n) => seen.has(n)));
      return;
    }
    node.set("action", formatAction(rule.final));
    finals.add(formatAction(rule.final));
    node.delete("final");
    const comment = node.get("comment");
    node.set(
      "comment",
      `${typeof comment === "string" ? `${comment}; ` : ""}never fired in the burn-in ${iso(e.since)} … ${iso(e.until)}: ${formatAction(rule.final)}`,
    );
    finalized.push(...rule.names);
  });
  const records = e.violations.reduce((a, v) => a + v.count, 0);
  const closed =
    e.marker?.state === "found"
      ? ` (closed by a marker after the ${e.marker.interval} s rate-limit interval)`
      : "";
  const header = `burn-in: ${iso(e.since)} … ${iso(e.until)} from ${e.source}, ${records} record(s), nothing dropped${closed}; ${finalized.length} syscall(s) finalized${finals.size ? ` to ${[...finals].join(", ")}` : ""}${fired.length ? `, ${fired.length} fired and still logged (${fired.join(", ")})` : ""}`;
  doc.commentBefore = `${doc.commentBefore ? `${doc.commentBefore}\n` : ""} ${header}`;
  const out = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  parsePolicy(out, { file }); // never write what does not read back
  return { text: out, finalized, fired };
}
