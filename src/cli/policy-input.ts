import { release } from "node:os";
import { decodeProgram, type Insn, MAX_PROGRAM_BYTES, programTooBig } from "../bpf/insn.js";
import { type CompileResult, compile } from "../compile/compile.js";
import { formatDiagnostic } from "../errors.js";
import { isBinary, type PolicyFormat } from "../policy/formats/detect.js";
import { MAX_POLICY_BYTES } from "../policy/formats/document.js";
import type { ParsedPolicy } from "../policy/parse.js";
import { type ArchName, archInfo } from "../syscalls/arches.js";
import { inputName, readCapped, readUpTo } from "../util/read-input.js";
import type { CliIO } from "./io.js";

/** Options shared by commands that read a policy. */
export interface PolicyOptions {
  arch?: string[];
  caps?: string;
  kernel?: string;
  /** --input-format: the format the file must be (sysfence, oci, moby, spo, systemd, bpf). */
  inputFormat?: string;
}

/** The help text of --input-format, shared by every command that reads a policy. */
export const INPUT_FORMAT_HELP =
  "the policy's format: sysfence, oci, moby, spo, systemd or bpf (default: decided by its structure; docs/policy-inputs.md)";

/** Parses a comma- or repeat-separated --arch list. */
export function parseArches(values: string[] | undefined): ArchName[] | undefined {
  if (!values || values.length === 0) return undefined;
  return values
    .flatMap((v) => v.split(","))
    .filter(Boolean)
    .map((a) => archInfo(a.trim()).name);
}

/** Reads a policy file (sysfence or OCI), printing its warnings to stderr. */
export async function loadPolicy(path: string, opts: PolicyOptions, io: CliIO): Promise<ParsedPolicy> {
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
  for (const w of parsed.warnings) io.stderr(`${formatDiagnostic(w)}\n`);
  return parsed;
}

/** Loads and compiles a policy, printing warnings. */
export async function loadAndCompile(
  path: string,
  opts: PolicyOptions,
  io: CliIO,
): Promise<CompileResult & { parsed: ParsedPolicy }> {
  const parsed = await loadPolicy(path, opts, io);
  const result = compile(parsed.policy);
  for (const w of result.resolved.warnings) io.stderr(`${formatDiagnostic(w)}\n`);
  return { ...result, parsed };
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
