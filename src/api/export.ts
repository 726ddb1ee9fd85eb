// export: a policy → another engine's format (OCI/Docker, Kubernetes, systemd, BPF, C) with its launcher.
import { type Exported, type ExportOptions, exportPolicy as exportFrom } from "../export/export.js";
import type { ExportFormat } from "../export/launchers.js";
import type { PolicyInput } from "../install/install.js";
import { policyOf } from "./inputs.js";

/** What an export's output is: bytes for raw BPF, text for every other format. */
export type ExportOutput<F extends ExportFormat> = F extends "bpf" ? Buffer : string;

/** An export whose output has the type its format gives (`string`, or `Buffer` for bpf). */
export type ExportedAs<F extends ExportFormat> = Omit<Exported, "output"> & { output: ExportOutput<F> };

/** exportPolicy()'s options with the format among them. */
export type ExportRequest<F extends ExportFormat> = ExportOptions & { format: F };

/**
 * A policy written for another engine (OCI/Docker, Kubernetes, systemd, BPF, C), as `sysfence export`.
 * The format is the second argument or the options' `format`; `output` is a Buffer for `bpf` and a string
 * for every other format, so `exportPolicy(p, "oci").output.split("\n")` type-checks.
 */
export function exportPolicy<F extends ExportFormat>(
  policy: PolicyInput,
  format: F,
  options?: ExportOptions,
): ExportedAs<F>;
export function exportPolicy<F extends ExportFormat>(
  policy: PolicyInput,
  request: ExportRequest<F>,
): ExportedAs<F>;
export function exportPolicy(
  policy: PolicyInput,
  format: ExportFormat | ExportRequest<ExportFormat>,
  options: ExportOptions = {},
): Exported {
  const { format: f, ...o } = typeof format === "string" ? { ...options, format } : format;
  return exportFrom(policyOf(policy, "exportPolicy"), f, o);
}
