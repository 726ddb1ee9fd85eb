import { existsSync } from "node:fs";
import { basename } from "node:path";
import type { Command } from "commander";
import type { RecordResult } from "../../api/record.js";
import { SysfenceError } from "../../errors.js";

import { type CliIO, toJson, UsageError, writeOutput } from "../io.js";
import { parseIntegerOption } from "../options.js";

interface RecordOpts {
  output?: string;
  after?: string;
  onlyExe?: string[];
  excludeExe?: string[];
  fromStrace?: string;
  quiet?: boolean;
  pin?: boolean;
  checkCounts?: boolean;
  engine?: string;
  grace: string;
  pid?: string;
  container?: string;
  cgroup?: string;
  runtime?: string;
  duration?: string;
  json?: boolean;
}

type Api = typeof import("../../api/record.js");

/** record's options: flags, description and default (in --help's order). */
const OPTIONS: [string, string, string?][] = [
  [
    "-o, --output <file>",
    "the profile (JSON); default: COMMAND.profile.json here, named on stderr (- only with --from-strace: the program owns stdout)",
  ],
  [
    "--after <event>",
    "where the work phase begins: listen, accept, first:SYSCALL, ready, marker:TEXT, delay:SECONDS",
  ],
  ["--only-exe <exe...>", "count only processes running this program (path or name)"],
  ["--exclude-exe <exe...>", "do not count processes running this program"],
  [
    "--from-strace <file>",
    "build the profile from an existing 'strace -f -o FILE' log instead of running anything",
  ],
  [
    "-p, --pid <pid>",
    "attach to this running process and its descendants instead of starting a command; never stops or restarts it (no start-up phase: merge with a recording of a launch)",
  ],
  [
    "--container <name>",
    "attach to a running container's processes (its init pid from podman inspect, docker inspect or runc state), as --pid does",
  ],
  ["--runtime <runtime>", "with --container: podman, docker or runc (default: the first that knows it)"],
  [
    "--cgroup <path>",
    "record every process in this cgroup's directory and the cgroups under it, those that join it later, and their descendants (bpf engine; cgroup v2 followed in the kernel, v1 read every 100 ms)",
  ],
  [
    "--duration <seconds>",
    "with --pid, --container or --cgroup: stop recording after this long (default: Ctrl-C, SIGTERM, the process's exit or the cgroup's removal)",
  ],
  ["--no-pin", "do not pin strace and the program to one CPU"],
  [
    "--engine <engine>",
    "auto (default: the cheapest that records everything asked for: bpf, then ftrace, else strace), strace (every argument, paths, socket addresses, marker text), ftrace (the kernel's tracepoints: the program never stops; no paths or marker text; root) or bpf (bpftrace counts in the kernel: cheapest; root)",
    "auto",
  ],
  ["--check-counts", "also let strace count (-C) and report any difference from sysfence's counts"],
  [
    "--grace <seconds>",
    "after SIGTERM, SIGHUP or Ctrl-C (passed on to the program), kill it and its descendants if still running after this long",
    "10",
  ],
  ["-q, --quiet", "no progress on stderr"],
  [
    "--json",
    "when done, print JSON on stdout: where the profile went, the engine, calls, distinct syscalls, process images, completeness, the program's status (after the program's own output)",
  ],
];

/** `sysfence record`. */
export function registerRecord(program: Command, io: CliIO): void {
  const command = program
    .command("record")
    .usage(
      "[OPTIONS] [--] COMMAND [ARGS...] | --pid PID | --container NAME | --cgroup PATH | --from-strace LOG",
    )
    // options end at the first operand: `record -o p.json grep -r x .` records `grep -r x .`
    .passThroughOptions()
    .argument("[command...]", "the command to record and its arguments ('--' before it is optional)")
    .description(
      "run a command under strace or the kernel's tracepoints (forks, threads, execs followed) and write what it called as a profile",
    );
  for (const [flags, description, value] of OPTIONS) command.option(flags, description, value);
  command.action((argv: string[], opts: RecordOpts) => runRecord(argv, opts, io));
}

/** record's action: checks the options, records one of four ways, writes the profile and reports. */
async function runRecord(command: string[], opts: RecordOpts, io: CliIO): Promise<void> {
  const api = await import("../../api/record.js");
  api.parsePhase(opts.after); // a bad --after is refused before anything else
  if (opts.json && opts.fromStrace && (opts.output === undefined || opts.output === "-"))
    throw new UsageError(
      "--json prints the summary on standard output; give -o FILE for the profile read from the strace log.",
    );
  if (opts.runtime !== undefined && opts.container === undefined)
    throw new UsageError("--runtime goes with --container NAME.");
  const targets = [
    opts.pid && "--pid PID",
    opts.container && "--container NAME",
    opts.cgroup && "--cgroup PATH",
  ];
  if (targets.filter(Boolean).length > 1)
    throw new UsageError(`give one of ${targets.filter(Boolean).join(", ")}, not more.`);
  const recorded =
    opts.pid !== undefined || opts.container !== undefined || opts.cgroup !== undefined
      ? await recordRunning(api, opts, command, io)
      : opts.fromStrace
        ? await recordLog(api, opts, command, io)
        : await recordLaunch(api, opts, command, io);
  report(api, recorded.r, recorded.output, opts, io);
}

