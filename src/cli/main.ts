#!/usr/bin/env node
import { readFileSync, realpathSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { formatDiagnostic, SysfenceError } from "../errors.js";
import { EXIT, exitKind } from "./exit-status.js";
import { type CliIO, processIO } from "./io.js";

type Register = (program: Command, io: CliIO, command: string[]) => void;
export const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  demo: async () => ({ register: (await import("./commands/demo.js")).registerDemo }),
  run: async () => ({ register: (await import("./commands/run.js")).registerRun }),
  compile: async () => ({ register: (await import("./commands/compile.js")).registerCompile }),
  disasm: async () => ({ register: (await import("./commands/disasm.js")).registerDisasm }),
  emu: async () => ({ register: (await import("./commands/emu.js")).registerEmu }),
  dump: async () => ({ register: (await import("./commands/dump.js")).registerDump }),
  syscalls: async () => ({ register: (await import("./commands/syscalls.js")).registerSyscalls }),
  check: async () => ({ register: (await import("./commands/check.js")).registerCheck }),
  schema: async () => ({ register: (await import("./commands/check.js")).registerCheck }),
  fmt: async () => ({ register: (await import("./commands/fmt.js")).registerFmt }),
  bench: async () => ({ register: (await import("./commands/bench.js")).registerBench }),
  audit: async () => ({ register: (await import("./commands/audit.js")).registerAudit }),
  record: async () => ({ register: (await import("./commands/record.js")).registerRecord }),
  generate: async () => ({ register: (await import("./commands/generate.js")).registerGenerate }),
  merge: async () => ({ register: (await import("./commands/merge-diff.js")).registerMergeDiff }),
  diff: async () => ({ register: (await import("./commands/merge-diff.js")).registerMergeDiff }),
  report: async () => ({ register: (await import("./commands/report.js")).registerReport }),
  export: async () => ({ register: (await import("./commands/export.js")).registerExport }),
  import: async () => ({ register: (await import("./commands/export.js")).registerExport }),
  hook: async () => ({ register: (await import("./commands/hook.js")).registerHook }),
  analyze: async () => ({ register: (await import("./commands/analyze.js")).registerAnalyze }),
  completion: async () => ({ register: (await import("./commands/completion.js")).registerCompletion }),
  man: async () => ({ register: (await import("./commands/completion.js")).registerCompletion }),
};
/** Commands also built as one bundle (dist/NAME.bundle.mjs from src/cli/NAME-entry.ts), and its register export. */
const BUNDLED: Record<string, string> = { record: "registerRecord" };

/**
 * The command from its bundle (`npm run build`: one file to load instead of dozens), or from its modules
 * when no bundle was built or it is older than this build's tsc output (a stale bundle would run old code).
 */
async function bundled(name: string, modules: () => Promise<{ register: Register }>) {
  const bundle = new URL(`../../${name}.bundle.mjs`, import.meta.url);
  try {
    if (statSync(bundle).mtimeMs >= statSync(new URL(import.meta.url)).mtimeMs)
      return { register: (await import(bundle.href))[BUNDLED[name]] as Register };
  } catch {
    // no bundle: the modules
  }
  return modules();
}

/** Commands that describe every other command: they need all of them registered. */
const NEEDS_ALL = new Set(["completion", "man"]);

