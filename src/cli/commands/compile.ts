import type { Command } from "commander";
import { disassemble, formatListing } from "../../bpf/disasm.js";
import { encodeProgram, type Insn, sockFilterLines } from "../../bpf/insn.js";
import type { CompileStats } from "../../compile/stats.js";
import { formatAction } from "../../policy/actions.js";
import { type CliIO, toJson, UsageError, writeOutput } from "../io.js";
import { INPUT_FORMAT_HELP, loadAndCompile, type PolicyOptions } from "../policy-input.js";

/** Renders a program as a C array of struct sock_filter. */
export function programAsC(program: readonly Insn[], name = "sysfence_filter"): string {
  const body = sockFilterLines(program);
  return `#include <linux/filter.h>\n\nstatic struct sock_filter ${name}[] = {\n${body}\n};\n`;
}

/** Human summary of a compiled program. */
export function formatSummary(
  source: string,
  stats: CompileStats,
  defaultAction: string,
  rules: number,
): string {
  const lines = [
    `policy      ${source}`,
    `default     ${defaultAction}`,
    `rules       ${rules}`,
    `program     ${stats.length} instructions (kernel limit 4096)`,
    `decisions   ${stats.cacheable} syscalls decided from arch+nr alone (kernel action cache), ${stats.argumentChecked} check arguments`,
    "arch        instructions executed per syscall (min / median / max) over known syscalls",
    ...stats.perArch.map(
      (a) => `  ${a.arch.padEnd(9)} ${a.min} / ${a.median} / ${a.max}   (${a.syscalls} syscalls)`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/** `sysfence compile POLICY`. */
export function registerCompile(program: Command, io: CliIO): void {
  program
    .command("compile")
    .description("compile a policy (sysfence YAML/JSON or Docker/OCI JSON) to seccomp BPF")
    .argument("<policy>", "policy file")
    .option("--arch <arch...>", "target architectures (x86_64,i386,x32,aarch64 …); default: the policy's")
    .option("-o, --output <file>", "write the program here (atomically)")
    .option("--format <format>", "summary | bpf | c | hex | disasm | json", undefined)
    .option("--caps <list>", "OCI: capabilities the container holds (default: Docker's default set)")
    .option("--input-format <format>", INPUT_FORMAT_HELP)
    .option("--kernel <version>", "OCI: kernel version for minKernel (default: this machine's)")
    .option("--json", "print the summary as JSON")
    .action(
      async (file: string, opts: PolicyOptions & { output?: string; format?: string; json?: boolean }) => {
        const format = opts.format ?? (opts.json ? "json" : opts.output ? "bpf" : "summary");
        const r = await loadAndCompile(file, opts, io);
        const stats = r.stats!;
        let out: string | Buffer;
        switch (format) {
          case "summary":
            out = formatSummary(
              file,
              stats,
              formatAction(r.parsed.policy.defaultAction),
              r.parsed.policy.rules.length,
            );
            break;
          case "json":
            out = `${toJson({ policy: file, architectures: r.resolved.arches.map((a) => a.arch), stats })}\n`;
            break;
          case "bpf":
            if (!opts.output || (opts.output === "-" && process.stdout.isTTY))
              throw new UsageError("--format bpf writes binary; give -o FILE (or -o - into a pipe).");
            out = encodeProgram(r.program);
            break;
          case "c":
            out = programAsC(r.program);
            break;
          case "hex":
            out = `${encodeProgram(r.program).toString("hex")}\n`;
            break;
          case "disasm":
            out = `${formatListing(disassemble(r.program, { arch: r.resolved.arches[0].arch }))}\n`;
            break;
          default:
            throw new UsageError(`unknown --format '${format}'; use summary, bpf, c, hex, disasm or json.`);
        }
        if (opts.output) {
          writeOutput(opts.output, out, io);
          io.stderr(`wrote ${opts.output}: ${r.program.length} instructions\n`);
        } else io.stdout(typeof out === "string" ? out : out.toString("hex"));
      },
    );
}
