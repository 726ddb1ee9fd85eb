import type { Command } from "commander";
import { type CliIO, toJson } from "../io.js";
import {
  INPUT_FORMAT_HELP,
  loadPolicy,
  type PolicyOptions,
  parseArches,
  printWarnings,
} from "../policy-input.js";

/** `sysfence check POLICY` and `sysfence schema`. */
export function registerCheck(program: Command, io: CliIO): void {
  program
    .command("check")
    .description("validate a policy: every problem with file:line:column, warnings included")
    .argument("<policy>", "policy file")
    .option("--arch <arch...>", "target architectures")
    .option("--json", "print JSON")
    .option("--input-format <format>", INPUT_FORMAT_HELP)
    .action(async (file: string, opts: PolicyOptions & { json?: boolean }) => {
      parseArches(opts.arch); // a bad --arch is usage trouble (2), not the policy's problem
      // the policy's own problems are check's finding (exit 1); a file it cannot read is trouble (2)
      const { asFinding, checkParsed } = await import("../../api/check.js");
      const parsed = await loadPolicy(file, opts, opts.json ? { ...io, stderr: () => {} } : io).catch(
        asFinding,
      );
      const c = checkParsed(parsed);
      if (opts.json) io.stdout(`${toJson({ ok: true, format: c.format, warnings: c.warnings })}\n`);
      else {
        printWarnings(c.compileWarnings, io);
        io.stdout(
          `${file === "-" ? "<stdin>" : file}: ok (${c.format} format, ${c.rules} rules, ${c.warnings.length} warnings)\n`,
        );
      }
    });
  program
    .command("schema")
    .description("print the JSON Schema of the sysfence policy format")
    .action(async () => {
      const { policyJsonSchema } = await import("../../api/check.js");
      io.stdout(`${toJson(policyJsonSchema())}\n`);
    });
}
