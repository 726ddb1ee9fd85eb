// What the library's functions accept, turned into the internal model: a profile, or a policy in any
// form install() takes. Every problem is a SysfenceError naming the argument and the fix.
import { readFileSync } from "node:fs";
import { SysfenceError } from "../errors.js";
import type { DiffInput } from "../generate/diff.js";
import type { PolicyInput } from "../install/install.js";
import { checkInstallInput, readInputFileSync } from "../install/install-input.js";
import type { OciOptions } from "../policy/formats/oci/read.js";
import type { Policy } from "../policy/model.js";
import type { Profile } from "../record/profile.js";
import { checkProfile } from "../record/read-profile.js";
import { type ArchName, nativeArch } from "../syscalls/arches.js";
import { readDocument } from "./document.js";

/** A profile (sysfence record) as an object or a file path. */
export type ProfileInput = Profile | string;

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
    return (readDocument(text, x, { expect: "profile" }) as { profile: Profile }).profile;
  }
  return checkProfile(x, `${where}() profile`);
}

/** One side of a diff: a profile or a policy, as an object or a file path. */
export function diffInputOf(
  x: ProfileInput | PolicyInput,
  where: string,
  name: string,
  arch: ArchName = nativeArch(),
): DiffInput {
  if (typeof x === "string") {
    // read once: a profile by its parsed format field, else a policy in any format
    return readDocument(readInputFileSync(x, where), x, { arch });
  }
  if (isProfileObject(x)) return { kind: "profile", profile: checkProfile(x, `${where}() ${name}`), name };
  return { kind: "policy", policy: policyOf(x, where), name };
}
