// `sysfence export` and `sysfence import` as library steps over files: options checked against the lists
// that define them, the policy read, exported (or converted to a sysfence policy and read back), and the
// result returned; nothing is printed or written.
import { basename } from "node:path";
import { type Diagnostic, SysfenceError } from "../errors.js";
import { EXPORT_FORMATS, type Exported, exportPolicy } from "../export/export.js";
import { type ExportFormat, LAUNCHERS, type LauncherName } from "../export/launchers.js";
import type { Policy } from "../policy/model.js";
import { systemErrorText } from "../util/errno.js";
import { K8S_API_VERSIONS } from "./option-lists.js";
import { loadBpf, loadPolicyFile, looksLikeBpf, type PolicyFileOptions } from "./policy-file.js";

export { EXPORT_FORMATS } from "../export/export.js";
export { FORMAT_LAUNCHERS, LAUNCHERS } from "../export/launchers.js";

/** exportFile()'s options, as `sysfence export` spells them (strings checked here). */
export interface ExportFileOptions extends PolicyFileOptions {
  /** The format to write (one of EXPORT_FORMATS). */
  format: string;
  /** What starts the program once the filter is loaded (one of LAUNCHERS). */
  launcher?: string;
  /** runc: the container's process.noNewPrivileges, "true" or "false". */
  nnp?: string;
  /** Log mode: nothing is blocked. */
  log?: boolean;
  /** Refuse when the format cannot express part of the policy. */
  strict?: boolean;
  /** The C formats' function name. */
  functionName?: string;
  /** k8s: the SeccompProfile's name (default: the file's name, lower-case). */
  name?: string;
  /** k8s: the SeccompProfile's namespace. */
  namespace?: string;
  /** k8s: the SPO API version (one of K8S_API_VERSIONS). */
  apiVersion?: string;
  /** k8s: also give the pod's securityContext. */
  podSnippet?: boolean;
  /** oci: an OCI bundle's config.json to put the profile into as linux.seccomp. */
  into?: string;
  /** Where the output goes (only checked against `into`: one or the other). */
  output?: string;
}

/** An export of a policy file: the export, the reader's warnings and, with `into`, the config's new text. */
export interface ExportedFile {
  format: ExportFormat;
  exported: Exported;
  /** The policy reader's warnings. */
  readWarnings: Diagnostic[];
  /** With `into`: the bundle's config.json with the profile as its linux.seccomp. */
  config?: string;
}

const usage = (message: string): SysfenceError => new SysfenceError("E_USAGE", message);

/** The export's options checked (usage errors): each value one its list has, `into` only with oci and no output. */
export function checkExportOptions(opts: ExportFileOptions): ExportFormat {
  if (!(EXPORT_FORMATS as string[]).includes(opts.format))
    throw usage(`unknown --format '${opts.format}'; use one of ${EXPORT_FORMATS.join(", ")}.`);
  const format = opts.format as ExportFormat;
  if (opts.launcher !== undefined && !(LAUNCHERS as readonly string[]).includes(opts.launcher))
    throw usage(`unknown --launcher '${opts.launcher}'; use one of ${LAUNCHERS.join(", ")}.`);
  if (opts.nnp !== undefined && opts.nnp !== "true" && opts.nnp !== "false")
    throw usage(`--nnp takes true or false, not '${opts.nnp}'.`);
  if (opts.apiVersion !== undefined && !(K8S_API_VERSIONS as readonly string[]).includes(opts.apiVersion))
    throw usage(`--api-version takes v1 or v1beta1, not '${opts.apiVersion}'.`);
  if (opts.into !== undefined && format !== "oci")
    throw usage(`--into writes an OCI bundle's config.json; it goes with --format oci, not ${format}.`);
  if (opts.into !== undefined && opts.output !== undefined)
    throw usage("give --into CONFIG or -o FILE, not both.");
  return format;
}

