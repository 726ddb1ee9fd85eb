import type { Command } from "commander";
import { type CliIO, stdinOf, toJson, UsageError, writeOutput } from "../io.js";
import { addOptions, type OptionSpec, repeatable } from "../options.js";

interface GenerateOpts {
  allowIncomplete?: boolean;
  json?: boolean;
  output?: string;
  phase?: "work" | "all";
  exe?: string[];
  threadRole?: "main" | "workers" | "all";
  defaultAction?: string;
  args?: "strict" | "safe" | "pin" | "off";
  errno?: string[];
  allowClone3?: boolean;
  fromAudit?: string;
  auditExe?: string[];
  static?: string;
  unseen?: string;
  finalize?: string;
  since?: string;
  source?: string;
  landlock?: boolean;
  writable?: string[];
  readable?: string[];
  anyBindPort?: boolean;
  allowUdp?: boolean;
}

/** `generate`'s options, in the order `--help` lists them. */
const GENERATE_OPTIONS: readonly OptionSpec[] = [
  ["-o, --output <file>", "the policy (YAML); default: stdout"],
  ["--json", "print JSON: the policy text, its statistics per tier, notes and warnings"],
  [
    "--allow-incomplete",
    "use profiles whose recording lost events (refused by default: the policy could miss calls)",
  ],
  [
    "--phase <phase>",
    "all | work (default: all, launch-ready; work only for lockdown() or a filter installed after start-up)",
  ],
  [
    "--exe <exe>",
    "only processes running this program (path or name; repeat for more); with --finalize: the program whose records count",
    repeatable,
  ],
  [
    "--thread-role <role>",
    "main | workers | all: the thread-group leader, the other threads, or both",
    "all",
  ],
  ["--default-action <action>", "what every other call gets", "kill-process"],
  [
    "--writable <dir>",
    "a directory the program may write in besides those the recording saw it write in (repeatable; absolute)",
    repeatable,
  ],
  [
    "--readable <dir>",
    "a directory the program may read besides the files the recording saw it read (repeatable; absolute): a server recorded serving one page, a tool run on one input",
    repeatable,
  ],
  [
    "--any-bind-port",
    "let the program bind any TCP port (default: only the ports it bound in the recording — a daemon moved to another port needs this or a new recording)",
  ],
  [
    "--allow-udp",
    "let the program make UDP sockets over IPv4 and IPv6 (default: only if the recording made one — a DNS lookup of a host name needs UDP; Landlock does not confine where datagrams go)",
  ],
  [
    "--no-landlock",
    "no file layer: leave out the landlock: section the recording's path uses give (file, socket, signal and IPC calls then stay seen-only)",
  ],
  [
    "--args <mode>",
    "argument rules: safe (ordinary values + seen) | pin (seen only) | strict | off; other values get EPERM",
    "safe",
  ],
  [
    "--errno <name=errno>",
    "answer a call with an errno instead of allowing it (openat=EACCES; repeat for more)",
    repeatable,
  ],
  ["--allow-clone3", "allow clone3 (default ENOSYS: its flags cannot be checked; libc falls back to clone)"],
  [
    "--from-audit <source>",
    "also allow the calls in SECCOMP audit records: a file, -, or auto|dmesg|journal|audit-log",
  ],
  [
    "--audit-exe <exe>",
    "with --from-audit: take the records of this program (path or name; repeat for more) instead of the profiles' own programs",
    repeatable,
  ],
  [
    "--static <mode>",
    "auto | on | off: add calls static analysis finds reachable but the recording never saw (auto: when the recorded executables are on this machine, unchanged)",
    "auto",
  ],
  [
    "--unseen <answer>",
    "what a reachable, unseen, high-risk call gets: errno (EPERM, default) | log (burn-in, then generate --finalize) | kill",
    "errno",
  ],
  [
    "--finalize <policy>",
    "end a burn-in: log rules of POLICY that never fired since --since become their final answer",
  ],
  ["--since <time>", "with --finalize: the burn-in window's start (epoch seconds, ISO date, 2h, 1d)"],
  ["--source <source>", "with --finalize: auto | journal | dmesg | audit-log | a log file", "auto"],
];

