// `sysfence audit --patch POLICY LEARNED.json [-o OUT]`: a learning run's profile in place of kernel-log
// records (learn/patch-learned.ts does the work). Prints what was added and left, and the next command.
import { type CliIO, toJson, writeOutput } from "../io.js";

/** Whether `file` is a sysfence profile (a learning run's OUT) rather than a log. */
export async function isProfileFile(file: string | undefined): Promise<boolean> {
  return (await import("../../api/document.js")).isProfileFile(file);
}

/** Patches `policyFile` with the learned profile `file` (exit 0: a patch is the result asked for, not a failure). */
export async function patchFromLearned(
  policyFile: string,
  file: string,
  opts: { output?: string; json?: boolean },
  io: CliIO,
): Promise<void> {
  const api = await import("../../api/learned.js");
  const p = await api.patchFromLearned(policyFile, file);
  const say = (line: string) => io.stderr(`sysfence audit: ${line}\n`);
  for (const s of p.skipped) say(`left for a person: ${s.what}: ${s.why}`);
  if (opts.json) io.stdout(`${toJson({ added: p.added, skipped: p.skipped })}\n`);
  if (p.added.length === 0) {
    say(
      p.skipped.length
        ? `nothing added: what ${file} learned is left for a person (above)${opts.output ? `; ${opts.output} not written` : ""}.`
        : `nothing to add: ${policyFile} already allows what ${file} learned${opts.output ? `; ${opts.output} not written` : ""}.`,
    );
    return;
  }
  if (opts.output) writeOutput(opts.output, p.text, io);
  else if (!opts.json) io.stdout(p.diff);
  say(`added ${p.added.length} rule(s) from ${file}:`);
  for (const a of p.added) say(`  ${a}`);
  if (opts.output && opts.output !== "-")
    say(
      p.skipped.length
        ? `next: decide on what was left for a person above (add it to ${opts.output} by hand, or learn with --learn-all to see what it leads to), then sysfence run --policy ${opts.output} -- COMMAND.`
        : `next: sysfence run --policy ${opts.output} -- COMMAND (or run --learn again: it should find nothing left).`,
    );
}