/** An OCI bundle's config.json as text; an unreadable one is an E_IO error saying what --into needs. */
async function readBundleConfig(path: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  return readFile(path, "utf8").catch((e) => {
    throw new SysfenceError(
      "E_IO",
      `cannot read ${path}: ${systemErrorText(e)}; --into needs an existing bundle config (runc spec writes one).`,
      { cause: e },
    );
  });
}

/** The SeccompProfile name a file gives: its base name without extension, lower-case, [a-z0-9-] only. */
export function profileName(file: string): string {
  return (file === "-" ? "sysfence" : basename(file))
    .replace(/\.[^.]+$/, "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-");
}

/**
 * A policy file written for another engine, as `sysfence export FILE --format F`: the options checked
 * (usage errors first), `into`'s config read before the policy, the policy read and exported. With
 * `into`, `config` is that config with the profile put in. `strict` is checked by refuseInexpressible().
 */
export async function exportFile(file: string, opts: ExportFileOptions): Promise<ExportedFile> {
  const format = checkExportOptions(opts);
  const config = opts.into === undefined ? undefined : await readBundleConfig(opts.into);
  const parsed = await loadPolicyFile(file, opts);
  const exported = exportPolicy(parsed.policy, format, {
    launcher: opts.launcher as LauncherName | undefined,
    noNewPrivileges: opts.nnp === undefined ? undefined : opts.nnp === "true",
    log: opts.log,
    functionName: opts.functionName,
    name: opts.name ?? profileName(file),
    namespace: opts.namespace,
    podSnippet: opts.podSnippet,
    apiVersion: opts.apiVersion as (typeof K8S_API_VERSIONS)[number] | undefined,
  });
  if (opts.into === undefined || config === undefined)
    return { format, exported, readWarnings: parsed.warnings };
  const { seccompInto } = await import("../export/oci-into.js");
  return {
    format,
    exported,
    readWarnings: parsed.warnings,
    config: seccompInto(config, opts.into, String(exported.output)),
  };
}

/**
 * With `strict`, an E_POLICY_INVALID error when the format could not express part of the policy (its
 * `warnings`; the launcher's notes are information, not loss).
 */
export function refuseInexpressible(r: ExportedFile, file: string, strict: boolean | undefined): void {
  if (strict && r.exported.warnings.length)
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `${r.format} cannot express ${r.exported.warnings.length} part(s) of ${file} (--strict); nothing written.`,
    );
}

/** A policy file converted to a sysfence policy: the policy, its YAML text, and the reader's warnings. */
export interface ImportedFile {
  policy: Policy;
  text: string;
  readWarnings: Diagnostic[];
}

/**
 * Any policy file (OCI/Docker JSON, an SPO SeccompProfile, systemd lines, raw BPF) as a sysfence policy,
 * as `sysfence import`; the text is read back and must decide every call as the input does.
 */
export async function importFile(file: string, opts: PolicyFileOptions = {}): Promise<ImportedFile> {
  const { policyToYaml } = await import("../policy/write.js");
  let policy: Policy;
  let readWarnings: Diagnostic[] = [];
  if (await looksLikeBpf(file, opts.inputFormat)) {
    const { importBpf } = await import("../policy/formats/bpf/read.js");
    policy = importBpf(await loadBpf(file), file === "-" ? "<stdin>" : file);
  } else {
    const parsed = await loadPolicyFile(file, opts);
    policy = parsed.policy;
    readWarnings = parsed.warnings;
  }
  const text = policyToYaml(policy, `Imported by sysfence from ${file}`);
  // what is written must mean what was read: read it back and ask both the same calls
  const { checkRoundTrip } = await import("../policy/round-trip.js");
  const { parsePolicy } = await import("../policy/parse.js");
  checkRoundTrip(policy, text, (t) => parsePolicy(t, { file: "<written policy>" }).policy, file);
  return { policy, text, readWarnings };
}
