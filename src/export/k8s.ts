import { basename } from "node:path";
import { stringify } from "yaml";
import type { Policy } from "../policy/model.js";
import { ociBody } from "./oci.js";
import type { ExportResult } from "./shared.js";

export interface K8sOptions {
  name?: string;
  namespace?: string;
  podSnippet?: boolean;
  /** SPO's API: v1 (SPO >= 1.0, the default) or v1beta1 (older releases); the spec is the same. */
  apiVersion?: "v1" | "v1beta1";
}

/**
 * A Security Profiles Operator SeccompProfile (security-profiles-operator.x-k8s.io/v1 or v1beta1) and, with
 * podSnippet, the securityContext that uses it (type Localhost, operator/NAMESPACE/NAME.json as SPO installs it).
 */
export function exportK8s(policy: Policy, options: K8sOptions = {}): ExportResult {
  const name = options.name ?? "sysfence";
  const body = ociBody(policy, "k8s");
  const { warnings, defaultErrnoRet, ...spec } = body;
  if (defaultErrnoRet !== undefined && defaultErrnoRet !== 1) {
    warnings.push({
      severity: "warning",
      message: `k8s: SeccompProfile has no defaultErrnoRet; the default action answers EPERM, not errno ${defaultErrnoRet}`,
    });
  }
  // integers stay integers (the CRD's value and valueTwo are int64 with minimum 0): small ones as numbers,
  // larger ones as bigints, which the YAML writer prints as exact digits
  const toPlain = (v: unknown): unknown => {
    if (typeof v === "bigint") return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    if (Array.isArray(v)) return v.map(toPlain);
    if (v && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toPlain(x)]));
    return v;
  };
  for (const s of spec.syscalls)
    for (const a of s.args ?? []) {
      if (a.value > (1n << 63n) - 1n || a.valueTwo > (1n << 63n) - 1n) {
        warnings.push({
          severity: "warning",
          message: `k8s: argument value ${a.value} of ${s.names.join(",")} is beyond the CRD's int64; the API server will reject it`,
        });
      }
    }
  const resource = {
    apiVersion: `security-profiles-operator.x-k8s.io/${options.apiVersion ?? "v1"}`,
    kind: "SeccompProfile",
    metadata: {
      name,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      // the file's name only: a machine-local path does not belong in a cluster object
      annotations: { "sysfence.dev/source": basename(policy.source ?? "policy") },
    },
    spec: toPlain({ ...spec, syscalls: spec.syscalls.map(({ comment: _c, ...s }) => s) }),
  };
  let text = stringify(resource, { lineWidth: 0 });
  if (options.podSnippet) {
    // SPO writes each profile to the node as operator/NAMESPACE/NAME.json
    const ns = options.namespace ?? "default";
    const snippet = {
      securityContext: {
        seccompProfile: { type: "Localhost", localhostProfile: `operator/${ns}/${name}.json` },
      },
    };
    text += `---\n# Pod or container spec snippet that uses the profile:\n${stringify(snippet)}`;
  }
  return { text, warnings };
}
