import type { Command } from "commander";
import { disassemble, formatListing } from "../../bpf/disasm.js";
import { verifyProgram } from "../../bpf/verify.js";
import { archInfo } from "../../syscalls/arches.js";
import { type CliIO, toJson } from "../io.js";
import { loadBpf } from "../policy-input.js";

/** `sysfence disasm FILE.bpf`. */
export function registerDisasm(program: Command, io: CliIO): void {
  program
    .command("disasm")
    .description(
      "list a raw seccomp BPF program (ours or any other, e.g. libseccomp's seccomp_export_bpf output)",
    )
    .argument("<file>", "raw struct sock_filter bytes")
    .option("--arch <arch>", "arch to name syscalls with when the program has no arch check")
    .option("--json", "JSON lines")
    .action(async (file: string, opts: { arch?: string; json?: boolean }) => {
      const prog = await loadBpf(file);
      const lines = disassemble(prog, { arch: opts.arch ? archInfo(opts.arch).name : undefined });
      if (opts.json)
        io.stdout(
          `${toJson(lines.map((l) => ({ pc: l.pc, ...l.insn, text: l.text, comment: l.comment })))}\n`,
        );
      else io.stdout(`${formatListing(lines)}\n`);
      for (const p of verifyProgram(prog)) io.stderr(`warning: the kernel would reject this program: ${p}\n`);
    });
}
