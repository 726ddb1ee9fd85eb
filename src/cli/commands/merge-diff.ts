import type { Command } from "commander";
import { SysfenceError } from "../../errors.js";
import { type CliIO, stdinOf, toJson, UsageError, writeOutput } from "../io.js";
import { repeatable } from "../options.js";

/** `sysfence merge` and `sysfence diff`. */
export function registerMergeDiff(program: Command, io: CliIO): void {
  program
    .command("merge")
    .description("merge profiles (runs, hosts, test shards) into one")
    .argument("<profiles...>", "profiles written by sysfence record")
    .option("-o, --output <file>", "the merged profile; default: stdout")
    .option("--from-audit <source>", "also add the calls in SECCOMP audit records (a file, -, auto, dmesg …)")
    .option(
      "--audit-exe <exe>",
      "with --from-audit: take the records of this program (path or name; repeat for more) instead of the profiles' own programs",
      repeatable,
    )
    .option(
      "--allow-incomplete",
      "use profiles whose recording lost events (refused by default: the policy could miss calls)",
    )
    .option(
      "--json",
      "print JSON: where the merged profile went (or the profile itself), the inputs, distinct syscalls, the work phase",
    )
    .action(
      async (
        files: string[],
        opts: {
          output?: string;
          fromAudit?: string;
          auditExe?: string[];
          allowIncomplete?: boolean;
          json?: boolean;
        },
      ) => {
        if (opts.json && opts.output === "-")
          throw new UsageError("--json prints its summary on standard output; give -o FILE, or no -o.");
        const { mergeFiles } = await import("../../api/merge.js");
        const m = await mergeFiles(files, {
          fromAudit: opts.fromAudit,
          auditExe: opts.auditExe,
          allowIncomplete: !!opts.allowIncomplete,
          stdin: stdinOf(io),
          onMessage: (line) => io.stderr(`sysfence merge: ${line}\n`),
        });
        const merged = m.profile;
        const text = `${toJson(merged)}\n`;
        if (opts.output) writeOutput(opts.output, text, io);
        if (opts.json)
          io.stdout(
            `${toJson({
              ...(opts.output ? { writtenTo: opts.output } : { profile: merged }),
              inputs: m.sources,
              profiles: m.profiles,
              distinctSyscalls: Object.keys(merged.syscalls).length,
              calls: Object.values(merged.syscalls).reduce((a, c) => a + c.setup + c.work, 0),
              complete: merged.complete,
              phaseBoundary: merged.phaseBoundary ?? null,
            })}\n`,
          );
        else if (!opts.output) io.stdout(text);
        io.stderr(
          `sysfence merge: ${m.profiles} profiles, ${Object.keys(merged.syscalls).length} distinct syscalls${merged.phaseBoundary ? `, work phase after ${merged.phaseBoundary}` : ""}${opts.output ? ` → ${opts.output}` : ""}\n`,
        );
      },
    );
  program
    .command("diff")
    .description(
      "what changed between two profiles or policies; exit 1 when NEW needs something OLD's policy denies",
    )
    .argument("<old>", "profile, policy, raw BPF program, sysfence dump output, or pid:PID")
    .argument("<new>", "profile, policy, raw BPF program, sysfence dump output, or pid:PID")
    .option("--phase <phase>", "work | all, for profiles (default: work when they have one)")
    .option(
      "--args <mode>",
      "safe | pin | strict | off: how OLD's policy is generated from a profile",
      "safe",
    )
    .option(
      "--static <mode>",
      "auto | on | off: OLD's policy from a profile includes what static analysis finds reachable, as generate does (default auto)",
      "auto",
    )
    .option("--format <format>", "text | md | json (md: a GitHub job summary)", "text")
    .option("--all", "text: also list the changes that need no decision")
    .option("--json", "same as --format json")
    .option(
      "--allow-incomplete",
      "use profiles whose recording lost events (refused by default: the policy could miss calls)",
    )
    .addHelpText(
      "after",
      `
Exit status: 0 no drift (NEW needs nothing OLD's policy denies; calls that vanished or are newly allowed
are not drift), 1 drift (use it in CI), 2 usage or input trouble (a missing, unreadable or invalid file):
never mistaken for drift.

With a filter on either side (raw BPF, 'sysfence dump' output, pid:PID), the diff is semantic: every
(architecture, syscall, argument range) the two sides decide differently, a stack judged by its combined
decision; sysfence's install canary and run's exec guard are listed apart. Exit 1 when any differs.`,
    )
    .action(
      async (
        oldFile: string,
        newFile: string,
        opts: {
          phase?: "work" | "all";
          args?: "strict" | "safe" | "pin" | "off";
          static?: string;
          format: string;
          all?: boolean;
          json?: boolean;
          allowIncomplete?: boolean;
        },
      ) => {
        const o = await import("../../api/options.js");
        const format = o.oneOf("--format", opts.json ? "json" : opts.format, o.DIFF_FORMATS);
        const api = await import("../../api/diff.js");
        const r = await api.diffFiles(oldFile, newFile, {
          phase: o.oneOf("--phase", opts.phase, o.PHASES),
          args: opts.args,
          static: o.oneOf("--static", opts.static, o.STATIC_MODES),
          allowIncomplete: !!opts.allowIncomplete,
          stdin: stdinOf(io),
          ...(await import("../../api/host.js")).host(),
        });
        if (r.kind === "filters") {
          const { kind: _, oldName: a, newName: b, ...d } = r;
          io.stdout(
            format === "json"
              ? `${toJson({ drift: d.drift, ...d.diff })}\n`
              : format === "md"
                ? api.formatFilterDiffMarkdown(d.diff, a, b)
                : api.formatFilterDiff(d.diff, a, b),
          );
          if (d.drift)
            throw new SysfenceError(
              "E_DRIFT",
              `${b} decides ${d.diff.differences.length} call range(s) differently from ${a}.`,
              { exitStatus: 1 },
            );
          return;
        }
        const { kind: _, oldName: a, newName: b, ...d } = r;
        io.stdout(
          format === "json"
            ? `${toJson(d)}\n`
            : format === "md"
              ? api.formatDiffMarkdown(d, a, b)
              : api.formatDiff(d, a, b, opts.all),
        );
        if (d.drift)
          throw new SysfenceError(
            "E_DRIFT",
            `${b} needs ${d.denied.length} call(s) that ${a}'s policy denies.`,
            {
              exitStatus: 1,
            },
          );
      },
    );
}
