import type { Command } from "commander";
import { disassembleFile } from "../../api/compile-output.js";
import { type CliIO, toJson } from "../io.js";

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
      const d = await disassembleFile(file, opts.arch);
      if (opts.json)
        io.stdout(
          `${toJson(d.lines.map((l) => ({ pc: l.pc, ...l.insn, text: l.text, comment: l.comment })))}\n`,
        );
      else io.stdout(`${d.listing}\n`);
      for (const p of d.problems) io.stderr(`warning: the kernel would reject this program: ${p}\n`);
    });
}