/** What was recorded and where its profile goes (undefined: stdout). */
interface Recorded {
  r: RecordResult;
  output?: string;
}

/** The focus options as the api takes them. */
function focusOf(opts: RecordOpts): { onlyExe?: string[]; excludeExe?: string[] } {
  return { onlyExe: opts.onlyExe, excludeExe: opts.excludeExe };
}

/** The profile's file: -o, or a default named on stderr; checked before anything runs. */
function outputFile(api: Api, opts: RecordOpts, name: string, io: CliIO): string {
  const output = opts.output ?? defaultOutput(name);
  if (!opts.output) io.stderr(`sysfence record: the profile goes to ${output} (no -o given)\n`);
  api.checkOutputFile(output);
  return output;
}

/** record --pid, --container or --cgroup: running processes, recorded until the window ends. */
async function recordRunning(api: Api, opts: RecordOpts, command: string[], io: CliIO): Promise<Recorded> {
  const what =
    opts.cgroup !== undefined ? "--cgroup" : opts.container !== undefined ? "--container" : "--pid";
  if (command.length || opts.fromStrace)
    throw new UsageError(
      `${what} records ${what === "--cgroup" ? "a cgroup's processes" : "a running process"}: give no command and no --from-strace.`,
    );
  if (opts.after) throw new UsageError(`${what} has no start-up phase to skip; --after does not apply.`);
  if (opts.checkCounts) throw new UsageError(`--check-counts compares a launch's counts; not with ${what}.`);
  if (opts.output === "-") throw new UsageError("-o -: give a file for the profile, e.g. -o service.json.");
  const duration = opts.duration === undefined ? undefined : Number(opts.duration);
  if (duration !== undefined && !(Number.isFinite(duration) && duration > 0))
    throw new UsageError(`--duration '${opts.duration}': give seconds, e.g. --duration 60.`);
  const engine = api.parseEngine(opts.engine);
  const say = (line: string) => opts.quiet || io.stderr(`sysfence record: ${line}\n`);
  const common = { engine, durationSeconds: duration, ...focusOf(opts) };
  if (opts.cgroup !== undefined) {
    const output = outputFile(api, opts, opts.cgroup.replace(/\/+$/, "") || "cgroup", io);
    const r = await api.recordProgram({
      cgroup: opts.cgroup,
      ...common,
      onAttached: (n) => say(`recording cgroup ${opts.cgroup} (live, ${n ?? 0} processes)`),
    });
    for (const w of r.warnings) say(`warning: ${w}`);
    say(
      `recorded cgroup ${r.cgroup?.path} (v${r.cgroup?.version}) with ${r.engine} (${r.why}); no start-up phase: merge with a recording of a launch before 'sysfence run' starts it`,
    );
    return { r, output };
  }
  let live = `PID ${opts.pid} (live)`;
  if (opts.container !== undefined) {
    const found = await api.containerInit(opts.container, opts.runtime);
    say(`container ${opts.container} (${found.runtime}): its init is pid ${found.pid}`);
    opts.pid = String(found.pid);
    live = `container ${opts.container} (pid ${found.pid}, live)`;
  }
  const pid = parseIntegerOption("--pid", opts.pid as string, {
    min: 1,
    max: 2147483647,
    what: "a process id",
  });
  const output = outputFile(api, opts, api.processExe(pid), io);
  const r = await api.recordProgram({
    pid,
    ...common,
    onAttached: () => say(`recording ${live}`),
  });
  for (const w of r.warnings) say(`warning: ${w}`);
  say(
    `attached to ${pid} with ${r.engine} (${r.why}); no start-up phase: merge with a recording of a launch before 'sysfence run' starts it`,
  );
  return { r, output };
}

/** record --from-strace LOG. */
async function recordLog(api: Api, opts: RecordOpts, command: string[], io: CliIO): Promise<Recorded> {
  if (command.length)
    throw new UsageError("give either --from-strace FILE or a command to record, not both.");
  const r = await api.recordProgram({
    fromLog: opts.fromStrace,
    after: opts.after,
    checkCounts: opts.checkCounts,
    onMessage: (line: string) => opts.quiet || io.stderr(`sysfence record: ${line}\n`),
    ...focusOf(opts),
  });
  return { r, output: opts.output };
}

