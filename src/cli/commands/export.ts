import type { Command } from "commander";
import {
  checkExportOptions,
  EXPORT_FORMATS,
  type ExportedFile,
  type ExportFileOptions,
  exportFile,
  FORMAT_LAUNCHERS,
  importFile,
  refuseInexpressible,
} from "../../api/export-file.js";
import { formatDiagnostic } from "../../errors.js";
import { type CliIO, toJson, UsageError, writeOutput } from "../io.js";
import { addOptions, type OptionSpec } from "../options.js";
import { INPUT_FORMAT_HELP, type PolicyOptions, printWarnings } from "../policy-input.js";

/** `export`'s options after --format and -o: flags, value options, and value options with a default. */
const EXPORT_OPTIONS: readonly OptionSpec[] = [
  [
    "--into <config>",
    "oci: write the profile as linux.seccomp of this bundle's config.json, in place (every other byte kept)",
  ],
  [
    "--launcher <launcher>",
    `what starts the program once the filter is loaded; its calls are added as "launcher:" rules (${EXPORT_FORMATS.map((f) => `${f}: ${FORMAT_LAUNCHERS[f].join("|")}`).join("; ")}; the first is the default)`,
  ],
  ["--nnp <bool>", "runc: the container's process.noNewPrivileges (true|false; default: both settings)"],
  ["--log", "log mode: nothing is blocked; every call the policy would not allow is logged"],
  ["--strict", "fail when the format cannot express part of the policy"],
  ["--function-name <name>", "C function name (libseccomp-c, bpf-c)", "sysfence_install"],
  ["--name <name>", "k8s: the SeccompProfile's name"],
  ["--namespace <ns>", "k8s: the SeccompProfile's namespace (also in the pod snippet's path)"],
  ["--api-version <v>", "k8s: SPO API version, v1 (SPO >= 1.0) or v1beta1", "v1"],
  ["--pod-snippet", "k8s: also print the securityContext that uses the profile"],
  ["--arch <arch...>", "target architectures (default: the policy's)"],
  ["--json", "print JSON: the output (base64 for bpf), the launcher, its rules and every warning"],
];

type ExportCliOptions = ExportFileOptions & { json?: boolean };

/** `sysfence export`: the options checked, the export made by the library, then written or printed. */
async function exportAction(file: string, opts: ExportCliOptions, io: CliIO): Promise<void> {
  const format = checkExportOptions(opts);
  if (format === "bpf" && !opts.output && !opts.json)
    throw new UsageError("--format bpf is binary; give -o FILE (or --json for base64).");
  const r = await exportFile(file, opts);
  const { exported } = r;
  printWarnings([...r.readWarnings, ...exported.launcherWarnings, ...exported.warnings], io);
  refuseInexpressible(r, file, opts.strict);
  if (opts.output) writeOutput(opts.output, exported.output, io);
  if (opts.into !== undefined && r.config !== undefined) {
    writeOutput(opts.into, r.config, io);
    if (!opts.json) io.stderr(`sysfence export: linux.seccomp of ${opts.into} written.\n`);
    if (!opts.json) return;
  }
  if (opts.json) io.stdout(`${toJson(exportJson(r, opts))}\n`);
  else if (!opts.output)
    io.stdout(typeof exported.output === "string" ? exported.output : exported.output.toString("hex"));
}

/** `export --json`'s object. */
function exportJson({ format, exported }: ExportedFile, opts: ExportCliOptions): object {
  const { output, warnings, launcherWarnings, launcher, launcherRules } = exported;
  return {
    format,
    launcher,
    output: typeof output === "string" ? output : output.toString("base64"),
    encoding: typeof output === "string" ? "utf8" : "base64",
    launcherRules: launcherRules.map((r) => ({ names: r.names, comment: r.comment })),
    warnings: warnings.map(formatDiagnostic),
    launcherWarnings: launcherWarnings.map(formatDiagnostic),
    ...(opts.output ? { writtenTo: opts.output } : {}),
    ...(opts.into ? { writtenTo: opts.into } : {}),
  };
}

/** `sysfence import`: the file converted and read back by the library, then written or printed. */
async function importAction(
  file: string,
  opts: PolicyOptions & { output?: string; json?: boolean },
  io: CliIO,
): Promise<void> {
  const { policy, text, readWarnings } = await importFile(file, opts);
  printWarnings(readWarnings, io);
  if (opts.output) writeOutput(opts.output, text, io);
  if (opts.json)
    io.stdout(
      `${toJson({ source: file, rules: policy.rules.length, policy: text, ...(opts.output ? { writtenTo: opts.output } : {}) })}\n`,
    );
  else if (!opts.output) io.stdout(text);
}

/** `sysfence export` and `sysfence import`. */
export function registerExport(program: Command, io: CliIO): void {
  const exp = program
    .command("export")
    .description(`write a policy for another engine: ${EXPORT_FORMATS.join(", ")}`)
    .argument("<policy>", "policy file (- for standard input)")
    .requiredOption("--format <format>", EXPORT_FORMATS.join(" | "))
    .option("-o, --output <file>", "write here (atomically) instead of stdout");
  addOptions(exp, EXPORT_OPTIONS);
  exp.action((file: string, opts: ExportCliOptions) => exportAction(file, opts, io));
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
    .action((file: string, opts: PolicyOptions & { output?: string; json?: boolean }) =>
      importAction(file, opts, io),
    );
}
