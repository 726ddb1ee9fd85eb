import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { SysfenceError } from "../../errors.js";
import { systemErrorText } from "../../util/errno.js";
import { printable } from "../../util/printable.js";
import { type CliIO, toJson, UsageError, writeOutput } from "../io.js";
import { AUDIT_SOURCES, oneOf } from "../option-values.js";

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

/** A record's time as ISO 8601; "?" when absent or outside what a Date can hold. */
const when = (t?: number) => {
  const d = t === undefined ? undefined : new Date(t * 1000);
  return d && Number.isFinite(d.getTime()) ? d.toISOString().replace(".000Z", "Z") : "?";
};

/** `sysfence audit`. */
export function registerAudit(program: Command, io: CliIO): void {
  program
    .command("audit")
    .description(
      "read the kernel's SECCOMP audit records (type 1326): what was killed, denied, trapped or logged",
    )
    .argument(
      "[file]",
      "a log file (dmesg, journalctl or audit.log output) or - for stdin; default: the system's logs",
    )
    .option("--source <source>", "auto | journal | dmesg | audit-log", "auto")
    .option("--since <time>", "only records since: epoch seconds, an ISO date, or 30s/10m/2h/1d ago")
    .option("--exe <path>", "only records from this program (path or name)")
    .option("--follow", "keep reading new records as they arrive (one line each)")
    .option(
      "--patch <policy>",
      "print the minimal change to this sysfence policy that allows what the records show",
    )
    .option(
      "--policy <policy>",
      "the policy the records came from: errno records show the errno it answers (the kernel logs none)",
    )
    .option("-o, --output <file>", "with --patch: write the patched policy here (atomically)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nExit status: 0 when no record was found, 1 when there were violations (for cron).",
    )
    .action(async (file: string | undefined, opts: AuditOpts) => {
      // a learning run's profile (run --learn OUT) in place of the kernel's records
      const learned = await import("./audit-learned.js");
      if (opts.patch && file && (await learned.isProfileFile(file)))
        return learned.patchFromLearned(opts.patch, file, opts, io);
      const { answerText, groupRecords, suppressedCount } = await import("../../observe/records.js");
      const { programsOfPolicy, recordFilter } = await import("../../observe/programs.js");
      const { RecordSieve } = await import("../../observe/sieve.js");
      const { followSource, parseSince, readSource, resolveSource } = await import(
        "../../observe/sources.js"
      );
      if (!oneOf(AUDIT_SOURCES, opts.source))
        throw new UsageError(`unknown --source '${opts.source}'; use auto, journal, dmesg or audit-log.`);
      const since = parseSince(opts.since);
      const src = resolveSource(opts.source, file);
      const source = src.path ?? src.kind;
      // --patch: only the policy's program's records may change it — the one named with --exe, else the
      // programs the policy names (analysis.programs)
      const { parsePolicy } = await import("../../policy/parse.js");
      const readPolicy = async (file: string) => {
        const text = await readFile(file, "utf8").catch((e) => {
          throw new SysfenceError("E_IO", `cannot read ${file}: ${systemErrorText(e)}.`, {
            cause: e,
          });
        });
        return { text, policy: parsePolicy(text, { file }).policy };
      };
      const patchTarget = opts.patch ? await readPolicy(opts.patch) : undefined;
      // the policy whose errno answers the records show: --policy, else the one --patch edits
      const answering = opts.policy ? (await readPolicy(opts.policy)).policy : patchTarget?.policy;
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
      const hint = "name the program with --exe";
      const sieve = new RecordSieve({ filter, since });
      if (opts.follow) {
        let found = 0;
        await new Promise<void>((resolve) => {
          const stop = followSource(src, (line) => {
            const before = sieve.records.length;
            const d = sieve.feed(line);
            if (d && "malformed" in d && sieve.malformed.length) {
              const m = sieve.malformed[sieve.malformed.length - 1];
              io.stderr(
                `sysfence audit: ${source}:${m.line}: a malformed SECCOMP record (${printable(m.why)}); ignored.\n`,
              );
            }
            if (sieve.records.length === before) return;
            const r = sieve.records.pop() as NonNullable<(typeof sieve.records)[number]>;
            found++;
            io.stdout(
              opts.json
                ? `${toJson(r, 0)}\n`
                : `${when(r.time)} ${printable(r.exe ?? r.comm ?? "?")}[${r.pid ?? "?"}] ${r.arch ?? r.audit.toString(16)} ${r.syscall ?? `nr ${r.nr}`} → ${answerText(r.action, answering, r.arch ?? "", r.syscall ?? "")}\n`,
            );
          });
          const end = () => {
            stop();
            resolve();
          };
          process.once("SIGINT", end);
          process.once("SIGTERM", end);
        });
        if (found)
          throw new SysfenceError("E_RECORDED_FAILURE", `${found} SECCOMP record(s) seen.`, {
            exitStatus: 1,
          });
        return;
      }
      let suppressed = 0;
      await readSource(src, (line) => {
        suppressed += suppressedCount(line);
        sieve.feed(line);
      });
      const records = sieve.records;
      const violations = groupRecords(records, answering);
      if (suppressed)
        io.stderr(
          `sysfence audit: warning: the kernel dropped ${suppressed} audit message(s) (printk rate limit without auditd; raise kernel.printk_ratelimit_burst or run auditd).\n`,
        );
      // listing, the records --exe leaves out are the point of it; patching, what was left out is said
      for (const line of sieve.report(source, hint, printable))
        if (patchTarget || !line.startsWith("ignored")) io.stderr(`sysfence audit: ${line}\n`);
      if (opts.patch && patchTarget) {
        const { patchPolicy } = await import("../../observe/patch.js");
        const programs = [...new Set(violations.map((v) => v.exe))];
        if (!filter && programs.length)
          throw new UsageError(
            `the records come from ${programs.length} program${programs.length === 1 ? "" : "s"} (${programs.slice(0, 5).map(printable).join(", ")}${programs.length > 5 ? ", …" : ""}) and ${opts.patch} does not name the program it is for (analysis.programs, written by generate with static analysis); audit records are the whole host's, so name the policy's program with --exe.`,
          );
        const p = patchPolicy(patchTarget.text, opts.patch, violations);
        for (const s of p.skipped)
          io.stderr(`sysfence audit: not added: ${s.syscall} (${printable(s.exe)}, ${s.arch}): ${s.why}\n`);
        if (opts.output && p.added.length) writeOutput(opts.output, p.text, io);
        const { diffStat } = await import("../../observe/patch.js");
        const stat = diffStat(p.diff);
        // with -o - the patched policy is standard output; with -o FILE the change is in FILE, and standard
        // output gets a short summary; without -o, the diff
        if (opts.json && opts.output !== "-")
          io.stdout(`${toJson({ added: p.added, skipped: p.skipped, diff: p.diff, applyIn: p.applyIn })}\n`);
        else if (opts.output && opts.output !== "-")
          io.stdout(
            p.added.length
              ? `${opts.output}: ${opts.patch} with ${p.added.length} call(s) allowed (${p.added.join(", ")}); ${stat.added} line(s) added, ${stat.removed} removed\n`
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
      } else if (opts.json) {
        io.stdout(
          `${toJson({ source: src.path ?? src.kind, records: records.length, suppressed, violations })}\n`,
        );
      } else if (violations.length === 0) {
        io.stdout(`no SECCOMP records in ${src.path ?? src.kind}\n`);
      } else {
        io.stdout(`${records.length} SECCOMP record(s) in ${src.path ?? src.kind}:\n`);
        for (const v of violations) {
          io.stdout(
            `  ${printable(v.exe).padEnd(28)} ${v.arch.padEnd(8)} ${v.syscall.padEnd(20)} ${v.action.padEnd(13)} ×${String(v.count).padEnd(5)} ${when(v.firstSeen)} … ${when(v.lastSeen)}\n`,
          );
        }
      }
      if (violations.length)
        throw new SysfenceError("E_RECORDED_FAILURE", `${records.length} SECCOMP record(s) found.`, {
          exitStatus: 1,
        });
    });
}
