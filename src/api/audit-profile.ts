// `fromAudit` of generate and merge: which SECCOMP records of a source join the profiles, as a profile.
import { profileFromAudit } from "../generate/from-audit.js";
import { programsOfProfiles, recordFilter } from "../observe/programs.js";
import type { Profile } from "../record/profile.js";
import { printable } from "../util/printable.js";

/** Options of auditProfile(). */
export interface AuditProfileOptions {
  /** Take the records of these programs (paths or names) instead of the profiles' own programs. */
  auditExe?: readonly string[];
  /** With no auditExe: only the profiles' programs matching these. */
  exe?: readonly string[];
  /** Called with each line about records left out (other programs, malformed records). */
  onMessage?: (line: string) => void;
}

/**
 * The profile of a source's SECCOMP records (a file, -, or auto|dmesg|journal|audit-log): only the records
 * of the programs named in `auditExe`, else of the programs the profiles recorded (those matching `exe`);
 * the rest are reported through `onMessage` as ignored.
 */
export async function auditProfile(
  source: string,
  profiles: readonly Profile[],
  options: AuditProfileOptions = {},
): Promise<Profile> {
  const { auditExe, exe, onMessage = () => {} } = options;
  const filter = recordFilter({
    named: auditExe ? [...auditExe] : undefined,
    target: programsOfProfiles(profiles, exe ? [...exe] : undefined),
    option: "--audit-exe",
    none: profiles.length
      ? `the profiles name no executable${exe?.length ? ` matching --exe ${exe.join(", ")}` : ""}`
      : "--from-audit has no profile to say which program the records must be of",
  });
  const hint = "name a program with --audit-exe to take its records";
  const { profile, sieve } = await profileFromAudit(source, { filter, arch: profiles[0]?.arch, hint });
  for (const line of sieve.report(source, hint, printable)) onMessage(line);
  return profile;
}
