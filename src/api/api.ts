// The library's task-level functions: the same steps as the CLI commands, taking objects or file paths
// and returning objects (nothing is printed or written).

import { type Exported, type ExportOptions, exportPolicy as exportFrom } from "../export/export.js";
import type { ExportFormat } from "../export/launchers.js";
import { type DiffResult, diffInputs } from "../generate/diff.js";
import { type DiffOptions, diffGenerateOptions } from "../generate/diff-options.js";
import type { PolicyInput } from "../install/install.js";
import type { Profile } from "../record/profile.js";

export type { DiffOptions } from "../generate/diff-options.js";

import { type RecordCommandOptions, recordCommand } from "../record/record.js";
import type { Report } from "../report/model.js";
import { buildReport, reportOfProfile } from "../report/model.js";
import { diffInputOf, type ProfileInput, policyOf } from "./inputs.js";

export {
  type GenerateFromOptions,
  type GeneratePolicyOptions,
  generate,
  generatePolicy,
} from "./generate.js";

/**
 * Runs a command under strace or the kernel's tracepoints and returns what it called. The profile says
 * how the program ended (exitStatus, signal, complete); a program that fails still gives its profile.
 */
export async function record(argv: readonly string[], options: RecordCommandOptions = {}): Promise<Profile> {
  return (await recordCommand(argv, options)).profile;
}

/** A policy written for another engine (OCI/Docker, Kubernetes, systemd, BPF, C), as `sysfence export`. */
export function exportPolicy(
  policy: PolicyInput,
  format: ExportFormat,
  options: ExportOptions = {},
): Exported {
  return exportFrom(policyOf(policy, "exportPolicy"), format, options);
}

/** The attack surface of a policy or a profile (object or file path), as `sysfence report --format json`. */
export function report(input: ProfileInput | PolicyInput, name = "policy"): Report {
  const side = diffInputOf(input, "report", name);
  return side.kind === "profile"
    ? reportOfProfile(side.profile, side.name)
    : buildReport(side.policy, side.name);
}

/** The result of diff(): `drift` is true when NEW needs a call or value OLD's policy would deny. */
export interface Drift extends DiffResult {
  drift: boolean;
}

/**
 * What changed between two profiles or policies, and whether NEW drifted past OLD's policy: `drift` is
 * true only when NEW needs a call or argument value OLD's policy denies (the CI check).
 */
export function diff(
  oldInput: ProfileInput | PolicyInput,
  newInput: ProfileInput | PolicyInput,
  options: DiffOptions = {},
): Drift {
  const a = diffInputOf(oldInput, "diff", "old");
  const b = diffInputOf(newInput, "diff", "new");
  const d = diffInputs(a, b, diffGenerateOptions(a, b, options));
  return { ...d, drift: d.denied.length > 0 };
}