/** Runs the CLI with argv (without node and script); returns the exit status (cli/exit-status.ts). */
export async function main(argvGiven: string[], ioIn: CliIO = processIO): Promise<number> {
  let argvIn = argvGiven;
  // -q/--quiet before the command's name is sysfence's own
  let lead = 0;
  while (argvIn[lead] === "-q" || argvIn[lead] === "--quiet") lead++;
  if (argvIn[lead] === "run") {
    const ran = await runPath(argvIn.slice(lead + 1), lead > 0, ioIn);
    if (ran !== "help") return ran;
    argvIn = ["run", "--help"];
  }
  // `record` parses its own words up to the first operand: the recorded command's `--` and options are its own
  const own = argvIn[lead] === "record";
  // Everything after "--" is the command `run` executes, never options for sysfence.
  const dd = own ? -1 : argvIn.indexOf("--");
  let argv = own
    ? ["record", ...(lead > 0 ? ["-q"] : []), ...argvIn.slice(lead + 1)]
    : dd >= 0
      ? argvIn.slice(0, dd)
      : argvIn;
  const command = dd >= 0 ? argvIn.slice(dd + 1) : [];
  // --quiet (-q) on any command: no warnings or notes on stderr; errors still. `record` also reads it
  // itself (no progress).
  const quiet = own ? lead > 0 : argv.includes("--quiet") || argv.includes("-q");
  if (quiet && !own) argv = argv.filter((a) => a !== "--quiet" && a !== "-q");
  const io = quiet ? withoutWarnings(ioIn) : ioIn;
  const { Command, CommanderError } = await import("commander");
  const program = new Command("sysfence")
    .description("record, generate, compile, enforce and observe seccomp policies")
    // package.json is read only when the version is printed
    .version(argv.includes("-V") || argv.includes("--version") ? packageVersion() : "")
    .option("-q, --quiet", "no warnings or notes on stderr (errors are always printed)")
    .exitOverride()
    // sysfence's own options come before the command's name (record's operands are a command of their own)
    .enablePositionalOptions()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  // Load only the command being run (all of them for help): start-up time matters for `run`.
  const wanted = argv.find((a) => !a.startsWith("-"));
  // `sysfence --version` needs no command (it loaded them all: ~0.2 s)
  const versionOnly = !wanted && (argv.includes("-V") || argv.includes("--version"));
  const registered = new Set<Register>();
  for (const [name, load] of Object.entries(COMMANDS)) {
    if (versionOnly || (wanted && wanted in COMMANDS && name !== wanted && !NEEDS_ALL.has(wanted))) continue;
    const { register } = await (name in BUNDLED ? bundled(name, load) : load());
    if (registered.has(register)) continue;
    registered.add(register);
    register(program, io, command);
  }
  // every command's help ends with its examples (cli/examples.ts, shared with the man page)
  const { EXAMPLES } = await import("./examples.js");
  for (const c of program.commands) {
    const ex = EXAMPLES[c.name()];
    if (ex?.length) c.addHelpText("after", `\nExamples:\n${ex.map((e) => `  ${e}`).join("\n")}`);
  }
  // every command's -o is checked before it starts work (util/output-file.ts): not after an hour's recording
  program.hook("preAction", async (_program, action) => {
    const output = action.opts().output;
    if (typeof output === "string" && output !== "-") {
      const { checkOutputFile } = await import("../util/output-file.js");
      checkOutputFile(output);
    }
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    return reportError(e, io);
  }
}

/**
 * `sysfence run WORDS…`: the program's own status when it ran (a learning run; every other run has exec'd),
 * 125 for any failure of sysfence itself before exec, 126 found but not executable, 127 not found; "help"
 * for commander to print run's help.
 */
async function runPath(words: string[], quiet: boolean, ioIn: CliIO): Promise<number | "help"> {
  let io = quiet ? withoutWarnings(ioIn) : ioIn;
  try {
    // `run` parses its own words: commander costs ~20 ms of every target's start-up.
    // The bundled fast path (one file; see run-entry.ts), or the modules when no bundle was built.
    // (a learning run starts a worker thread and a launcher from their own files: never from the bundle)
    const learning = words.some((a) => a === "--learn" || a.startsWith("--learn="));
    const bundle = learning
      ? undefined
      : await import(new URL("../../run.bundle.mjs", import.meta.url).href).catch(() => undefined);
    const run = (bundle ?? (await import("./run-entry.js"))) as typeof import("./run-entry.js");
    const parsed = run.parseRunWords(words);
    if (parsed.args.help) return "help";
    if (parsed.quiet && !quiet) io = withoutWarnings(ioIn);
    return (await run.runCommand(parsed.args, io, parsed.command)) ?? 0;
  } catch (e) {
    return reportError(e, io, RUN_STATUS);
  }
}

/** run's statuses for its own failures: never 1 or 2, which are the program's. */
const RUN_STATUS = { usage: 125, failure: 125, internal: 125, cannotExecute: 126 };
/** Every other command's: 1 only for a finding, 2 for usage or input trouble, 70 an internal error. */
const STATUS: typeof RUN_STATUS = {
  usage: EXIT.trouble,
  failure: EXIT.finding,
  internal: EXIT.internal,
  cannotExecute: EXIT.notFound,
};

/** This package's version, from its package.json (dist/src/cli/main.js → the package root). */
function packageVersion(): string {
  return JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")).version;
}

/** Lines that are warnings or notes ("file:1:2: warning: …", "sysfence generate: note: …", "warning: …"). */
const WARNING_LINE = /^(?:[^\n]*?: )?(?:warning|note): /;

/** The same streams, with warning and note lines dropped from stderr. */
function withoutWarnings(io: CliIO): CliIO {
  return {
    ...io,
    stderrIsTTY: false,
    stderr: (text) => {
      const kept = text.split(/(?<=\n)/).filter((line) => !WARNING_LINE.test(line));
      if (kept.length) io.stderr(kept.join(""));
    },
  };
}

function isSysfenceError(e: unknown): e is SysfenceError {
  return (
    e instanceof SysfenceError ||
    (e instanceof Error && e.name === "SysfenceError" && typeof (e as SysfenceError).code === "string")
  );
}

/**
 * Prints an error and returns the exit status: 1 a finding, 2 usage or input trouble, 70 internal, 127
 * command not found (run: 125–127).
 */
export function reportError(e: unknown, io: CliIO, status = STATUS): number {
  // By shape, not class: errors from the bundled run path come from the bundle's copy of the class.
  if (isSysfenceError(e)) {
    io.stderr(`sysfence: ${e.message}\n`);
    if (e.diagnostics.length && !e.message.includes("\n"))
      for (const d of e.diagnostics) io.stderr(`  ${formatDiagnostic(d)}\n`);
    if (e.exitStatus !== undefined) return e.exitStatus;
    if (e.code === "E_COMMAND_NOT_FOUND")
      return (e.cause as NodeJS.ErrnoException | undefined)?.code === "EACCES" ||
        (e.cause as NodeJS.ErrnoException | undefined)?.code === "EISDIR"
        ? status.cannotExecute
        : 127;
    const kind = exitKind(e.code);
    return kind === "finding" ? status.failure : kind === "internal" ? status.internal : status.usage;
  }
  io.stderr(`sysfence: internal error: ${(e as Error).stack ?? e}\n`);
  return status.internal;
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : "";
if (invoked === fileURLToPath(import.meta.url)) {
  // `sysfence … | head` closes the pipe early: that is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
