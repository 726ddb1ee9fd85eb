import type { Command } from "commander";
import { SysfenceError } from "../../errors.js";
import { type CliIO, toJson, UsageError, writeOutput } from "../io.js";

interface FmtOpts {
  write?: boolean;
  check?: boolean;
  json?: boolean;
}

/** `sysfence fmt POLICY…`: print (one file), rewrite (-w) or check (--check) canonical form. */
export function registerFmt(program: Command, io: CliIO): void {
  program
    .command("fmt")
    .description("rewrite a sysfence policy in canonical form, keeping its comments")
    .argument("<policies...>", "policy files (sysfence YAML), or - for standard input")
    .option("-w, --write", "rewrite the files in place (atomically) instead of printing")
    .option(
      "--check",
      "write nothing; list the files that are not in canonical form and exit 1 if there are any (for CI)",
    )
    .option(
      "--json",
      "print JSON: each file, whether it was canonical and whether it was rewritten (and the text, printing one)",
    )
    .addHelpText(
      "after",
      `
Exit status: 0 done (with --check: every file is canonical), 1 with --check: some file is not (listed on
stdout, one per line), 2 usage or input trouble (a missing, unreadable or invalid policy).`,
    )
    .action(async (files: string[], opts: FmtOpts) => {
      if (opts.check && opts.write) throw new UsageError("fmt: give --check or -w, not both.");
      if (files.includes("-") && opts.write)
        throw new UsageError("fmt -w rewrites a file; standard input has none.");
      if (files.filter((f) => f === "-").length > 1)
        throw new UsageError("fmt: standard input (-) can be given once.");
      if (files.length > 1 && !opts.write && !opts.check)
        throw new UsageError(
          `fmt prints one policy; for ${files.length} files give -w (rewrite them) or --check (list those not canonical).`,
        );
      const { formatPolicyFiles } = await import("../../api/fmt.js");
      // every file is read and formatted before anything is written: bad input leaves all files as they were
      const done = await formatPolicyFiles(files, { stdinText: io.readStdin });
      const name = (f: string) => (f === "-" ? "<stdin>" : f);
      const changed = done.filter((d) => d.out !== d.text);
      if (opts.write) for (const d of changed) writeOutput(d.file, d.out, io);
      if (opts.json) {
        io.stdout(
          `${toJson({
            mode: opts.check ? "check" : opts.write ? "write" : "print",
            files: done.map((d) => ({
              file: name(d.file),
              canonical: d.out === d.text,
              written: !!opts.write && d.out !== d.text,
            })),
            notCanonical: changed.map((d) => name(d.file)),
            ...(!opts.check && !opts.write ? { policy: done[0].out } : {}),
          })}\n`,
        );
      } else if (opts.check) for (const d of changed) io.stdout(`${name(d.file)}\n`);
      else if (!opts.write) io.stdout(done[0].out);
      if (opts.check && changed.length)
        throw new SysfenceError(
          "E_DRIFT",
          `${changed.length} of ${done.length} policy file(s) not in canonical form; sysfence fmt -w FILE… rewrites them.`,
          { exitStatus: 1 },
        );
    });
}
