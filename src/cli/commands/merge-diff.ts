import type { Command } from "commander";
import { SysfenceError } from "../../errors.js";
import type { DiffInput } from "../../generate/diff.js";
import type { GenerateOptions } from "../../generate/generate.js";
import type { FilterSide } from "../../observe/filter-diff.js";
import { asFilterSides, readDiffSide } from "../diff-sides.js";
import { type CliIO, toJson, UsageError, writeOutput } from "../io.js";
import { DIFF_FORMATS, oneOf, PHASES, STATIC_MODES } from "../option-values.js";
import { repeatable } from "../options.js";

// (kept here for the commands that import them from this module)
export { readProfileOrPolicy, readStdinText } from "../diff-sides.js";

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
        const { readProfile, refuseLossy } = await import("../../record/read-profile.js");
        const { mergeProfiles } = await import("../../generate/merge.js");
        const profiles = await Promise.all(files.map(readProfile));
        refuseLossy(profiles, files, !!opts.allowIncomplete);
        const sources = [...files];
        if (opts.fromAudit) {
          const { auditProfile } = await import("../audit-input.js");
          profiles.push(await auditProfile(opts.fromAudit, profiles, opts.auditExe, undefined, "merge", io));
          sources.push(`audit:${opts.fromAudit}`);
        }
        const merged = mergeProfiles(profiles, sources);
        const text = `${toJson(merged)}\n`;
        if (opts.output) writeOutput(opts.output, text, io);
        if (opts.json)
          io.stdout(
            `${toJson({
              ...(opts.output ? { writtenTo: opts.output } : { profile: merged }),
              inputs: sources,
              profiles: profiles.length,
              distinctSyscalls: Object.keys(merged.syscalls).length,
              calls: Object.values(merged.syscalls).reduce((a, c) => a + c.setup + c.work, 0),
              complete: merged.complete,
              phaseBoundary: merged.phaseBoundary ?? null,
            })}\n`,
          );
        else if (!opts.output) io.stdout(text);
        io.stderr(
          `sysfence merge: ${profiles.length} profiles, ${Object.keys(merged.syscalls).length} distinct syscalls${merged.phaseBoundary ? `, work phase after ${merged.phaseBoundary}` : ""}${opts.output ? ` → ${opts.output}` : ""}\n`,
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
        if (opts.phase && !oneOf(PHASES, opts.phase))
          throw new UsageError(`--phase '${opts.phase}': use work or all.`);
        const format = opts.json ? "json" : opts.format;
        if (!oneOf(DIFF_FORMATS, format)) throw new UsageError(`--format '${format}': use text, md or json.`);
        if (!oneOf(STATIC_MODES, opts.static ?? "auto"))
          throw new UsageError(`--static '${opts.static}': use auto, on or off.`);
        if (oldFile === "-" && newFile === "-")
          throw new UsageError("only one of OLD and NEW can be - (stdin).");
        const { diffInputs, formatDiff, formatDiffMarkdown } = await import("../../generate/diff.js");
        // input trouble is exit 2: a CI check must never read a missing file as drift
        const asInput = (e: unknown) => {
          throw e instanceof SysfenceError
            ? new SysfenceError(e.code, e.message, { cause: e, exitStatus: 2, diagnostics: e.diagnostics })
            : e;
        };
        const read = (f: string) => readDiffSide(f, io).catch(asInput);
        const [sa, sb] = [await read(oldFile), await read(newFile)];
        const filters = await asFilterSides(sa, sb).catch(asInput);
        if (filters) {
          await filterDiff(filters, format, io);
          return;
        }
        const [a, b] = [sa, sb] as DiffInput[];
        const { diffGenerateOptions } = await import("../../generate/diff-options.js");
        let options: GenerateOptions = {};
        try {
          options = diffGenerateOptions(a, b, {
            phase: opts.phase,
            args: opts.args,
            static: (opts.static ?? "auto") as "auto" | "on" | "off",
            allowIncomplete: !!opts.allowIncomplete,
          });
        } catch (e) {
          asInput(e);
        }
        const d = diffInputs(a, b, options);
        const text =
          format === "json"
            ? `${toJson({ drift: d.denied.length > 0, ...d })}\n`
            : format === "md"
              ? formatDiffMarkdown(d, a.name, b.name)
              : formatDiff(d, a.name, b.name, opts.all);
        io.stdout(text);
        if (d.denied.length)
          throw new SysfenceError(
            "E_DRIFT",
            `${b.name} needs ${d.denied.length} call(s) that ${a.name}'s policy denies.`,
            {
              exitStatus: 1,
            },
          );
      },
    );
}

/** The semantic filter diff: exit 1 when any (architecture, syscall, argument range) differs. */
async function filterDiff(sides: [FilterSide, FilterSide], format: string, io: CliIO): Promise<void> {
  const { diffFilters } = await import("../../observe/filter-diff.js");
  const t = await import("../../observe/filter-diff-text.js");
  const [a, b] = sides;
  const d = diffFilters(a, b);
  io.stdout(
    format === "json"
      ? `${toJson({ drift: d.differences.length > 0, ...d })}\n`
      : format === "md"
        ? t.formatFilterDiffMarkdown(d, a.name, b.name)
        : t.formatFilterDiff(d, a.name, b.name),
  );
  if (d.differences.length)
    throw new SysfenceError(
      "E_DRIFT",
      `${b.name} decides ${d.differences.length} call range(s) differently from ${a.name}.`,
      {
        exitStatus: 1,
      },
    );
}
