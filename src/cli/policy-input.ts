// The CLI's side of reading a policy (api/policy-file.ts does the reading): the shared help text, and the
// reader's and compiler's warnings printed to standard error.
import {
  type CompiledPolicyFile,
  compileParsed,
  loadPolicyFile,
  type ParsedPolicy,
  type PolicyFileOptions,
} from "../api/policy-file.js";
import { type Diagnostic, formatDiagnostic } from "../errors.js";
import type { CliIO } from "./io.js";

export { loadBpf, looksLikeBpf, parseArches } from "../api/policy-file.js";

/** Options shared by commands that read a policy. */
export type PolicyOptions = PolicyFileOptions;

/** The help text of --input-format, shared by every command that reads a policy. */
export const INPUT_FORMAT_HELP =
  "the policy's format: sysfence, oci, moby, spo, systemd or bpf (default: decided by its structure; docs/policy-inputs.md)";

/** Prints diagnostics to standard error, one a line. */
export function printWarnings(warnings: readonly Diagnostic[], io: CliIO): void {
  for (const w of warnings) io.stderr(`${formatDiagnostic(w)}\n`);
}

/** Reads a policy file (any format), printing its warnings to stderr. */
export async function loadPolicy(path: string, opts: PolicyOptions, io: CliIO): Promise<ParsedPolicy> {
  const parsed = await loadPolicyFile(path, opts);
  printWarnings(parsed.warnings, io);
  return parsed;
}

/** Loads and compiles a policy, printing the reader's warnings, then the compiler's. */
export async function loadAndCompile(
  path: string,
  opts: PolicyOptions,
  io: CliIO,
): Promise<CompiledPolicyFile> {
  const r = compileParsed(await loadPolicy(path, opts, io));
  printWarnings(r.resolved.warnings, io);
  return r;
}
