// What `sysfence compile` and `sysfence disasm` give out: a compiled program as raw bytes, C, hex, a
// listing, a JSON or human summary; a raw program file listed and checked against the kernel's rules.
import { type DisasmLine, disassemble, formatListing } from "../bpf/disasm.js";
import { encodeProgram, type Insn, sockFilterLines } from "../bpf/insn.js";
import { verifyProgram } from "../bpf/verify.js";
import type { CompileStats } from "../compile/stats.js";
import { SysfenceError } from "../errors.js";
import { formatAction } from "../policy/actions.js";
import { archInfo } from "../syscalls/arches.js";
import { type CompiledPolicyFile, loadBpf } from "./policy-file.js";

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

/** A compiled policy file's summary, its source named `source`. */
export function summaryOf(r: CompiledPolicyFile, source: string): string {
  return formatSummary(
    source,
    r.stats!,
    formatAction(r.parsed.policy.defaultAction),
    r.parsed.policy.rules.length,
  );
}

/**
 * A compiled policy file (read from `file`) in one of compile's formats: summary, json, bpf (bytes), c,
 * hex or disasm; another format is an E_USAGE error.
 */
export function compiledAs(r: CompiledPolicyFile, format: string, file: string): string | Buffer {
  switch (format) {
    case "summary":
      return summaryOf(r, file);
    case "json":
      return `${JSON.stringify({ policy: file, architectures: r.resolved.arches.map((a) => a.arch), stats: r.stats }, undefined, 2)}\n`;
    case "bpf":
      return encodeProgram(r.program);
    case "c":
      return programAsC(r.program);
    case "hex":
      return `${encodeProgram(r.program).toString("hex")}\n`;
    case "disasm":
      return `${formatListing(disassemble(r.program, { arch: r.resolved.arches[0].arch }))}\n`;
    default:
      throw new SysfenceError(
        "E_USAGE",
        `unknown --format '${format}'; use summary, bpf, c, hex, disasm or json.`,
      );
  }
}

/** A raw program file listed: its instructions, the listing's lines, and what the kernel would refuse. */
export interface DisassembledFile {
  program: Insn[];
  lines: DisasmLine[];
  listing: string;
  /** Why the kernel would reject the program; empty when it would load. */
  problems: string[];
}

/** Lists a raw BPF file ('-': standard input), syscalls named for `arch` when it has no arch check. */
export async function disassembleFile(file: string, arch?: string): Promise<DisassembledFile> {
  const program = await loadBpf(file);
  const lines = disassemble(program, { arch: arch ? archInfo(arch).name : undefined });
  return { program, lines, listing: formatListing(lines), problems: verifyProgram(program) };
}
