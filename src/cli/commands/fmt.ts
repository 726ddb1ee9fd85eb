import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { SysfenceError } from "../../errors.js";
import { systemErrorText } from "../../util/errno.js";
import { type CliIO, UsageError, writeOutput } from "../io.js";

/** `sysfence fmt POLICY`. */
export function registerFmt(program: Command, io: CliIO): void {
  program
    .command("fmt")
    .description("rewrite a sysfence policy in canonical form, keeping its comments")
    .argument("<policy>", "policy file (sysfence YAML), or - for standard input")
    .option("-w, --write", "rewrite the file in place (atomically) instead of printing")
    .action(async (file: string, opts: { write?: boolean }) => {
      if (file === "-" && opts.write)
        throw new UsageError("fmt -w rewrites a file; standard input has none.");
      const text =
        file === "-" && io.readStdin
          ? await io.readStdin()
          : await readFile(file, "utf8").catch((e) => {
              throw new SysfenceError("E_IO", `cannot read ${file}: ${systemErrorText(e)}.`, {
                cause: e,
              });
            });
      const { parsePolicy } = await import("../../policy/parse.js");
      const { formatPolicyText } = await import("../../policy/rewrite.js");
      const out = formatPolicyText(text);
      parsePolicy(out, { file }); // never write something that no longer parses
      if (opts.write) writeOutput(file, out, io);
      else io.stdout(out);
    });
}
