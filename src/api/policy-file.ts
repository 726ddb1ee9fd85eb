// A policy or a raw BPF program read from a file the way every command reads one: the --arch list, the
// OCI options, the input format, and which of the two a file holds. Nothing is printed: the warnings are
// in the results (ParsedPolicy.warnings, CompileResult.resolved.warnings).
import { release } from "node:os";
import { decodeProgram, type Insn, MAX_PROGRAM_BYTES, programTooBig } from "../bpf/insn.js";
import { type CompileResult, compile } from "../compile/compile.js";
import { isBinary, type PolicyFormat } from "../policy/formats/detect.js";
import { MAX_POLICY_BYTES } from "../policy/formats/document.js";
import type { ParsedPolicy } from "../policy/parse.js";
import { type ArchName, archInfo } from "../syscalls/arches.js";
import { inputName, readCapped, readUpTo } from "../util/read-input.js";

export type { Insn, ParsedPolicy };

/** Options shared by the functions that read a policy file. */
export interface PolicyFileOptions {
  /** Target architectures, each item one name or a comma-separated list (`--arch x86_64,aarch64`). */
  arch?: string[];
  /** OCI: the capabilities the container holds, comma-separated. */
  caps?: string;
  /** OCI: the kernel version for minKernel (default: this machine's). */
  kernel?: string;
  /** The format the file must be (sysfence, oci, moby, spo, systemd, bpf); default: decided by its structure. */
  inputFormat?: string;
}

/** Parses a comma- or repeat-separated --arch list; a name no architecture has is an error. */
export function parseArches(values: string[] | undefined): ArchName[] | undefined {
  if (!values || values.length === 0) return undefined;
  return values
    .flatMap((v) => v.split(","))
    .filter(Boolean)
    .map((a) => archInfo(a.trim()).name);
}

/** Reads a policy file in any format ('-': standard input); its warnings are in the result. */
export async function loadPolicyFile(path: string, opts: PolicyFileOptions = {}): Promise<ParsedPolicy> {
  const arches = parseArches(opts.arch);
  // Loaded on demand: yaml and zod cost ~100 ms of start-up that `run @group -- cmd` does not need.
  const { readPolicyFile } = await import("../policy/parse.js");
  const parsed = await readPolicyFile(path, {
    arch: arches?.[0],
    caps: opts.caps === undefined ? undefined : opts.caps.split(",").filter(Boolean),
    kernel: opts.kernel ?? release(),
    format: opts.inputFormat as PolicyFormat | undefined,
  });
  if (arches) parsed.policy.architectures = arches;
  return parsed;
}

/** A compiled policy file: the program, its statistics and resolution, and the policy as read. */
export type CompiledPolicyFile = CompileResult & { parsed: ParsedPolicy };

/** Compiles a policy read by loadPolicyFile(); the compiler's warnings are in `resolved.warnings`. */
export function compileParsed(parsed: ParsedPolicy): CompiledPolicyFile {
  return { ...compile(parsed.policy), parsed };
}

/** Reads and compiles a policy file; the reader's warnings are in `parsed`, the compiler's in `resolved`. */
export async function compilePolicyFile(
  path: string,
  opts: PolicyFileOptions = {},
): Promise<CompiledPolicyFile> {
  return compileParsed(await loadPolicyFile(path, opts));
}

/**
 * True when a file holds raw BPF rather than a policy: binary content (formats/detect.ts row 1) or
 * --input-format bpf. Reads at most one policy's worth of bytes (a device or a huge file is not slurped).
 */
export async function looksLikeBpf(path: string, inputFormat?: string): Promise<boolean> {
  if (inputFormat !== undefined) return inputFormat === "bpf";
  if (path === "-") return false;
  const r = await readUpTo(path, MAX_POLICY_BYTES).catch(() => undefined);
  if (!r) return false; // the policy reader names the error
  // past the limit only the bytes read can tell; either reader then refuses the size
  return r.more ? r.bytes.includes(0) : isBinary(r.bytes);
}

/** Reads a raw BPF file ('-': standard input), at most one program's worth (BPF_MAXINSNS instructions). */
export async function loadBpf(path: string): Promise<Insn[]> {
  const bytes = await readCapped(path, MAX_PROGRAM_BYTES, (size) => programTooBig(inputName(path), size));
  return decodeProgram(bytes, inputName(path));
}
