// What comparing two sides takes besides the sides, for the library's diff() and `sysfence diff`: the
// checks and the static analysis at the edge, so diff.ts stays a pure comparison.
import { refuseLossy } from "../record/read-profile.js";
import type { DiffInput } from "./diff.js";
import type { GenerateOptions } from "./generate.js";
import { type StaticMode, staticInput } from "./static-input.js";

/** Options of diff(): how OLD's policy is generated when OLD is a profile. */
export interface DiffOptions extends GenerateOptions {
  /** Include what static analysis finds reachable, as `generate` does (default auto: when the recorded executables are here, unchanged). */
  static?: StaticMode;
  /** Use profiles whose recording lost events (refused by default). */
  allowIncomplete?: boolean;
}

/**
 * What comparing two sides takes besides them (the library's diff and `sysfence diff` both): profiles that
 * lost events refused unless allowed, and OLD's policy, when OLD is a profile, generated with the calls
 * static analysis finds reachable, as `generate` does. Throws on input trouble.
 */
export function diffGenerateOptions(a: DiffInput, b: DiffInput, options: DiffOptions = {}): GenerateOptions {
  const { static: mode = "auto", allowIncomplete = false, ...rest } = options;
  for (const side of [a, b])
    if (side.kind === "profile") refuseLossy([side.profile], [side.name], allowIncomplete);
  const reachable =
    rest.reachable ??
    (a.kind === "profile" ? staticInput([a.profile], mode, undefined, () => {})?.reachable : undefined);
  return { ...rest, reachable };
}
