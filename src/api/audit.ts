// `sysfence audit`: the kernel's SECCOMP audit records of a log read (or followed), grouped, and --patch's
// minimal change to a policy that allows them. Returns results and calls back with lines; prints nothing.
import { readFile } from "node:fs/promises";
import { SysfenceError } from "../errors.js";
import { diffStat, type PatchResult, patchPolicy } from "../observe/patch.js";
import { programsOfPolicy, type RecordFilter, recordFilter } from "../observe/programs.js";
import { answerText, groupRecords, type SeccompRecord, type Violation } from "../observe/records.js";
import { DroppedCounter, RecordSieve } from "../observe/sieve.js";
import {
  type AuditSource,
  bootTime,
  followSource,
  parseSince,
  readSource,
  resolveSource,
} from "../observe/sources.js";
import type { Policy } from "../policy/model.js";
import { parsePolicy } from "../policy/parse.js";
import { systemErrorText } from "../util/errno.js";
import { printable } from "../util/printable.js";
import { AUDIT_SOURCES } from "./option-lists.js";

export type { SeccompRecord, Violation };

/** What openAudit() reads: the source, the window, the program, and the policies. */
export interface AuditOptions {
  /** auto | journal | dmesg | audit-log (a `file` argument wins). */
  source: string;
  /** Only records since: epoch seconds, an ISO date, or 30s/10m/2h/1d ago. */
  since?: string;
  /** Only records of this program (path or name). */
  exe?: string;
  /** The sysfence policy a patch is for. */
  patch?: string;
  /** The policy the records came from (its errno answers name the records' errnos). */
  policy?: string;
}

/** An audit about to read: the resolved source, the record sieve, and the policies read. */
export interface AuditSession {
  /** The source's name in messages: its path, or journal/dmesg. */
  source: string;
  src: { kind: string; path?: string };
  sieve: RecordSieve;
  /** The window's start (epoch seconds), and when dmesg's seconds-since-boot stamps began. */
  since?: number;
  boot?: number;
  filter?: RecordFilter;
  /** The policy whose errno answers the records show: `policy`, else the one `patch` edits. */
  answering?: Policy;
  /** The policy `patch` edits, as text and read. */
  patchTarget?: { file: string; text: string; policy: Policy };
}

/** The hint the sieve gives when it leaves other programs' records out. */
const HINT = "name the program with --exe";

/** A policy file's text and policy; an unreadable file is an E_IO error naming it. */
async function readPolicyText(file: string): Promise<{ text: string; policy: Policy }> {
  const text = await readFile(file, "utf8").catch((e) => {
    throw new SysfenceError("E_IO", `cannot read ${file}: ${systemErrorText(e)}.`, { cause: e });
  });
  return { text, policy: parsePolicy(text, { file }).policy };
}

/**
 * Prepares an audit of `file` (a log, -, or undefined for the system's logs): the source checked and
 * resolved, the policies read, and the filter: with `patch`, only the policy's program's records may
 * change it — the one named by `exe`, else the programs the policy names (analysis.programs).
 */
export async function openAudit(file: string | undefined, opts: AuditOptions): Promise<AuditSession> {
  if (!(AUDIT_SOURCES as readonly string[]).includes(opts.source))
    throw new SysfenceError(
      "E_USAGE",
      `unknown --source '${opts.source}'; use auto, journal, dmesg or audit-log.`,
    );
  const since = parseSince(opts.since);
  const src = resolveSource(opts.source as AuditSource, file);
  const patchTarget = opts.patch ? { file: opts.patch, ...(await readPolicyText(opts.patch)) } : undefined;
  const answering = opts.policy ? (await readPolicyText(opts.policy)).policy : patchTarget?.policy;
  const policyPrograms = patchTarget ? programsOfPolicy(patchTarget.policy) : [];
  const filter =
    opts.exe || policyPrograms.length
      ? recordFilter({
          named: opts.exe ? [opts.exe] : undefined,
          target: policyPrograms,
          option: "--exe",
          none: "",
        })
      : undefined;
  return {
    source: src.path ?? src.kind,
    src,
    sieve: new RecordSieve({ filter, since }),
    since,
    boot: src.kind === "dmesg" ? bootTime() : undefined,
    filter,
    answering,
    patchTarget,
  };
}

/** What one read of a source found. */
export interface AuditReport {
  /** The records taken (inside the window, of the program). */
  records: SeccompRecord[];
  /** Audit messages the kernel said it dropped, in the window (--since) where that can be told. */
  suppressed: number;
  /** The records grouped per program, arch, syscall and action. */
  violations: Violation[];
  /** What was left out and why (malformed lines, other programs' records: lines starting "ignored"). */
  notes: string[];
}

/** Reads every line of the session's source once, and groups the records taken. */
export async function readAudit(s: AuditSession): Promise<AuditReport> {
  // a drop before --since is not this window's: counted only where it may fall inside
  const dropped = new DroppedCounter({ since: s.since, boot: s.boot });
  await readSource(s.src, (line) => {
    dropped.feed(line);
    s.sieve.feed(line);
  });
  const suppressed = dropped.total;
  const records = s.sieve.records;
  return {
    records,
    suppressed,
    violations: groupRecords(records, s.answering),
    notes: s.sieve.report(s.source, HINT, printable),
  };
}

/**
 * Follows the session's source until the returned function is called: each record taken is passed to
 * `onRecord` (with its answer's text, errno named from the answering policy), each malformed SECCOMP
 * line to `onMalformed` with its line number.
 */
export function followAudit(
  s: AuditSession,
  onRecord: (r: SeccompRecord, answer: string) => void,
  onMalformed: (line: number, why: string) => void,
): () => void {
  return followSource(s.src, (line) => {
    const before = s.sieve.records.length;
    const d = s.sieve.feed(line);
    if (d && "malformed" in d && s.sieve.malformed.length) {
      const m = s.sieve.malformed[s.sieve.malformed.length - 1];
      onMalformed(m.line, m.why);
    }
    if (s.sieve.records.length === before) return;
    const r = s.sieve.records.pop() as SeccompRecord;
    onRecord(r, answerText(r.action, s.answering, r.arch ?? "", r.syscall ?? ""));
  });
}

/** --patch's result: the patched text, its diff and statistics, what was added and what was skipped. */
export interface AuditPatch extends PatchResult {
  stat: { added: number; removed: number };
}

/**
 * The minimal change to the session's `patch` policy that allows what the report's records show. Records
 * of several programs with no filter (neither `exe` nor the policy's analysis.programs) are a usage error:
 * audit records are the whole host's.
 */
export function patchFromAudit(s: AuditSession, report: AuditReport): AuditPatch {
  const target = s.patchTarget;
  if (!target)
    throw new SysfenceError("E_USAGE", "patchFromAudit(): the audit was opened without a policy to patch.");
  const programs = [...new Set(report.violations.map((v) => v.exe))];
  if (!s.filter && programs.length)
    throw new SysfenceError(
      "E_USAGE",
      `the records come from ${programs.length} program${programs.length === 1 ? "" : "s"} (${programs.slice(0, 5).map(printable).join(", ")}${programs.length > 5 ? ", …" : ""}) and ${target.file} does not name the program it is for (analysis.programs, written by generate with static analysis); audit records are the whole host's, so name the policy's program with --exe.`,
    );
  const p = patchPolicy(target.text, target.file, report.violations);
  return { ...p, stat: diffStat(p.diff) };
}
