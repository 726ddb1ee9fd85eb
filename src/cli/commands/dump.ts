import type { Command } from "commander";
import { type CliIO, toJson, UsageError, writeOutput } from "../io.js";
import { DUMP_FORMATS, oneOf } from "../option-values.js";

/** Parses a non-negative integer option. */
function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} '${value}': give a non-negative integer.`);
  return Number(value);
}

/** `sysfence dump --pid PID`. */
export function registerDump(program: Command, io: CliIO): void {
  program
    .command("dump")
    .description("every seccomp filter of a running process's threads, read from the kernel (needs root)")
    .requiredOption("-p, --pid <pid>", "the process")
    .option("-o, --output <file>", "write here instead of stdout")
    .option(
      "--format <format>",
      "text (disasm listings) | json (every stack) | bpf (one raw program)",
      "text",
    )
    .option("--json", "same as --format json")
    .option("--tid <tid>", "bpf: the thread whose filter to write (default: the process's main thread)")
    .option("--filter <index>", "bpf: which filter of the stack (0 is the oldest)")
    .addHelpText(
      "after",
      `
Each thread is stopped with ptrace only while its filters are read, then let go. Threads with the same
filters are shown once. The text and JSON output read back in 'sysfence diff'.
Needs CAP_SYS_ADMIN, a caller not itself under seccomp, and a kernel with CONFIG_CHECKPOINT_RESTORE.`,
    )
    .action(
      async (opts: {
        pid: string;
        output?: string;
        format: string;
        json?: boolean;
        tid?: string;
        filter?: string;
      }) => {
        const format = opts.json ? "json" : opts.format;
        if (!oneOf(DUMP_FORMATS, format))
          throw new UsageError(`--format '${format}': use text, json or bpf.`);
        const pid = integer("--pid", opts.pid) as number;
        const tid = integer("--tid", opts.tid);
        const index = integer("--filter", opts.filter);
        const api = await import("../../api/dump.js");
        const d = await api.dumpPid(pid);
        const out = opts.output ?? "-";
        if (format === "bpf") {
          const bytes = await api.dumpFilterBytes(d, tid, index);
          if (out === "-" && process.stdout.isTTY && io.stdoutBytes)
            throw new UsageError(
              "--format bpf writes binary: give -o FILE or pipe it (| sysfence disasm -).",
            );
          writeOutput(out, bytes, io);
        } else
          writeOutput(
            out,
            format === "json" ? `${toJson(await api.dumpJsonOf(d))}\n` : await api.dumpText(d),
            io,
          );
        if (out !== "-") {
          const n = d.stacks.reduce((s, x) => s + x.filters.length, 0);
          io.stderr(
            `sysfence dump: process ${d.pid}: ${d.stacks.length} distinct stack(s), ${n} filter(s) → ${out}\n`,
          );
        }
      },
    );
}
