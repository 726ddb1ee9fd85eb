// What the library's functions accept, turned into the internal model: a profile, or a policy in any
// form install() takes. Every problem is a SysfenceError naming the argument and the fix.
import { readFileSync } from "node:fs";
import { SysfenceError } from "../errors.js";
import type { DiffInput } from "../generate/diff.js";
import type { PolicyInput } from "../install/install.js";
import { checkInstallInput, readInputFileSync } from "../install/install-input.js";
import type { OciOptions } from "../policy/formats/oci/read.js";
import type { Policy } from "../policy/model.js";
import { parsePolicy } from "../policy/parse.js";
import type { Profile } from "../record/profile.js";
import { checkProfile, parseProfile } from "../record/read-profile.js";

/** A profile (sysfence record) as an object or a file path. */
export type ProfileInput = Profile | string;

const PROFILE_MARK = /"format"\s*:\s*"sysfence-profile"/;

/** True when text is a profile (its format field says so near the start). */
export function isProfileText(text: string): boolean {
  return PROFILE_MARK.test(text.slice(0, 4096));
}

const isProfileObject = (x: unknown): x is Profile =>
  typeof x === "object" && x !== null && (x as { format?: unknown }).format === "sysfence-profile";

/** A policy from anything install() accepts, except a compiled program (it has no rules to read). */
export function policyOf(x: unknown, where: string, oci: OciOptions = {}): Policy {
  const p = checkInstallInput(x, where, oci);
  if (Array.isArray(p))
    throw new SysfenceError(
      "E_USAGE",
      `${where}(): a compiled program has no rules to read; pass the policy it was compiled from.`,
    );
  return p as Policy;
}

/** A profile from an object or a file. */
export function profileOf(x: unknown, where: string): Profile {
  if (typeof x === "string") {
    let text: string;
    try {
      text = readFileSync(x, "utf8");
    } catch (e) {
      throw new SysfenceError(
        "E_IO",
        `${where}(): cannot read profile ${JSON.stringify(x)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
        { cause: e },
      );
    }
    return parseProfile(text, x);
  }
  return checkProfile(x, `${where}() profile`);
}

/** One side of a diff: a profile or a policy, as an object or a file path. */
export function diffInputOf(x: ProfileInput | PolicyInput, where: string, name: string): DiffInput {
  if (typeof x === "string") {
    // read once: a profile by its format field, else a policy in any format
    const bytes = readInputFileSync(x, where);
    const text = bytes.toString("utf8");
    if (isProfileText(text)) return { kind: "profile", profile: parseProfile(text, x), name: x };
    return { kind: "policy", policy: parsePolicy(bytes, { file: x }).policy, name: x };
  }
  if (isProfileObject(x)) return { kind: "profile", profile: checkProfile(x, `${where}() ${name}`), name };
  return { kind: "policy", policy: policyOf(x, where), name };
}
