import type { Command } from "commander";
import { compiledAs } from "../../api/compile-output.js";
import { type CliIO, UsageError, writeOutput } from "../io.js";
import { INPUT_FORMAT_HELP, loadAndCompile, type PolicyOptions } from "../policy-input.js";

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
        if (format === "bpf" && (!opts.output || (opts.output === "-" && process.stdout.isTTY)))
          throw new UsageError("--format bpf writes binary; give -o FILE (or -o - into a pipe).");
        const out = compiledAs(r, format, file);
        if (opts.output) {
          writeOutput(opts.output, out, io);
          io.stderr(`wrote ${opts.output}: ${r.program.length} instructions\n`);
        } else io.stdout(typeof out === "string" ? out : out.toString("hex"));
      },
    );
}
