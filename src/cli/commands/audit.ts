import type { Command } from "commander";
import type { AuditPatch, AuditReport, AuditSession } from "../../api/audit.js";
import { SysfenceError } from "../../errors.js";
import { printable } from "../../util/printable.js";
import { type CliIO, toJson, writeOutput } from "../io.js";
import { addOptions, type OptionSpec } from "../options.js";

interface AuditOpts {
  source: "auto" | "journal" | "dmesg" | "audit-log";
  since?: string;
  follow?: boolean;
  json?: boolean;
  patch?: string;
  policy?: string;
  output?: string;
  exe?: string;
}

/** `audit`'s options, in the order `--help` lists them. */
const AUDIT_OPTIONS: readonly OptionSpec[] = [
  ["--source <source>", "auto | journal | dmesg | audit-log", "auto"],
  ["--since <time>", "only records since: epoch seconds, an ISO date, or 30s/10m/2h/1d ago"],
  ["--exe <path>", "only records from this program (path or name)"],
  ["--follow", "keep reading new records as they arrive (one line each)"],
  ["--patch <policy>", "print the minimal change to this sysfence policy that allows what the records show"],
  [
    "--policy <policy>",
    "the policy the records came from: errno records show the errno it answers (the kernel logs none)",
  ],
  ["-o, --output <file>", "with --patch: write the patched policy here (atomically)"],
  ["--json", "print JSON"],
];

/** A record's time as ISO 8601; "?" when absent or outside what a Date can hold. */
const when = (t?: number) => {
  const d = t === undefined ? undefined : new Date(t * 1000);
  return d && Number.isFinite(d.getTime()) ? d.toISOString().replace(".000Z", "Z") : "?";
};

/** `sysfence audit`. */
export function registerAudit(program: Command, io: CliIO): void {
  const command = program
    .command("audit")
    .description(
      "read the kernel's SECCOMP audit records (type 1326): what was killed, denied, trapped or logged",
    )
    .argument(
      "[file]",
      "a log file (dmesg, journalctl or audit.log output) or - for stdin; default: the system's logs",
    );
  addOptions(command, AUDIT_OPTIONS)
    .addHelpText(
      "after",
      "\nExit status: 0 when no record was found, 1 when there were violations (for cron).",
    )
    .action((file: string | undefined, opts: AuditOpts) => auditCommand(file, opts, io));
}

/** `sysfence audit [FILE]`: the records read (or followed) by the library, then printed or patched in. */
async function auditCommand(file: string | undefined, opts: AuditOpts, io: CliIO): Promise<void> {
  // a learning run's profile (run --learn OUT) in place of the kernel's records
  const learned = await import("./audit-learned.js");
  if (opts.patch && file && (await learned.isProfileFile(file)))
    return learned.patchFromLearned(opts.patch, file, opts, io);
  const api = await import("../../api/audit.js");
  const session = await api.openAudit(file, opts);
  if (opts.follow) return followCommand(session, opts, io);
  const report = await api.readAudit(session);
  if (report.suppressed)
    io.stderr(
      `sysfence audit: warning: the kernel dropped ${report.suppressed} audit message(s) (printk rate limit without auditd; raise kernel.printk_ratelimit_burst or run auditd).\n`,
    );
  // listing, the records --exe leaves out are the point of it; patching, what was left out is said
  for (const line of report.notes)
    if (session.patchTarget || !line.startsWith("ignored")) io.stderr(`sysfence audit: ${line}\n`);
  if (opts.patch && session.patchTarget) printPatch(api.patchFromAudit(session, report), opts, io);
  else printReport(session, report, opts, io);
  if (report.violations.length)
    throw new SysfenceError("E_RECORDED_FAILURE", `${report.records.length} SECCOMP record(s) found.`, {
      exitStatus: 1,
    });
}

/** `audit --follow`: one line per record until SIGINT or SIGTERM; exit 1 when any was seen. */
async function followCommand(session: AuditSession, opts: AuditOpts, io: CliIO): Promise<void> {
  const { followAudit } = await import("../../api/audit.js");
  let found = 0;
  await new Promise<void>((resolve) => {
    const stop = followAudit(
      session,
      (r, answer) => {
        found++;
        io.stdout(
          opts.json
            ? `${toJson(r, 0)}\n`
            : `${when(r.time)} ${printable(r.exe ?? r.comm ?? "?")}[${r.pid ?? "?"}] ${r.arch ?? r.audit.toString(16)} ${r.syscall ?? `nr ${r.nr}`} → ${answer}\n`,
        );
      },
      (line, why) =>
        io.stderr(
          `sysfence audit: ${session.source}:${line}: a malformed SECCOMP record (${printable(why)}); ignored.\n`,
        ),
    );
    const end = () => {
      stop();
      resolve();
    };
    process.once("SIGINT", end);
    process.once("SIGTERM", end);
  });
  if (found)
    throw new SysfenceError("E_RECORDED_FAILURE", `${found} SECCOMP record(s) seen.`, { exitStatus: 1 });
}

/** `audit --patch`: with -o - the patched policy, with -o FILE a summary, without -o the diff. */
function printPatch(p: AuditPatch, opts: AuditOpts, io: CliIO): void {
  for (const s of p.skipped)
    io.stderr(`sysfence audit: not added: ${s.syscall} (${printable(s.exe)}, ${s.arch}): ${s.why}\n`);
  if (opts.output && p.added.length) writeOutput(opts.output, p.text, io);
  if (opts.json && opts.output !== "-")
    io.stdout(`${toJson({ added: p.added, skipped: p.skipped, diff: p.diff, applyIn: p.applyIn })}\n`);
  else if (opts.output && opts.output !== "-")
    io.stdout(
      p.added.length
        ? `${opts.output}: ${opts.patch} with ${p.added.length} call(s) allowed (${p.added.join(", ")}); ${p.stat.added} line(s) added, ${p.stat.removed} removed\n`
        : `${opts.output}: not written (nothing to add to ${opts.patch})\n`,
    );
  else if (!opts.output) {
    io.stdout(p.diff);
    if (p.diff && p.applyIn !== process.cwd())
      io.stderr(
        `sysfence audit: ${opts.patch} is outside this directory: apply the diff in ${printable(p.applyIn)} (patch -p1 -d ${printable(p.applyIn)}).\n`,
      );
  }
  io.stderr(
    `sysfence audit: ${p.added.length ? `the patch allows ${p.added.join(", ")}` : `nothing to add${opts.output ? `; ${opts.output} not written` : ""}`}\n`,
  );
}

/** The records found: JSON, or one line per program, arch, syscall and action. */
function printReport(session: AuditSession, r: AuditReport, opts: AuditOpts, io: CliIO): void {
  if (opts.json)
    io.stdout(
      `${toJson({ source: session.source, records: r.records.length, suppressed: r.suppressed, violations: r.violations })}\n`,
    );
  else if (r.violations.length === 0) io.stdout(`no SECCOMP records in ${session.source}\n`);
  else {
    io.stdout(`${r.records.length} SECCOMP record(s) in ${session.source}:\n`);
    for (const v of r.violations)
      io.stdout(
        `  ${printable(v.exe).padEnd(28)} ${v.arch.padEnd(8)} ${v.syscall.padEnd(20)} ${v.action.padEnd(13)} ×${String(v.count).padEnd(5)} ${when(v.firstSeen)} … ${when(v.lastSeen)}\n`,
      );
  }
}
