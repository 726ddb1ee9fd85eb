import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import { decodeProgram } from "../../bpf/insn.js";
import { formatDiagnostic, SysfenceError } from "../../errors.js";
import { EXPORT_FORMATS, exportPolicy } from "../../export/export.js";
import { type ExportFormat, FORMAT_LAUNCHERS, LAUNCHERS, type LauncherName } from "../../export/launchers.js";
import type { Policy } from "../../policy/model.js";
import { type CliIO, UsageError, writeOutput } from "../io.js";
import { INPUT_FORMAT_HELP, loadPolicy, looksLikeBpf, type PolicyOptions } from "../policy-input.js";

/** `sysfence export` and `sysfence import`. */
export function registerExport(program: Command, io: CliIO): void {
  program
    .command("export")
    .description(`write a policy for another engine: ${EXPORT_FORMATS.join(", ")}`)
    .argument("<policy>", "policy file (- for standard input)")
    .requiredOption("--format <format>", EXPORT_FORMATS.join(" | "))
    .option("-o, --output <file>", "write here (atomically) instead of stdout")
    .option(
      "--launcher <launcher>",
      `what starts the program once the filter is loaded; its calls are added as "launcher:" rules (${EXPORT_FORMATS.map((f) => `${f}: ${FORMAT_LAUNCHERS[f].join("|")}`).join("; ")}; the first is the default)`,
    )
    .option(
      "--nnp <bool>",
      "runc: the container's process.noNewPrivileges (true|false; default: both settings)",
    )
    .option("--log", "log mode: nothing is blocked; every call the policy would not allow is logged")
    .option("--strict", "fail when the format cannot express part of the policy")
    .option("--function-name <name>", "C function name (libseccomp-c, bpf-c)", "sysfence_install")
    .option("--name <name>", "k8s: the SeccompProfile's name")
    .option("--namespace <ns>", "k8s: the SeccompProfile's namespace (also in the pod snippet's path)")
    .option("--api-version <v>", "k8s: SPO API version, v1 (SPO >= 1.0) or v1beta1", "v1")
    .option("--pod-snippet", "k8s: also print the securityContext that uses the profile")
    .option("--arch <arch...>", "target architectures (default: the policy's)")
    .addHelpText(
      "after",
      `
Examples:
  sysfence export nginx.policy.yaml --format oci -o nginx.json          # Docker/podman/runc (launcher runc)
  sysfence export nginx.policy.yaml --format bpf -o nginx.bpf           # bwrap --seccomp 9 9<nginx.bpf
  sysfence export p.yaml --format bpf-c --launcher exec -o launch.c     # cc launch.c -o launch; ./launch nginx
  sysfence export p.yaml --format systemd --log                         # a trial drop-in that only logs
  sysfence export p.yaml --format k8s --namespace web --pod-snippet     # SPO SeccompProfile (v1)`,
    )
    .action(
      async (
        file: string,
        opts: PolicyOptions & {
          format: string;
          output?: string;
          launcher?: string;
          nnp?: string;
          log?: boolean;
          strict?: boolean;
          functionName: string;
          name?: string;
          namespace?: string;
          apiVersion: string;
          podSnippet?: boolean;
        },
      ) => {
        if (!(EXPORT_FORMATS as string[]).includes(opts.format))
          throw new UsageError(`unknown --format '${opts.format}'; use one of ${EXPORT_FORMATS.join(", ")}.`);
        const format = opts.format as ExportFormat;
        if (opts.launcher !== undefined && !(LAUNCHERS as readonly string[]).includes(opts.launcher))
          throw new UsageError(`unknown --launcher '${opts.launcher}'; use one of ${LAUNCHERS.join(", ")}.`);
        if (opts.nnp !== undefined && opts.nnp !== "true" && opts.nnp !== "false")
          throw new UsageError(`--nnp takes true or false, not '${opts.nnp}'.`);
        if (opts.apiVersion !== "v1" && opts.apiVersion !== "v1beta1")
          throw new UsageError(`--api-version takes v1 or v1beta1, not '${opts.apiVersion}'.`);
        if (format === "bpf" && !opts.output) throw new UsageError("--format bpf is binary; give -o FILE.");
        const { policy } = await loadPolicy(file, opts, io);
        const name =
          opts.name ??
          (file === "-" ? "sysfence" : basename(file))
            .replace(/\.[^.]+$/, "")
            .toLowerCase()
            .replace(/[^a-z0-9-]+/g, "-");
        const { output, warnings, launcherWarnings } = exportPolicy(policy, format, {
          launcher: opts.launcher as LauncherName | undefined,
          noNewPrivileges: opts.nnp === undefined ? undefined : opts.nnp === "true",
          log: opts.log,
          functionName: opts.functionName,
          name,
          namespace: opts.namespace,
          podSnippet: opts.podSnippet,
          apiVersion: opts.apiVersion,
        });
        for (const w of [...launcherWarnings, ...warnings]) io.stderr(`${formatDiagnostic(w)}\n`);
        // the launcher's notes are information, not something the format failed to express
        if (opts.strict && warnings.length) {
          throw new SysfenceError(
            "E_POLICY_INVALID",
            `${opts.format} cannot express ${warnings.length} part(s) of ${file} (--strict); nothing written.`,
          );
        }
        if (opts.output) writeOutput(opts.output, output, io);
        else io.stdout(typeof output === "string" ? output : output.toString("hex"));
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
