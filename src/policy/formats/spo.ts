import { type Diagnostic, throwIfErrors } from "../../errors.js";
import type { TextDocument } from "./document.js";
import type { OciOptions } from "./oci/read.js";
import { readOciFamily } from "./oci/read.js";
import type { ParsedPolicy } from "./parsed.js";

// The Security Profiles Operator's SeccompProfile custom resource: Kubernetes envelope, OCI-shaped spec.

const API_VERSION = /^security-profiles-operator\.x-k8s\.io\/v1(alpha1|beta1)?$/;
const ENVELOPE = new Set(["apiVersion", "kind", "metadata", "spec", "status"]);
const SPO_ONLY = ["baseProfileName", "disabled"];

/** Reads a SeccompProfile; its spec means what runc makes of it (the operator hands it to the runtime). */
export function readSpoPolicy(doc: TextDocument, options: OciOptions): ParsedPolicy {
  const data = doc.data as Record<string, unknown>;
  const diags: Diagnostic[] = [];
  if (typeof data.apiVersion !== "string" || !API_VERSION.test(data.apiVersion))
    diags.push({
      severity: "error",
      message: `apiVersion ${shown(data.apiVersion)} is not a SeccompProfile API version`,
      location: doc.locate(["apiVersion"]),
      hint: "use security-profiles-operator.x-k8s.io/v1beta1",
    });
  for (const k of Object.keys(data))
    if (!ENVELOPE.has(k))
      diags.push({
        severity: "warning",
        message: `unknown key '${k}' is ignored`,
        location: doc.locate([k]),
      });
  const spec = data.spec;
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    diags.push({
      severity: "error",
      message: "spec: must be a mapping (the seccomp profile)",
      location: doc.locate(["spec"]),
    });
    throwIfErrors(diags, doc.file);
  }
  throwIfErrors(diags, doc.file);
  const s = spec as Record<string, unknown>;
  const rest: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(s)) if (!SPO_ONLY.includes(k)) rest[k] = v;
  if (s.baseProfileName !== undefined)
    diags.push({
      severity: "warning",
      message: `spec.baseProfileName ${shown(s.baseProfileName)} is not resolved here: the calls it would add are not allowed (stricter than the operator)`,
      location: doc.locate(["spec", "baseProfileName"]),
      hint: "merge the base profile into this one to check it whole",
    });
  if (s.disabled === true)
    diags.push({
      severity: "warning",
      message:
        "spec.disabled is true: the operator would not install this profile; sysfence enforces it anyway",
      location: doc.locate(["spec", "disabled"]),
    });
  const parsed = readOciFamily({ ...doc, data: { spec: rest } }, options, "oci", ["spec"], "spo");
  return { ...parsed, warnings: [...diags, ...parsed.warnings] };
}

/** A value as it reads in a message: JSON, with an integer too large for a double (a bigint) in digits. */
function shown(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  return JSON.stringify(v ?? null, (_k, x) => (typeof x === "bigint" ? x.toString() : x)).slice(0, 80);
}
