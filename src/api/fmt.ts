// fmt: policy texts → their canonical form (what generate and import write), checked to still parse.
import { parsePolicy } from "../policy/parse.js";
import { formatPolicyText } from "../policy/rewrite.js";
import { readInput } from "../util/read-input.js";

/** One file formatted: its text as read and in canonical form. */
export interface Formatted {
  file: string;
  text: string;
  out: string;
}

/** A policy text in canonical form; a result that no longer parses is refused (nothing to write). */
export function formatPolicy(text: string, file = "<policy>"): string {
  const out = formatPolicyText(text);
  parsePolicy(out, { file }); // never give back something that no longer parses
  return out;
}

/**
 * `sysfence fmt FILE…` as one step: every file (`-`: standard input) read and formatted before anything
 * is returned, so bad input in one file stops all of them; the caller writes the changed ones.
 */
export async function formatPolicyFiles(
  files: readonly string[],
  source: { stdinText?: () => Promise<string> } = {},
): Promise<Formatted[]> {
  const done: Formatted[] = [];
  for (const file of files) {
    const text =
      file === "-" && source.stdinText ? await source.stdinText() : (await readInput(file)).toString("utf8"); // an unreadable file is one E_IO error naming it
    done.push({ file, text, out: formatPolicy(text, file) });
  }
  return done;
}
