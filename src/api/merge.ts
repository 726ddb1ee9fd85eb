// merge: profiles (runs, hosts, test shards, a source's SECCOMP records) → one profile.
import { mergeProfiles } from "../generate/merge.js";
import type { Profile } from "../record/profile.js";
import { refuseLossy } from "../record/read-profile.js";
import { auditProfile } from "./audit-profile.js";
import { type DocumentSource, readProfileFile } from "./document.js";

/** Options of mergeFiles(). */
export interface MergeFilesOptions extends DocumentSource {
  /** Also add the calls in this source's SECCOMP records: a file, -, or auto|dmesg|journal|audit-log. */
  fromAudit?: string;
  /** With fromAudit: take the records of these programs instead of the profiles' own programs. */
  auditExe?: readonly string[];
  /** Use profiles whose recording lost events (refused by default: a policy from them could miss calls). */
  allowIncomplete?: boolean;
  /** Called with each line about the records left out. */
  onMessage?: (line: string) => void;
}

/** The merged profile, what it was made of, and how many profiles went in. */
export interface Merged {
  profile: Profile;
  /** The files, and `audit:SOURCE` for the records. */
  sources: string[];
  profiles: number;
}

/** `sysfence merge` as one step: profile files (`-`: standard input) and SECCOMP records into one profile. */
export async function mergeFiles(files: readonly string[], options: MergeFilesOptions = {}): Promise<Merged> {
  const { fromAudit, auditExe, allowIncomplete = false, onMessage, stdin } = options;
  const profiles = await Promise.all(files.map((f) => readProfileFile(f, { stdin })));
  refuseLossy(profiles, files, allowIncomplete);
  const sources = [...files];
  if (fromAudit) {
    profiles.push(await auditProfile(fromAudit, profiles, { auditExe, onMessage }));
    sources.push(`audit:${fromAudit}`);
  }
  return { profile: mergeProfiles(profiles, sources), sources, profiles: profiles.length };
}
