import { stringify } from "yaml";
import type { Policy } from "../policy/model.js";
import { ociBody } from "./oci.js";
import type { ExportResult } from "./shared.js";

/**
 * A Security Profiles Operator SeccompProfile (security-profiles-operator.x-k8s.io/v1beta1) and, with
 * podSnippet, the securityContext that uses it (type Localhost, operator/NAME.json as SPO installs it).
 */
export function exportK8s(
  policy: Policy,
  options: { name?: string; namespace?: string; podSnippet?: boolean } = {},
): ExportResult {
  const name = options.name ?? "sysfence";
  const body = ociBody(policy, "k8s");
  const { warnings, defaultErrnoRet, ...spec } = body;
  if (defaultErrnoRet !== undefined && defaultErrnoRet !== 1) {
    warnings.push({
      severity: "warning",
      message: `k8s: SeccompProfile has no defaultErrnoRet; the default action answers EPERM, not errno ${defaultErrnoRet}`,
    });
  }
  const toPlain = (v: unknown): unknown =>
    JSON.parse(
      JSON.stringify(v, (_k, x) =>
        typeof x === "bigint" ? (x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString()) : x,
      ),
    );
  for (const s of spec.syscalls)
    for (const a of s.args ?? []) {
      if (a.value > BigInt(Number.MAX_SAFE_INTEGER) || a.valueTwo > BigInt(Number.MAX_SAFE_INTEGER)) {
        warnings.push({
          severity: "warning",
          message: `k8s: argument value ${a.value} of ${s.names.join(",")} is beyond 2^53 and may lose precision in JSON tooling`,
        });
      }
    }
  const resource = {
    apiVersion: "security-profiles-operator.x-k8s.io/v1beta1",
    kind: "SeccompProfile",
    metadata: {
      name,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      annotations: { "sysfence.dev/source": policy.source ?? "policy" },
    },
    spec: toPlain({ ...spec, syscalls: spec.syscalls.map(({ comment: _c, ...s }) => s) }),
  };
  let text = stringify(resource, { lineWidth: 0 });
  if (options.podSnippet) {
    const snippet = {
      securityContext: { seccompProfile: { type: "Localhost", localhostProfile: `operator/${name}.json` } },
    };
    text += `---\n# Pod or container spec snippet that uses the profile:\n${stringify(snippet)}`;
  }
  return { text, warnings };
}
