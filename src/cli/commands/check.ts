import type { Command } from "commander";
import { compile } from "../../compile/compile.js";
import { formatDiagnostic, SysfenceError } from "../../errors.js";
import { type CliIO, toJson } from "../io.js";
import { INPUT_FORMAT_HELP, loadPolicy, type PolicyOptions, parseArches } from "../policy-input.js";

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
      const finding = (e: unknown): never => {
        if (
          !(e instanceof SysfenceError) ||
          e.code === "E_IO" ||
          e.code === "E_USAGE" ||
          e.exitStatus !== undefined
        )
          throw e;
        throw new SysfenceError(e.code, e.message, { cause: e, diagnostics: e.diagnostics, exitStatus: 1 });
      };
      const parsed = await loadPolicy(file, opts, opts.json ? { ...io, stderr: () => {} } : io).catch(
        finding,
      );
      let r: ReturnType<typeof compile>;
      try {
        r = compile(parsed.policy, { stats: false });
      } catch (e) {
        return finding(e);
      }
      const warnings = [...parsed.warnings, ...r.resolved.warnings];
      if (opts.json) io.stdout(`${toJson({ ok: true, format: parsed.format, warnings })}\n`);
      else {
        for (const w of r.resolved.warnings) io.stderr(`${formatDiagnostic(w)}\n`);
        io.stdout(
          `${file === "-" ? "<stdin>" : file}: ok (${parsed.format} format, ${parsed.policy.rules.length} rules, ${warnings.length} warnings)\n`,
        );
      }
    });
  program
    .command("schema")
    .description("print the JSON Schema of the sysfence policy format")
    .action(async () => {
      const { policyJsonSchema } = await import("../../policy/schema.js");
      io.stdout(`${toJson(policyJsonSchema())}\n`);
    });
}
