// `sysfence check` and `sysfence schema`: a policy's own problems as a finding (exit status 1), apart from
// trouble reading it (2); the policy format's JSON Schema.
import { compile } from "../compile/compile.js";
import { type Diagnostic, SysfenceError } from "../errors.js";
import type { ParsedPolicy } from "./policy-file.js";

export { policyJsonSchema } from "../policy/schema.js";

/**
 * An error about the policy itself made check's finding (exit status 1); trouble reading it (E_IO,
 * E_USAGE) or an error that already has its exit status is thrown as it is.
 */
export function asFinding(e: unknown): never {
  if (
    !(e instanceof SysfenceError) ||
    e.code === "E_IO" ||
    e.code === "E_USAGE" ||
    e.exitStatus !== undefined
  )
    throw e;
  throw new SysfenceError(e.code, e.message, { cause: e, diagnostics: e.diagnostics, exitStatus: 1 });
}

/** A checked policy: its format, rule count, and the reader's and the compiler's warnings. */
export interface CheckedPolicy {
  format: string;
  rules: number;
  /** Every warning: the reader's, then the compiler's. */
  warnings: Diagnostic[];
  /** The compiler's warnings alone. */
  compileWarnings: Diagnostic[];
}

/** Compiles a read policy to find its problems (each as a finding, asFinding()); the warnings returned. */
export function checkParsed(parsed: ParsedPolicy): CheckedPolicy {
  let r: ReturnType<typeof compile>;
  try {
    r = compile(parsed.policy, { stats: false });
  } catch (e) {
    return asFinding(e);
  }
  return {
    format: parsed.format,
    rules: parsed.policy.rules.length,
    warnings: [...parsed.warnings, ...r.resolved.warnings],
    compileWarnings: r.resolved.warnings,
  };
}
