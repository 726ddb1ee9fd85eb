// `generate --from-audit` and `merge --from-audit`: which records join the profiles.
import type { Profile } from "../record/profile.js";
import type { CliIO } from "./io.js";

/**
 * The profile of a source's SECCOMP records for `generate`/`merge --from-audit`: only the records of the
 * programs named with --audit-exe, else of the programs the profiles recorded (those matching --exe); the
 * rest are reported on stderr as ignored.
 */
export async function auditProfile(
  source: string,
  profiles: readonly Profile[],
  auditExe: string[] | undefined,
  exe: string[] | undefined,
  command: string,
  io: CliIO,
): Promise<Profile> {
  const { programsOfProfiles, recordFilter } = await import("../observe/programs.js");
  const { profileFromAudit } = await import("../generate/from-audit.js");
  const { printable } = await import("./commands/audit.js");
  const filter = recordFilter({
    named: auditExe,
    target: programsOfProfiles(profiles, exe),
    option: "--audit-exe",
    none: profiles.length
      ? `the profiles name no executable${exe?.length ? ` matching --exe ${exe.join(", ")}` : ""}`
      : "--from-audit has no profile to say which program the records must be of",
  });
  const hint = "name a program with --audit-exe to take its records";
  const { profile, sieve } = await profileFromAudit(source, { filter, arch: profiles[0]?.arch, hint });
  for (const line of sieve.report(source, hint, printable)) io.stderr(`sysfence ${command}: ${line}\n`);
  return profile;
}
