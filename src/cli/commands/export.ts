import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import { decodeProgram } from "../../bpf/insn.js";
import { type Diagnostic, formatDiagnostic, SysfenceError } from "../../errors.js";
import type { Policy } from "../../policy/model.js";
import { type CliIO, UsageError, writeOutput } from "../io.js";
import { INPUT_FORMAT_HELP, loadPolicy, looksLikeBpf, type PolicyOptions } from "../policy-input.js";

const FORMATS = ["libseccomp-c", "bpf", "bpf-c", "systemd", "oci", "k8s"];

/** `sysfence export` and `sysfence import`. */
export function registerExport(program: Command, io: CliIO): void {
  program
    .command("export")
    .description(`write a policy for another engine: ${FORMATS.join(", ")}`)
    .argument("<policy>", "policy file")
    .requiredOption("--format <format>", FORMATS.join(" | "))
    .option("-o, --output <file>", "write here (atomically) instead of stdout")
    .option("--strict", "fail when the format cannot express part of the policy")
    .option("--function-name <name>", "C function name (libseccomp-c, bpf-c)", "sysfence_install")
    .option("--name <name>", "k8s: the SeccompProfile's name")
    .option("--namespace <ns>", "k8s: the SeccompProfile's namespace")
    .option("--pod-snippet", "k8s: also print the securityContext that uses the profile")
    .option("--arch <arch...>", "target architectures (default: the policy's)")
    .action(
      async (
        file: string,
        opts: PolicyOptions & {
          format: string;
          output?: string;
          strict?: boolean;
          functionName: string;
          name?: string;
          namespace?: string;
          podSnippet?: boolean;
        },
      ) => {
        const { policy } = await loadPolicy(file, opts, io);
        let out: string | Buffer;
        let warnings: Diagnostic[];
        switch (opts.format) {
          case "libseccomp-c": {
            const { exportLibseccompC } = await import("../../export/libseccomp-c.js");
            ({ text: out, warnings } = exportLibseccompC(policy, { functionName: opts.functionName }));
            break;
          }
          case "bpf": {
            const { exportBpf } = await import("../../export/bpf.js");
            if (!opts.output) throw new UsageError("--format bpf is binary; give -o FILE.");
            ({ bytes: out, warnings } = exportBpf(policy));
            break;
          }
          case "bpf-c": {
            const { exportBpfC } = await import("../../export/bpf.js");
            ({ text: out, warnings } = exportBpfC(policy, { functionName: opts.functionName }));
            break;
          }
          case "systemd": {
            const { exportSystemd } = await import("../../export/systemd.js");
            ({ text: out, warnings } = exportSystemd(policy));
            break;
          }
          case "oci": {
            const { exportOci } = await import("../../export/oci.js");
            ({ text: out, warnings } = exportOci(policy));
            break;
          }
          case "k8s": {
            const { exportK8s } = await import("../../export/k8s.js");
            const name =
              opts.name ??
              basename(file)
                .replace(/\.[^.]+$/, "")
                .toLowerCase()
                .replace(/[^a-z0-9-]+/g, "-");
            ({ text: out, warnings } = exportK8s(policy, {
              name,
              namespace: opts.namespace,
              podSnippet: opts.podSnippet,
            }));
            break;
          }
          default:
            throw new UsageError(`unknown --format '${opts.format}'; use one of ${FORMATS.join(", ")}.`);
        }
        for (const w of warnings) io.stderr(`${formatDiagnostic(w)}\n`);
        if (opts.strict && warnings.length) {
          throw new SysfenceError(
            "E_POLICY_INVALID",
            `${opts.format} cannot express ${warnings.length} part(s) of ${file} (--strict); nothing written.`,
          );
        }
        if (opts.output) writeOutput(opts.output, out, io);
        else io.stdout(typeof out === "string" ? out : out.toString("hex"));
      },
    );
  program
    .command("import")
    .description(
      "convert OCI/Docker JSON, an SPO SeccompProfile, systemd SystemCallFilter= lines or raw BPF to a sysfence policy",
    )
    .argument("<file>", "the file to convert")
    .option("-o, --output <file>", "write here (atomically) instead of stdout")
    .option("--caps <list>", "OCI: capabilities the container holds")
    .option("--input-format <format>", INPUT_FORMAT_HELP)
    .action(async (file: string, opts: PolicyOptions & { output?: string }) => {
      const { policyToYaml } = await import("../../policy/write.js");
      let policy: Policy;
      if (await looksLikeBpf(file, opts.inputFormat)) {
        const { importBpf } = await import("../../policy/bpf-import.js");
        const bytes = await readFile(file).catch((e) => {
          throw new SysfenceError("E_IO", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code}.`, {
            cause: e,
          });
        });
        policy = importBpf(decodeProgram(bytes, file), file);
      } else policy = (await loadPolicy(file, opts, io)).policy;
      const text = policyToYaml(policy, `Imported by sysfence from ${file}`);
      if (opts.output) writeOutput(opts.output, text, io);
      else io.stdout(text);
    });
}
