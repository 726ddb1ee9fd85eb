// One reader for every document a command takes where a profile or a policy may come: profile or policy
// is decided from the parsed structure (a JSON object whose "format" is "sysfence-profile"), never from
// a pattern over the text, so a policy that mentions the word, or a profile whose field comes late, is
// read as what it is.
import { SysfenceError } from "../errors.js";
import type { DiffInput } from "../generate/diff.js";
import type { OciOptions } from "../policy/formats/oci/read.js";
import { parsePolicy } from "../policy/parse.js";
import type { Profile } from "../record/profile.js";
import { checkProfile, parseProfile } from "../record/read-profile.js";
import type { ArchName } from "../syscalls/arches.js";
import { dictReviver } from "../util/dict.js";
import { systemErrorText } from "../util/errno.js";
import { inputName, readInput } from "../util/read-input.js";

/** A document read: a profile or a policy, and the name it is shown by. */
export type Document = DiffInput;

/**
 * How a document is read: `arch` is the architecture a policy that names none is for (the CLI passes this
 * machine's); with `expect: "profile"` only a profile is accepted (anything else is an error saying what a
 * profile is), and no architecture is needed.
 */
export type ReadDocumentOptions = Omit<OciOptions, "arch"> &
  ({ expect: "profile"; arch?: ArchName } | { expect?: "policy"; arch: ArchName });

const isProfileValue = (v: unknown): boolean =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  (v as { format?: unknown }).format === "sysfence-profile";

/** The JSON value of text that is a JSON object, or undefined (not JSON, or not an object). */
function jsonObject(text: string): unknown {
  if (!text.trimStart().startsWith("{")) return undefined;
  try {
    return JSON.parse(text, dictReviver);
  } catch {
    return undefined;
  }
}

/**
 * A profile or a policy from its bytes: a JSON object with `"format": "sysfence-profile"` is a profile
 * (checked field by field), anything else a policy in any format the policy readers know.
 */
export function readDocument(
  bytes: Uint8Array | string,
  file: string,
  options: ReadDocumentOptions,
): Document {
  const { expect, ...read } = options;
  const text = typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8");
  const value = expect === "policy" ? undefined : jsonObject(text);
  if (expect === "profile")
    // parseProfile names the line and column of a JSON syntax error
    return {
      kind: "profile",
      profile: value === undefined ? parseProfile(text, file) : checkProfile(value, file),
      name: file,
    };
  if (isProfileValue(value)) return { kind: "profile", profile: checkProfile(value, file), name: file };
  return { kind: "policy", policy: parsePolicy(bytes, { ...read, file }).policy, name: file };
}

/** Where readDocumentFile() takes `-` from. */
export interface DocumentSource {
  /** All of standard input, for the path `-` (default: this process's). */
  stdin?: () => Promise<Uint8Array>;
}

/** readDocument() of a file (`-`: standard input); an unreadable file is one E_IO error naming it. */
export async function readDocumentFile(
  path: string,
  options: ReadDocumentOptions & DocumentSource,
): Promise<Document> {
  const { stdin, ...rest } = options;
  let bytes: Uint8Array;
  if (path === "-" && stdin)
    try {
      bytes = await stdin();
    } catch (e) {
      throw new SysfenceError("E_IO", `cannot read standard input: ${systemErrorText(e)}.`, { cause: e });
    }
  else bytes = await readInput(path);
  return readDocument(bytes, inputName(path), rest);
}

/** A profile file (`-`: standard input), read as readDocument() reads one. */
export async function readProfileFile(path: string, source: DocumentSource = {}): Promise<Profile> {
  const d = await readDocumentFile(path, { ...source, expect: "profile" });
  return (d as { profile: Profile }).profile;
}

/** Whether a file is a profile by its parsed structure (false when it cannot be read or is not JSON). */
export async function isProfileFile(path: string | undefined): Promise<boolean> {
  if (!path || path === "-") return false;
  const text = await readInput(path).then(
    (b) => b.toString("utf8"),
    () => "",
  );
  return isProfileValue(jsonObject(text));
}
