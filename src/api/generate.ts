// generate: profiles (objects, files, a source's SECCOMP records) → a policy that reads back to itself.
import { isDeepStrictEqual } from "node:util";
import { SysfenceError } from "../errors.js";
import { machineFileFacts } from "../generate/file-facts.js";
import {
  type GeneratedPolicy,
  type GenerateOptions,
  generatePolicy as generateFromProfiles,
} from "../generate/generate.js";
import { type StaticMode, type StaticProgress, staticInput } from "../generate/static-input.js";
import { parsePolicy } from "../policy/parse.js";
import type { Profile } from "../record/profile.js";
import { refuseLossy } from "../record/read-profile.js";
import { auditProfile } from "./audit-profile.js";
import { type DocumentSource, readProfileFile } from "./document.js";
import { type ProfileInput, profileOf } from "./inputs.js";
import { ARGS_MODES, oneOf, PHASES, STATIC_MODES, THREAD_ROLES, UNSEEN_ANSWERS } from "./options.js";

/** Options of generatePolicy(): `generate`'s, and whether static analysis adds the unseen paths. */
export interface GeneratePolicyOptions extends GenerateOptions {
  /** auto (default): analyse the recorded executables when they are on this machine, unchanged; on; off. */
  static?: StaticMode;
  /** Called with each note (static analysis off and why, libraries analysed …). */
  onNote?: (note: string) => void;
  /** Told as static analysis goes: which program, each object before it is read, then the reach. */
  onProgress?: (progress: StaticProgress) => void;
  /** Use profiles whose recording lost events (refused by default: the policy could miss calls). */
  allowIncomplete?: boolean;
  /**
   * A Landlock file layer from the profiles' path uses, with this machine's answers (interpreters,
   * symlinks), as `generate` writes it (default true); false: file, socket, signal and IPC calls stay
   * seen-only.
   */
  landlock?: boolean;
  /** The name the read-back check gives the text in its errors (default `<generated>`). */
  file?: string;
}

/** Options of generate(): generatePolicy()'s, and SECCOMP records that join the profiles. */
export interface GenerateFromOptions extends GeneratePolicyOptions, DocumentSource {
  /** Also allow the calls in this source's SECCOMP records: a file, -, or auto|dmesg|journal|audit-log. */
  fromAudit?: string;
  /** With fromAudit: take the records of these programs instead of the profiles' own programs. */
  auditExe?: readonly string[];
  /** Called with each line about the records (how many calls they add, which were left out). */
  onMessage?: (line: string) => void;
}

/** The option values generatePolicy() takes, checked against the lists in options.ts. */
function checkOptions(o: GeneratePolicyOptions): void {
  oneOf("phase", o.phase, PHASES);
  oneOf("args", o.args, ARGS_MODES);
  oneOf("threadRole", o.threadRole, THREAD_ROLES);
  oneOf("static", o.static, STATIC_MODES);
  oneOf("unseen", o.unseen, UNSEEN_ANSWERS);
}

/** Where the reader found things (the file, positions in it): not part of what a policy says. */
const POSITIONS = new Set(["source", "location", "nameLocations"]);

/** A policy as plain data without positions or absent fields: what its text must read back to. */
function modelOf(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(modelOf);
  if (x === null || typeof x !== "object") return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) if (v !== undefined && !POSITIONS.has(k)) out[k] = modelOf(v);
  return out;
}

/**
 * generate's step over profiles already read: lossy recordings refused, the static input gathered from
 * the first `recorded` profiles (the others are records, which carry no executables), the policy made,
 * and its text read back: a policy whose text does not read back to the same model is never returned.
 */
function generateChecked(
  list: readonly Profile[],
  names: readonly string[],
  recorded: number,
  options: GeneratePolicyOptions,
): GeneratedPolicy {
  const {
    static: mode = "auto",
    onNote = () => {},
    onProgress,
    allowIncomplete = false,
    file,
    landlock = true,
    ...rest
  } = options;
  refuseLossy(list.slice(0, recorded), names, allowIncomplete);
  const st = rest.reachable
    ? undefined
    : staticInput(list.slice(0, recorded), mode, rest.exe, onNote, onProgress);
  const g = generateFromProfiles(list, {
    ...rest,
    files: landlock ? (rest.files ?? machineFileFacts) : undefined,
    ...(st ? { reachable: st.reachable, unresolved: st.unresolved, programs: st.programs } : {}),
  });
  checkReadsBack(g, file);
  return g;
}

/**
 * Refuses a generated policy whose text does not read back to the same model (rules, conditions,
 * actions, flags, the Landlock section, analysis …; positions aside): such a text is never written.
 */
export function checkReadsBack(g: Pick<GeneratedPolicy, "policy" | "text">, file = "<generated>"): void {
  const back = parsePolicy(g.text, { file }).policy;
  if (!isDeepStrictEqual(modelOf(back), modelOf(g.policy)))
    throw new SysfenceError(
      "E_POLICY_INVALID",
      "internal: the generated policy does not read back; please report.",
    );
}

/**
 * A least-privilege policy from one or more profiles (objects or file paths), as `sysfence generate`:
 * what the recording saw, plus what static analysis finds reachable (low risk allowed, high risk EPERM).
 */
export function generatePolicy(
  profiles: ProfileInput | readonly ProfileInput[],
  options: GeneratePolicyOptions = {},
): GeneratedPolicy {
  checkOptions(options);
  const list = (Array.isArray(profiles) ? profiles : [profiles]).map((p) => profileOf(p, "generatePolicy"));
  const names = list.map((_, i) => `generatePolicy() profile ${i + 1}`);
  return generateChecked(list, names, list.length, options);
}

/**
 * `sysfence generate` as one step: profiles (objects, file paths, - for standard input) and, with
 * `fromAudit`, the calls in a source's SECCOMP records, into a policy checked to read back to itself.
 * Records of other programs than the profiles' (or `auditExe`) are left out and reported via onMessage.
 */
export async function generate(
  profiles: readonly ProfileInput[],
  options: GenerateFromOptions = {},
): Promise<GeneratedPolicy> {
  checkOptions(options);
  const { fromAudit, auditExe, onMessage = () => {}, stdin, ...rest } = options;
  const list = await Promise.all(
    profiles.map((p) => (typeof p === "string" ? readProfileFile(p, { stdin }) : profileOf(p, "generate"))),
  );
  const names = profiles.map((p, i) => (typeof p === "string" ? p : `generate() profile ${i + 1}`));
  refuseLossy(list, names, !!rest.allowIncomplete);
  const recorded = list.length;
  if (fromAudit) {
    const audit = await auditProfile(fromAudit, list, { auditExe, exe: rest.exe, onMessage });
    onMessage(`${Object.keys(audit.syscalls).length} syscalls from ${fromAudit}'s SECCOMP records`);
    list.push(audit);
  }
  return generateChecked(list, names, recorded, {
    ...rest,
    sources:
      rest.sources ??
      (profiles.every((p) => typeof p === "string")
        ? [...names, ...(fromAudit ? [`audit:${fromAudit}`] : [])]
        : undefined),
  });
}
