/** A place in a user's file: 1-based line and column. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

/** One problem found in user input; validation collects all of them before failing. */
export interface Diagnostic {
  severity: "error" | "warning";
  message: string;
  location?: SourceLocation;
  hint?: string;
}

/** Formats a location as file:line:column (or just the file). */
export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return "";
  if (loc.line === undefined) return loc.file;
  return `${loc.file}:${loc.line}:${loc.column ?? 1}`;
}

/** Formats a diagnostic as one line: "file:1:2: error: message (hint)". */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.location ? `${formatLocation(d.location)}: ` : "";
  return `${where}${d.severity}: ${d.message}${d.hint ? ` — ${d.hint}` : ""}`;
}

/** Stable error codes; callers switch on these, never on message text. */
export type ErrorCode =
  | "E_POLICY_INVALID"
  | "E_UNKNOWN_SYSCALL"
  | "E_UNKNOWN_ARCH"
  | "E_UNKNOWN_CONSTANT"
  | "E_PROGRAM_TOO_LONG"
  | "E_BPF_INVALID"
  | "E_USAGE"
  | "E_PROFILE_INCOMPLETE"
  | "E_IO"
  | "E_SECCOMP_UNAVAILABLE"
  | "E_INSTALL_FAILED"
  | "E_COMMAND_NOT_FOUND"
  | "E_LIBSECCOMP"
  | "E_RECORDED_FAILURE"
  | "E_DRIFT"
  | "E_DEMO_FAILED"
  | "E_INTERNAL"
  | "E_ELF_INVALID"
  | "E_ANALYZE"
  | "E_LEARN"
  | "E_DUMP"
  | "E_EBPF"
  | "E_EBPF_VERIFIER";

/** The one error class sysfence throws; `code` is stable, `diagnostics` lists every problem found. */
export class SysfenceError extends Error {
  readonly code: ErrorCode;
  readonly diagnostics: Diagnostic[];
  /** The exit status the CLI should end with, when it is not the code's usual one. */
  readonly exitStatus?: number;
  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; diagnostics?: Diagnostic[]; exitStatus?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SysfenceError";
    this.code = code;
    this.diagnostics = options.diagnostics ?? [];
    this.exitStatus = options.exitStatus;
  }
}

/** Throws E_POLICY_INVALID listing every error diagnostic, if there is any. */
export function throwIfErrors(diagnostics: Diagnostic[], what: string): void {
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length === 0) return;
  const body = errors.map(formatDiagnostic).join("\n");
  const n = errors.length;
  throw new SysfenceError("E_POLICY_INVALID", `${what} has ${n} problem${n === 1 ? "" : "s"}:\n${body}`, {
    diagnostics,
  });
}
