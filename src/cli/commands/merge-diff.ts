import type { Command } from "commander";
import { SysfenceError } from "../../errors.js";
import type { DiffInput } from "../../generate/diff.js";
import { type CliIO, toJson, UsageError, writeOutput } from "../io.js";
import { loadPolicy } from "../policy-input.js";

/** Reads a file as a profile when it is one, else as a policy. */
export async function readProfileOrPolicy(file: string, io: CliIO): Promise<DiffInput> {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text !== undefined && /"format"\s*:\s*"sysfence-profile"/.test(text.slice(0, 4096))) {
    const { parseProfile } = await import("../../record/read-profile.js");
    return { kind: "profile", profile: parseProfile(text, file), name: file };
  }
  const quiet: CliIO = { ...io, stderr: () => {} };
  return { kind: "policy", policy: (await loadPolicy(file, {}, quiet)).policy, name: file };
}

/** `sysfence merge` and `sysfence diff`. */
export function registerMergeDiff(program: Command, io: CliIO): void {
  program
    .command("merge")
    .description("merge profiles (runs, hosts, test shards) into one")
    .argument("<profiles...>", "profiles written by sysfence record")
    .option("-o, --output <file>", "the merged profile; default: stdout")
    .option("--from-audit <source>", "also add the calls in SECCOMP audit records (a file, -, auto, dmesg …)")
    .option("--audit-exe <exe...>", "with --from-audit: only records of this program")
    .action(async (files: string[], opts: { output?: string; fromAudit?: string; auditExe?: string[] }) => {
      const { readProfile } = await import("../../record/read-profile.js");
      const { mergeProfiles } = await import("../../generate/merge.js");
      const profiles = await Promise.all(files.map(readProfile));
      const sources = [...files];
      if (opts.fromAudit) {
        const { profileFromAudit } = await import("../../generate/from-audit.js");
        profiles.push(
          await profileFromAudit(opts.fromAudit, { exe: opts.auditExe, arch: profiles[0]?.arch }),
        );
        sources.push(`audit:${opts.fromAudit}`);
      }
      const merged = mergeProfiles(profiles, sources);
      const text = `${toJson(merged)}\n`;
      if (opts.output) writeOutput(opts.output, text, io);
      else io.stdout(text);
      io.stderr(
        `sysfence merge: ${profiles.length} profiles, ${Object.keys(merged.syscalls).length} distinct syscalls${merged.phaseBoundary ? `, work phase after ${merged.phaseBoundary}` : ""}${opts.output ? ` → ${opts.output}` : ""}\n`,
      );
    });
  program
    .command("diff")
    .description(
      "what changed between two profiles or policies; exit 1 when NEW needs something OLD's policy denies",
    )
    .argument("<old>", "profile or policy")
    .argument("<new>", "profile or policy")
    .option("--phase <phase>", "work | all, for profiles (default: work when they have one)")
    .option("--args <mode>", "strict | safe | off: how OLD's policy is generated from a profile", "safe")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nExit status: 0 no drift, 1 NEW needs a call OLD's policy denies (use it in CI), 2 usage or input trouble (a missing or unreadable file): never mistaken for drift.",
    )
    .action(
      async (
        oldFile: string,
        newFile: string,
        opts: { phase?: "work" | "all"; args?: "strict" | "safe" | "off"; json?: boolean },
      ) => {
        if (opts.phase && opts.phase !== "work" && opts.phase !== "all")
          throw new UsageError(`--phase '${opts.phase}': use work or all.`);
        const { diffInputs, formatDiff } = await import("../../generate/diff.js");
        // input trouble is exit 2: a CI check must never read a missing file as drift
        const read = (f: string) =>
          readProfileOrPolicy(f, io).catch((e) => {
            throw e instanceof SysfenceError
              ? new SysfenceError(e.code, e.message, { cause: e, exitStatus: 2, diagnostics: e.diagnostics })
              : e;
          });
        const [a, b] = [await read(oldFile), await read(newFile)];
        const d = diffInputs(a, b, { phase: opts.phase, args: opts.args });
        // the verdict first: what a reviewer must decide, then the details
        const verdict = d.denied.length
          ? `DRIFT: ${newFile} needs ${d.denied.length} call(s) that ${oldFile}'s policy denies\n`
          : `no drift: ${oldFile}'s policy allows everything ${newFile} needs\n`;
        io.stdout(opts.json ? `${toJson(d)}\n` : `${verdict}${formatDiff(d, oldFile, newFile)}`);
        if (d.denied.length)
          throw new SysfenceError(
            "E_DRIFT",
            `${newFile} needs ${d.denied.length} call(s) that ${oldFile}'s policy denies.`,
            {
              exitStatus: 1,
            },
          );
      },
    );
}