/** `sysfence generate PROFILE…`. */
export function registerGenerate(program: Command, io: CliIO): void {
  const command = program
    .command("generate")
    .description(
      "a least-privilege policy from recorded profiles: allow-list, argument rules, errno answers, a comment per rule",
    )
    .argument("[profiles...]", "profiles written by sysfence record (several: their union)");
  addOptions(command, GENERATE_OPTIONS).action((files: string[], opts: GenerateOpts) =>
    opts.finalize ? finalizeCommand(opts, io) : generateCommand(files, opts, io),
  );
}

/** `sysfence generate PROFILE…` (or --from-audit): one library step, its policy printed and its notes told. */
async function generateCommand(files: string[], opts: GenerateOpts, io: CliIO): Promise<void> {
  if (files.length === 0 && !opts.fromAudit)
    throw new UsageError("give at least one profile (sysfence record -o p.json -- CMD), or --from-audit.");
  const o = await import("../../api/options.js");
  const { generate } = await import("../../api/generate.js");
  const { staticProgressText, startProgress } = await import("../progress.js");
  // on a terminal only, never with --json or -q (cli/progress.ts); erased however this scope ends
  using progress = startProgress(io, "sysfence generate", !opts.json);
  progress.update(`reading ${files.length} profile(s)`);
  const g = await generate(files, {
    phase: o.oneOf("--phase", opts.phase, o.PHASES),
    args: o.oneOf("--args", opts.args, o.ARGS_MODES),
    threadRole: o.oneOf("--thread-role", opts.threadRole, o.THREAD_ROLES),
    static: o.oneOf("--static", opts.static, o.STATIC_MODES),
    unseen: o.oneOf("--unseen", opts.unseen, o.UNSEEN_ANSWERS),
    exe: opts.exe,
    defaultAction: o.parseAction(opts.defaultAction ?? "kill-process"),
    errno: o.parseErrnoAnswers(opts.errno, "--errno"),
    allowClone3: opts.allowClone3,
    anyBindPort: opts.anyBindPort,
    allowUdp: opts.allowUdp,
    writable: o.writableDirs(opts.writable, "--writable"),
    readable: o.writableDirs(opts.readable, "--readable"),
    landlock: opts.landlock !== false,
    allowIncomplete: !!opts.allowIncomplete,
    fromAudit: opts.fromAudit,
    auditExe: opts.auditExe,
    file: opts.output,
    stdin: stdinOf(io),
    onMessage: (line) => progress.print(`sysfence generate: ${line}\n`),
    onNote: (n) => progress.print(`sysfence generate: note: ${n}\n`),
    onProgress: (p) => progress.update(staticProgressText(p)),
  });
  progress.done();
  if (opts.output) writeOutput(opts.output, g.text, io);
  if (opts.json) {
    io.stdout(
      `${toJson({ policy: g.text, phase: g.phase, stats: g.stats, notes: g.notes, warnings: g.warnings, ...(opts.output ? { writtenTo: opts.output } : {}) })}\n`,
    );
  } else if (!opts.output) io.stdout(g.text);
  for (const w of g.warnings) io.stderr(`sysfence generate: warning: ${w}\n`);
  for (const n of g.notes) io.stderr(`sysfence generate: note: ${n}\n`);
  const pct = ((100 * g.stats.allowed) / g.stats.known).toFixed(1);
  io.stderr(
    `sysfence generate: ${g.stats.allowed} of ${g.stats.known} syscalls allowed (${pct}%), argument rules on ${g.stats.argRestricted.length} (${g.stats.argRestricted.join(", ") || "none"}), phase ${g.phase}${opts.output ? ` → ${opts.output}` : ""}\n`,
  );
}

/** `generate --finalize POLICY --since T`: the burn-in's end, one library step; the rewritten policy printed. */
async function finalizeCommand(opts: GenerateOpts, io: CliIO): Promise<void> {
  if (!opts.since)
    throw new UsageError("--finalize needs --since: the burn-in window's start (e.g. --since 1d).");
  const { finalizeBurnIn } = await import("../../api/finalize.js");
  const result = await finalizeBurnIn(opts.finalize as string, {
    since: opts.since,
    exe: opts.exe,
    source: opts.source,
    onMessage: (line) => io.stderr(`sysfence generate: ${line}\n`),
  });
  if (opts.output) writeOutput(opts.output, result.text, io);
  else io.stdout(result.text);
  io.stderr(
    `sysfence generate: finalized ${result.finalized.length} log rule(s)${result.finalized.length ? ` (${result.finalized.join(", ")})` : ""}${result.fired.length ? `; ${result.fired.join(", ")} fired in the window: run sysfence audit --patch to allow them` : ""}\n`,
  );
}
