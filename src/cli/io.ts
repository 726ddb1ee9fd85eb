import { SysfenceError } from "../errors.js";
import { writeOutputFile } from "../util/output-file.js";
import { readAllStdin } from "../util/read-input.js";

/** Where a command writes; tests pass buffers, the binary passes the process streams. */
export interface CliIO {
  stdout: (text: string) => void;
  /** Binary standard output (`compile --format bpf -o -`); absent in tests that capture text. */
  stdoutBytes?: (data: Uint8Array) => void;
  stderr: (text: string) => void;
  /** Reads all of standard input (for `-`). */
  readStdin?: () => Promise<string>;
  /** Reads all of standard input as bytes (a raw BPF program on `-`). */
  readStdinBytes?: () => Promise<Buffer>;
  /** Standard error is a terminal: live progress may be drawn there (cli/progress.ts); false under -q. */
  stderrIsTTY?: boolean;
}

/** The process's own streams. */
export const processIO: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stdoutBytes: (d) => process.stdout.write(d),
  stderr: (t) => process.stderr.write(t),
  readStdin: async () => (await readAllStdin()).toString("utf8"),
  readStdinBytes: () => readAllStdin(),
  get stderrIsTTY() {
    return process.stderr.isTTY === true;
  },
};

/**
 * Writes a command's output: `-` is standard output, anything else a file by the rules of
 * util/output-file.ts (whole or not at all, symlinks as protected_symlinks, devices in place).
 */
export function writeOutput(path: string, data: string | Uint8Array, io: CliIO): void {
  if (path !== "-") writeOutputFile(path, data);
  else if (typeof data === "string") io.stdout(data);
  else if (io.stdoutBytes) io.stdoutBytes(data);
  else io.stdout(Buffer.from(data).toString("latin1"));
}

/** Usage error: exit status 2. */
export class UsageError extends SysfenceError {
  constructor(message: string) {
    super("E_USAGE", message);
  }
}

/** JSON.stringify that writes bigints as decimal strings. */
export function toJson(value: unknown, indent = 2): string {
  try {
    // without a replacer first: a profile of thousands of processes is tens of MB, and a replacer call per
    // value doubles the time; only a value with a bigint in it needs one
    return JSON.stringify(value, undefined, indent);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), indent);
  }
}

/** Standard input as the io gives it (tests pass buffers). */
export function stdinOf(io: CliIO): (() => Promise<Uint8Array>) | undefined {
  if (io.readStdinBytes) return io.readStdinBytes;
  const text = io.readStdin;
  if (text) return async () => Buffer.from(await text());
  return async () => {
    throw new UsageError("- (standard input) is not available here.");
  };
}
