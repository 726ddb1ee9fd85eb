import { existsSync } from "node:fs";
import { basename } from "node:path";
import type { Command } from "commander";
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
  runtime?: string;
  duration?: string;
  json?: boolean;
}

/** `sysfence record`. */
export function registerRecord(program: Command, io: CliIO): void {
  program
    .command("record")
    .usage("[OPTIONS] [--] COMMAND [ARGS...] | --pid PID | --from-strace LOG")
    // options end at the first operand: `record -o p.json grep -r x .` records `grep -r x .`
    .passThroughOptions()
    .argument("[command...]", "the command to record and its arguments ('--' before it is optional)")
    .description(
      "run a command under strace or the kernel's tracepoints (forks, threads, execs followed) and write what it called as a profile",
    )
    .option(
      "-o, --output <file>",
      "the profile (JSON); default: COMMAND.profile.json here, named on stderr (- only with --from-strace: the program owns stdout)",
    )
    .option(
      "--after <event>",
      "where the work phase begins: listen, accept, first:SYSCALL, ready, marker:TEXT, delay:SECONDS",
    )
    .option("--only-exe <exe...>", "count only processes running this program (path or name)")
    .option("--exclude-exe <exe...>", "do not count processes running this program")
    .option(
      "--from-strace <file>",
      "build the profile from an existing 'strace -f -o FILE' log instead of running anything",
    )
    .option(
      "-p, --pid <pid>",
      "attach to this running process and its descendants instead of starting a command; never stops or restarts it (no start-up phase: merge with a recording of a launch)",
    )
    .option(
      "--container <name>",
      "attach to a running container's processes (its init pid from podman inspect, docker inspect or runc state), as --pid does",
    )
    .option(
      "--runtime <runtime>",
      "with --container: podman, docker or runc (default: the first that knows it)",
    )
    .option(
      "--duration <seconds>",
      "with --pid: stop recording after this long (default: Ctrl-C, SIGTERM or the process's exit)",
    )
    .option("--no-pin", "do not pin strace and the program to one CPU")
    .option(
      "--engine <engine>",
      "auto (default: the cheapest that records everything asked for: bpf, then ftrace, else strace), strace (every argument, paths, socket addresses, marker text), ftrace (the kernel's tracepoints: the program never stops; no paths or marker text; root) or bpf (bpftrace counts in the kernel: cheapest; root)",
      "auto",
    )
    .option("--check-counts", "also let strace count (-C) and report any difference from sysfence's counts")
    .option(
      "--grace <seconds>",
      "after SIGTERM, SIGHUP or Ctrl-C (passed on to the program), kill it and its descendants if still running after this long",
      "10",
    )
    .option("-q, --quiet", "no progress on stderr")
    .option(
      "--json",
      "when done, print JSON on stdout: where the profile went, the engine, calls, distinct syscalls, process images, completeness, the program's status (after the program's own output)",
    )
    .action(async (command: string[], opts: RecordOpts) => {
      const api = await import("../../api/record.js");
      api.parsePhase(opts.after); // a bad --after is refused before anything else
      const focus = { onlyExe: opts.onlyExe, excludeExe: opts.excludeExe };
      const onMessage = (line: string) => opts.quiet || io.stderr(`sysfence record: ${line}\n`);
      let output = opts.output;
      let r: Awaited<ReturnType<typeof api.recordProgram>>;
      if (opts.json && opts.fromStrace && (opts.output === undefined || opts.output === "-"))
        throw new UsageError(
          "--json prints the summary on standard output; give -o FILE for the profile read from the strace log.",
        );
      if (opts.container !== undefined) {
        if (opts.pid !== undefined) throw new UsageError("give --container NAME or --pid PID, not both.");
        const found = await api.containerInit(opts.container, opts.runtime);
        if (!opts.quiet)
          io.stderr(
            `sysfence record: container ${opts.container} (${found.runtime}): its init is pid ${found.pid}\n`,
          );
        opts.pid = String(found.pid);
      } else if (opts.runtime !== undefined) throw new UsageError("--runtime goes with --container NAME.");
      if (opts.pid !== undefined) {
        if (command.length || opts.fromStrace)
          throw new UsageError("--pid records a running process: give no command and no --from-strace.");
        if (opts.after) throw new UsageError("--pid has no start-up phase to skip; --after does not apply.");
        if (opts.checkCounts)
          throw new UsageError("--check-counts compares a launch's counts; not with --pid.");
        if (opts.output === "-")
          throw new UsageError("-o -: give a file for the profile, e.g. -o service.json.");
        const pid = parseIntegerOption("--pid", opts.pid, { min: 1, max: 2147483647, what: "a process id" });
        const duration = opts.duration === undefined ? undefined : Number(opts.duration);
        if (duration !== undefined && !(Number.isFinite(duration) && duration > 0))
          throw new UsageError(`--duration '${opts.duration}': give seconds, e.g. --duration 60.`);
        const engine = api.parseEngine(opts.engine);
        output = opts.output ?? defaultOutput(api.processExe(pid));
        if (!opts.output) io.stderr(`sysfence record: the profile goes to ${output} (no -o given)\n`);
        api.checkOutputFile(output);
        r = await api.recordProgram({
          pid,
          engine,
          durationSeconds: duration,
          ...focus,
          onAttached: () => opts.quiet || io.stderr(`sysfence record: recording PID ${pid} (live)\n`),
        });
        if (!opts.quiet) for (const w of r.warnings) io.stderr(`sysfence record: warning: ${w}\n`);
        if (!opts.quiet)
          io.stderr(
            `sysfence record: attached to ${pid} with ${r.engine} (${r.why}); no start-up phase: merge with a recording of a launch before 'sysfence run' starts it\n`,
          );
      } else if (opts.fromStrace) {
        if (command.length)
          throw new UsageError("give either --from-strace FILE or a command to record, not both.");
        r = await api.recordProgram({
          fromLog: opts.fromStrace,
          after: opts.after,
          checkCounts: opts.checkCounts,
          onMessage,
          ...focus,
        });
      } else {
        if (command.length === 0)
          throw new UsageError(
            "give the command to record, e.g. sysfence record -o p.json ls / (or --pid PID, or --from-strace LOG).",
          );
        if (opts.output === "-")
          throw new UsageError(
            "-o -: the recorded program's standard output is its own; give a file for the profile, e.g. -o profile.json.",
          );
        const grace = Number(opts.grace);
        if (!Number.isFinite(grace) || grace < 0)
          throw new UsageError(`--grace '${opts.grace}': give seconds, e.g. --grace 10.`);
        // the profile's file is decided before the program runs: a name clash is not found after an hour
        output = opts.output ?? defaultOutput(command[0]);
        if (!opts.output) io.stderr(`sysfence record: the profile goes to ${output} (no -o given)\n`);
        api.checkOutputFile(output);
        const live = !opts.quiet && process.stderr.isTTY;
        const engine = api.parseEngine(opts.engine);
        r = await api.recordProgram({
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
          ...focus,
        });
        if (live) io.stderr("\n");
        if (!opts.quiet && engine === "auto") io.stderr(`sysfence record: engine ${r.engine} (${r.why})\n`);
      }
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
      if (opts.json)
        io.stdout(
          `${toJson({
            writtenTo: output,
            engine,
            ...(opts.pid !== undefined ? { pid: Number(opts.pid) } : {}),
            ...(opts.container !== undefined ? { container: opts.container } : {}),
            calls: n,
            distinctSyscalls: Object.keys(profile.syscalls).length,
            processImages: api.imageCount(profile),
            complete: profile.complete,
            pathsOmitted: profile.pathsOmitted ?? 0,
            status,
          })}\n`,
        );
      if (!opts.quiet) {
        io.stderr(
          `sysfence record: ${n} calls, ${Object.keys(profile.syscalls).length} distinct syscalls, ${api.imageCount(profile)} process images${profile.complete ? "" : " (incomplete)"}${output ? ` → ${output}` : ""}\n`,
        );
      }
      if (status !== 0) {
        throw new SysfenceError(
          "E_RECORDED_FAILURE",
          `the recorded program exited with status ${status}; the profile was written and marked incomplete.`,
          { exitStatus: status },
        );
      }
    });
}

/** COMMAND.profile.json in the current directory, or COMMAND.profile-2.json … when that exists. */
function defaultOutput(command: string): string {
  const base = basename(command).replace(/[^A-Za-z0-9._-]+/g, "_") || "program";
  for (let n = 1; ; n++) {
    const name = `${base}.profile${n === 1 ? "" : `-${n}`}.json`;
    if (!existsSync(name)) return name;
  }
}
