// The library's task-level functions: the same steps as the CLI commands, taking objects or file paths
// and returning objects (nothing is printed or written).

import type { Profile } from "../record/profile.js";

export { type DiffOptions, type Drift, diff } from "./diff.js";

import type { RecordCommandOptions } from "../record/record.js";

export { type ExportedAs, type ExportOutput, type ExportRequest, exportPolicy } from "./export.js";

import { recordProgram } from "./record.js";

export {
  type GenerateFromOptions,
  type GeneratePolicyOptions,
  generate,
  generatePolicy,
} from "./generate.js";
export { report } from "./report.js";

/**
 * Runs a command under strace or the kernel's tracepoints and returns what it called. The profile says
 * how the program ended (exitStatus, signal, complete); a program that fails still gives its profile.
 */
export async function record(argv: readonly string[], options: RecordCommandOptions = {}): Promise<Profile> {
  return (await recordProgram({ ...options, argv })).profile;
}
