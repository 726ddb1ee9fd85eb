import { basename } from "node:path";
import type { Command } from "commander";
import { formatDiagnostic, SysfenceError } from "../../errors.js";
import { EXPORT_FORMATS, exportPolicy } from "../../export/export.js";
import { type ExportFormat, FORMAT_LAUNCHERS, LAUNCHERS, type LauncherName } from "../../export/launchers.js";
import type { Policy } from "../../policy/model.js";
import { systemErrorText } from "../../util/errno.js";
import { type CliIO, UsageError, writeOutput } from "../io.js";
import { K8S_API_VERSIONS, oneOf } from "../option-values.js";
import { INPUT_FORMAT_HELP, loadBpf, loadPolicy, looksLikeBpf, type PolicyOptions } from "../policy-input.js";

/** `sysfence export` and `sysfence import`. */
export function registerExport(program: Command, io: CliIO): void {
  program
    .command("export")
    .description(`write a policy for another engine: ${EXPORT_FORMATS.join(", ")}`)
    .argument("<policy>", "policy file (- for standard input)")
    .requiredOption("--format <format>", EXPORT_FORMATS.join(" | "))
    .option("-o, --output <file>", "write here (atomically) instead of stdout")
    .option(
      "--into <config>",
      "oci: write the profile as linux.seccomp of this bundle's config.json, in place (every other byte kept)",
    )
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
    .option("--json", "print JSON: the output (base64 for bpf), the launcher, its rules and every warning")
    .action(
      async (
        file: string,
        opts: PolicyOptions & {
          format: string;
          output?: string;
          into?: string;
          launcher?: string;
          nnp?: string;
          log?: boolean;
          strict?: boolean;
          functionName: string;
          name?: string;
          namespace?: string;
          apiVersion: string;
          podSnippet?: boolean;
          json?: boolean;
        },
      ) => {
        if (!(EXPORT_FORMATS as string[]).includes(opts.format))
          throw new UsageError(`unknown --format '${opts.format}'; use one of ${EXPORT_FORMATS.join(", ")}.`);
        const format = opts.format as ExportFormat;
        if (opts.launcher !== undefined && !(LAUNCHERS as readonly string[]).includes(opts.launcher))
          throw new UsageError(`unknown --launcher '${opts.launcher}'; use one of ${LAUNCHERS.join(", ")}.`);
        if (opts.nnp !== undefined && opts.nnp !== "true" && opts.nnp !== "false")
          throw new UsageError(`--nnp takes true or false, not '${opts.nnp}'.`);
        if (!oneOf(K8S_API_VERSIONS, opts.apiVersion))
          throw new UsageError(`--api-version takes v1 or v1beta1, not '${opts.apiVersion}'.`);
        if (opts.into !== undefined && format !== "oci")
          throw new UsageError(
            `--into writes an OCI bundle's config.json; it goes with --format oci, not ${format}.`,
          );
        if (opts.into !== undefined && opts.output !== undefined)
          throw new UsageError("give --into CONFIG or -o FILE, not both.");
        let config: string | undefined;
        if (opts.into !== undefined) {
          const { readFile } = await import("node:fs/promises");
          config = await readFile(opts.into, "utf8").catch((e) => {
            throw new SysfenceError(
              "E_IO",
              `cannot read ${opts.into}: ${systemErrorText(e)}; --into needs an existing bundle config (runc spec writes one).`,
              { cause: e },
            );
          });
        }
        if (format === "bpf" && !opts.output && !opts.json)
          throw new UsageError("--format bpf is binary; give -o FILE (or --json for base64).");
        const { policy } = await loadPolicy(file, opts, io);
        const name =
          opts.name ??
          (file === "-" ? "sysfence" : basename(file))
            .replace(/\.[^.]+$/, "")
            .toLowerCase()
            .replace(/[^a-z0-9-]+/g, "-");
        const { output, warnings, launcherWarnings, launcher, launcherRules } = exportPolicy(policy, format, {
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
        if (opts.into !== undefined && config !== undefined) {
          const { seccompInto } = await import("../../export/oci-into.js");
          writeOutput(opts.into, seccompInto(config, opts.into, String(output)), io);
          if (!opts.json) io.stderr(`sysfence export: linux.seccomp of ${opts.into} written.\n`);
          if (!opts.json) return;
        }
        if (opts.json) {
          const { toJson } = await import("../io.js");
          io.stdout(
            `${toJson({
              format,
              launcher,
              output: typeof output === "string" ? output : output.toString("base64"),
              encoding: typeof output === "string" ? "utf8" : "base64",
              launcherRules: launcherRules.map((r) => ({ names: r.names, comment: r.comment })),
              warnings: warnings.map(formatDiagnostic),
              launcherWarnings: launcherWarnings.map(formatDiagnostic),
              ...(opts.output ? { writtenTo: opts.output } : {}),
              ...(opts.into ? { writtenTo: opts.into } : {}),
            })}\n`,
          );
        } else if (!opts.output) io.stdout(typeof output === "string" ? output : output.toString("hex"));
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
    .option("--json", "print JSON: the policy text, the format it was read as and its rule count")
    .action(async (file: string, opts: PolicyOptions & { output?: string; json?: boolean }) => {
      const { policyToYaml } = await import("../../policy/write.js");
      let policy: Policy;
      if (await looksLikeBpf(file, opts.inputFormat)) {
        const { importBpf } = await import("../../policy/formats/bpf/read.js");
        policy = importBpf(await loadBpf(file), file === "-" ? "<stdin>" : file);
      } else policy = (await loadPolicy(file, opts, io)).policy;
      const text = policyToYaml(policy, `Imported by sysfence from ${file}`);
      // what is written must mean what was read: read it back and ask both the same calls
      const { checkRoundTrip } = await import("../../policy/round-trip.js");
      const { parsePolicy } = await import("../../policy/parse.js");
      checkRoundTrip(policy, text, (t) => parsePolicy(t, { file: "<written policy>" }).policy, file);
      if (opts.output) writeOutput(opts.output, text, io);
      if (opts.json) {
        const { toJson } = await import("../io.js");
        io.stdout(
          `${toJson({ source: file, rules: policy.rules.length, policy: text, ...(opts.output ? { writtenTo: opts.output } : {}) })}\n`,
        );
      } else if (!opts.output) io.stdout(text);
    });
}
