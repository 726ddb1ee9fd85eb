import type { Command } from "commander";
import { type CliIO, toJson, UsageError } from "../io.js";
import { ANALYZE_ARCHES, oneOf } from "../option-values.js";
import { parseIntegerOption } from "../options.js";

interface AnalyzeOpts {
  json?: boolean;
  arch?: string;
  sysroot?: string;
  profile?: string[];
  cache?: boolean;
  workers?: string;
}

/** `sysfence analyze PROGRAM`. */
export function registerAnalyze(program: Command, io: CliIO): void {
  program
    .command("analyze")
    .description(
      "what a program and every library it loads can call, from the ELF files alone (the upper bound a recording is checked against)",
    )
    .argument("<program>", "an ELF executable (x86_64 or aarch64)")
    .option(
      "--json",
      "print JSON: syscalls with the function or import that leads to each, libraries, unresolved sites",
    )
    .option("--arch <arch>", "x86_64 or aarch64 (default: the program's own; must agree with it)")
    .option("--sysroot <dir>", "find the interpreter, libraries and ld.so.cache inside this directory")
    .option(
      "--profile <profile>",
      "a recording (sysfence record; repeatable): libraries it saw opened are analysed as dlopened",
      (v: string, all: string[] = []) => [...all, v],
    )
    .option("--no-cache", "analyse every library afresh (the cache is keyed by content)")
    .option(
      "--workers <n>",
      "worker threads reading libraries not in the cache, beside the main thread (0: none; default: the idle CPUs less one, by the load average)",
    )
    .action(async (file: string, opts: AnalyzeOpts) => {
      if (opts.arch !== undefined && !oneOf(ANALYZE_ARCHES, opts.arch))
        throw new UsageError(`--arch '${opts.arch}': sysfence analyses x86_64 and aarch64 programs.`);
      const workers =
        opts.workers === undefined
          ? undefined
          : parseIntegerOption("--workers", opts.workers, { min: 0, max: 64, what: "a number of threads" });
      const { analyzeProgram } = await import("../../api/analyze.js");
      const { analyzeProgressText, startProgress } = await import("../progress.js");
      using progress = startProgress(io, "sysfence analyze", !opts.json);
      const { scripts: _, ...r } = await analyzeProgram(file, {
        arch: opts.arch as "x86_64" | "aarch64" | undefined,
        sysroot: opts.sysroot,
        profiles: opts.profile,
        cache: opts.cache,
        workers,
        onNote: opts.json ? undefined : (n) => progress.print(`sysfence analyze: ${n}\n`),
        onProgress: (p) => progress.update(analyzeProgressText(p)),
      });
      progress.done();
      if (opts.json) {
        io.stdout(`${toJson(r)}\n`);
        return;
      }
      const names = Object.keys(r.syscalls);
      const width = Math.max(8, ...names.map((n) => n.length));
      io.stdout(
        `${r.program} (${r.arch}): ${names.length} syscalls reachable from the program and ${r.libraries.length - 1} loaded object(s); ${r.unresolved} reached site(s) with an unknown number; ${r.everySite.length} syscalls appear anywhere in them\n`,
      );
      io.stdout(`${"syscall".padEnd(width)}  reached through\n`);
      for (const n of names) io.stdout(`${n.padEnd(width)}  ${r.syscalls[n].via.slice(0, 3).join(", ")}\n`);
      io.stdout("\nobjects:\n");
      for (const l of r.libraries)
        io.stdout(
          `  ${l.path}${l.dlopened ? " (dlopened)" : ""}: ${l.reached}/${l.functions} functions reached, ${l.sites} syscall sites${l.unresolvedSites ? ` (${l.unresolvedSites} with an unknown number)` : ""}${l.cached ? ", cached" : ""}\n`,
        );
    });
}
