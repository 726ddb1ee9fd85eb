import type { Command } from "commander";
import { SysfenceError } from "../../errors.js";
import { type CliIO, stdinOf, toJson, UsageError, writeOutput } from "../io.js";
import { addOptions, type OptionSpec, repeatable } from "../options.js";

/** `merge`'s options, in the order `--help` lists them. */
const MERGE_OPTIONS: readonly OptionSpec[] = [
  ["-o, --output <file>", "the merged profile; default: stdout"],
  ["--from-audit <source>", "also add the calls in SECCOMP audit records (a file, -, auto, dmesg …)"],
  [
    "--audit-exe <exe>",
    "with --from-audit: take the records of this program (path or name; repeat for more) instead of the profiles' own programs",
    repeatable,
  ],
  [
    "--allow-incomplete",
    "use profiles whose recording lost events (refused by default: the policy could miss calls)",
  ],
  [
    "--json",
    "print JSON: where the merged profile went (or the profile itself), the inputs, distinct syscalls, the work phase",
  ],
];

/** `diff`'s options, in the order `--help` lists them. */
const DIFF_OPTIONS: readonly OptionSpec[] = [
  ["--phase <phase>", "all | work, for profiles (default: all)"],
  ["--args <mode>", "safe | pin | strict | off: how OLD's policy is generated from a profile", "safe"],
  [
    "--static <mode>",
    "auto | on | off: OLD's policy from a profile includes what static analysis finds reachable, as generate does (default auto)",
    "auto",
  ],
  ["--format <format>", "text | md | json (md: a GitHub job summary)", "text"],
  ["--all", "text: also list the changes that need no decision"],
  ["--json", "same as --format json"],
  [
    "--allow-incomplete",
    "use profiles whose recording lost events (refused by default: the policy could miss calls)",
  ],
];

const DIFF_HELP = `
Exit status: 0 no drift (NEW needs nothing OLD's policy denies; calls that vanished or are newly allowed
are not drift), 1 drift (use it in CI), 2 usage or input trouble (a missing, unreadable or invalid file):
never mistaken for drift.

With a filter on either side (raw BPF, 'sysfence dump' output, pid:PID), the diff is semantic: every
(architecture, syscall, argument range) the two sides decide differently, a stack judged by its combined
decision; sysfence's install canary and run's exec guard are listed apart. Exit 1 when any differs.`;

interface MergeOpts {
  output?: string;
  fromAudit?: string;
  auditExe?: string[];
  allowIncomplete?: boolean;
  json?: boolean;
}

interface DiffOpts {
  phase?: "work" | "all";
  args?: "strict" | "safe" | "pin" | "off";
  static?: string;
  format: string;
  all?: boolean;
  json?: boolean;
  allowIncomplete?: boolean;
}

/** `sysfence merge` and `sysfence diff`. */
export function registerMergeDiff(program: Command, io: CliIO): void {
  const merge = program
    .command("merge")
    .description("merge profiles (runs, hosts, test shards) into one")
    .argument("<profiles...>", "profiles written by sysfence record");
  addOptions(merge, MERGE_OPTIONS).action((files: string[], opts: MergeOpts) =>
    mergeCommand(files, opts, io),
  );
  const diff = program
    .command("diff")
    .description(
      "what changed between two profiles or policies; exit 1 when NEW needs something OLD's policy denies",
    )
    .argument("<old>", "profile, policy, raw BPF program, sysfence dump output, or pid:PID")
    .argument("<new>", "profile, policy, raw BPF program, sysfence dump output, or pid:PID");
  addOptions(diff, DIFF_OPTIONS)
    .addHelpText("after", DIFF_HELP)
    .action((oldFile: string, newFile: string, opts: DiffOpts) => diffCommand(oldFile, newFile, opts, io));
}

/** `sysfence merge PROFILE…`: one library step, the merged profile written or printed. */
async function mergeCommand(files: string[], opts: MergeOpts, io: CliIO): Promise<void> {
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
}

/** `sysfence diff OLD NEW`: one library step, the diff printed; drift is exit status 1. */
async function diffCommand(oldFile: string, newFile: string, opts: DiffOpts, io: CliIO): Promise<void> {
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
    throw new SysfenceError("E_DRIFT", `${b} needs ${d.denied.length} call(s) that ${a}'s policy denies.`, {
      exitStatus: 1,
    });
}
