#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { formatDiagnostic, SysfenceError } from "../errors.js";
import { registerCheck } from "./commands/check.js";
import { registerCompile } from "./commands/compile.js";
import { registerDemo } from "./commands/demo.js";
import { registerDisasm } from "./commands/disasm.js";
import { registerEmu } from "./commands/emu.js";
import { registerFmt } from "./commands/fmt.js";
import { registerRun } from "./commands/run.js";
import { registerSyscalls } from "./commands/syscalls.js";
import { type CliIO, processIO } from "./io.js";

/** Runs the CLI with argv (without node and script); returns the exit status. 0 ok, 1 failure, 2 usage. */
export async function main(argvIn: string[], io: CliIO = processIO): Promise<number> {
  // Everything after "--" is the command `run` executes, never options for sysfence.
  const dd = argvIn.indexOf("--");
  const argv = dd >= 0 ? argvIn.slice(0, dd) : argvIn;
  const command = dd >= 0 ? argvIn.slice(dd + 1) : [];
  const program = new Command("sysfence")
    .description("record, generate, compile, enforce and observe seccomp policies")
    .version("0.1.0")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerDemo(program, io);
  registerCompile(program, io);
  registerDisasm(program, io);
  registerEmu(program, io);
  registerSyscalls(program, io);
  registerCheck(program, io);
  registerFmt(program, io);
  registerRun(program, io, command);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof SysfenceError) {
      io.stderr(`sysfence: ${e.message}\n`);
      if (e.diagnostics.length && !e.message.includes("\n"))
        for (const d of e.diagnostics) io.stderr(`  ${formatDiagnostic(d)}\n`);
      if (e.code === "E_COMMAND_NOT_FOUND") return 127;
      return e.code === "E_USAGE" ? 2 : 1;
    }
    io.stderr(`sysfence: internal error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : "";
if (invoked === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