/** record COMMAND: launched and recorded until it exits. */
async function recordLaunch(api: Api, opts: RecordOpts, command: string[], io: CliIO): Promise<Recorded> {
  if (command.length === 0)
    throw new UsageError(
      "give the command to record, e.g. sysfence record -o p.json ls / (or --pid PID, --cgroup PATH, or --from-strace LOG).",
    );
  if (opts.output === "-")
    throw new UsageError(
      "-o -: the recorded program's standard output is its own; give a file for the profile, e.g. -o profile.json.",
    );
  const grace = Number(opts.grace);
  if (!Number.isFinite(grace) || grace < 0)
    throw new UsageError(`--grace '${opts.grace}': give seconds, e.g. --grace 10.`);
  // the profile's file is decided before the program runs: a name clash is not found after an hour
  const output = outputFile(api, opts, command[0], io);
  const live = !opts.quiet && process.stderr.isTTY;
  const engine = api.parseEngine(opts.engine);
  const r = await api.recordProgram({
    argv: command,
    engine,
    after: opts.after,
    pin: opts.pin !== false,
    checkCounts: opts.checkCounts,
    graceSeconds: grace,
    onProgress: live
      ? (p) =>
          io.stderr(
            `\rsysfence record: ${p.calls} calls, ${p.distinct} distinct syscalls, ${p.processes} processes `,
          )
      : undefined,
    ...focusOf(opts),
  });
  if (live) io.stderr("\n");
  if (!opts.quiet && engine === "auto") io.stderr(`sysfence record: engine ${r.engine} (${r.why})\n`);
  return { r, output };
}

/** Writes the profile and says what was recorded (stderr; --json: stdout); a failed program's status fails. */
function report(api: Api, r: RecordResult, output: string | undefined, opts: RecordOpts, io: CliIO): void {
  const { profile, status, engine } = r;
  if (r.counts) {
    if (r.counts.differences.length)
      io.stderr(`sysfence record: counts differ from strace's: ${toJson(r.counts.differences, 0)}\n`);
    else if (r.counts.compared)
      io.stderr(
        `sysfence record: counts equal strace's for all ${r.counts.compared} syscalls that returned\n`,
      );
  }
  if (profile.pathsOmitted && !opts.quiet)
    io.stderr(
      `sysfence record: more distinct paths than a profile keeps; ${profile.pathsOmitted} uses of other paths are left out of "paths" (the counts of calls are whole)\n`,
    );
  const text = `${toJson(profile)}\n`;
  if (output) writeOutput(output, text, io);
  else io.stdout(text); // --from-strace without -o: nothing else owns stdout
  const n = Object.values(profile.syscalls).reduce((a, c) => a + c.setup + c.work, 0);
  const distinct = Object.keys(profile.syscalls).length;
  if (opts.json)
    io.stdout(
      `${toJson({
        writtenTo: output,
        engine,
        ...(opts.pid !== undefined ? { pid: Number(opts.pid) } : {}),
        ...(opts.container !== undefined ? { container: opts.container } : {}),
        ...(r.cgroup ? { cgroup: r.cgroup.path } : {}),
        calls: n,
        distinctSyscalls: distinct,
        processImages: api.imageCount(profile),
        complete: profile.complete,
        pathsOmitted: profile.pathsOmitted ?? 0,
        status,
      })}\n`,
    );
  if (!opts.quiet)
    io.stderr(
      `sysfence record: ${n} calls, ${distinct} distinct syscalls, ${api.imageCount(profile)} process images${profile.complete ? "" : " (incomplete)"}${output ? ` → ${output}` : ""}\n`,
    );
  if (status !== 0) {
    // 128 + N: the program died of signal N — a daemon that SIGTERM stops without a handler (vsftpd) ends so
    const signal = status > 128 ? api.signalName(status - 128) : undefined;
    throw new SysfenceError(
      "E_RECORDED_FAILURE",
      signal
        ? `the recorded program ended with status ${status} (128 + ${signal}: killed by that signal, the way a daemon without a handler stops); the profile was written and marked incomplete — generate still takes it: what the program called up to then is all there.`
        : `the recorded program exited with status ${status}; the profile was written and marked incomplete.`,
      { exitStatus: status },
    );
  }
}

/** COMMAND.profile.json in the current directory, or COMMAND.profile-2.json … when that exists. */
function defaultOutput(command: string): string {
  const base = basename(command).replace(/[^A-Za-z0-9._-]+/g, "_") || "program";
  for (let n = 1; ; n++) {
    const name = `${base}.profile${n === 1 ? "" : `-${n}`}.json`;
    if (!existsSync(name)) return name;
  }
}
