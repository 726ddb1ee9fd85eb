import type { Diagnostic } from "../errors.js";
import { OCI_ARCH, ociActionOf } from "../policy/formats/oci/vocab.js";
import type { Policy } from "../policy/model.js";
import { libseccompPlans } from "./complement.js";
import { type ExportResult, libseccompCaveats, libseccompCondition, unconditionalGroups } from "./shared.js";

export { OCI_ARCH, ociActionOf } from "../policy/formats/oci/vocab.js";

/** One OCI syscalls[] entry. */
export interface OciEntry {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: { index: number; value: bigint; valueTwo: bigint; op: string }[];
  comment?: string;
}

/** The profile body shared by the OCI and Kubernetes exports. */
export function ociBody(
  policy: Policy,
  engine: string,
): {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: OciEntry[];
  warnings: Diagnostic[];
} {
  const plans = libseccompPlans(policy, { int63: engine === "k8s" });
  const warnings = libseccompCaveats(policy, plans, engine);
  const syscalls: OciEntry[] = [];
  for (const g of unconditionalGroups(plans, policy.defaultAction))
    syscalls.push({ names: g.names, ...ociActionOf(g.action), ...(g.comment ? { comment: g.comment } : {}) });
  for (const p of plans) {
    for (const r of [...p.conditional, ...(p.complement ?? [])]) {
      syscalls.push({
        names: [p.name],
        ...ociActionOf(r.action),
        args: r.conditions.map((c) => {
          const l = libseccompCondition(policy, r, c);
          return { index: c.arg, value: l.a, valueTwo: l.b, op: `SCMP_CMP_${l.op}` };
        }),
        ...(r.comment ? { comment: r.comment } : {}),
      });
    }
  }
  const d = ociActionOf(policy.defaultAction);
  return {
    defaultAction: d.action,
    defaultErrnoRet: d.errnoRet,
    architectures: policy.architectures.map((a) => OCI_ARCH[a]),
    syscalls,
    warnings,
  };
}

/** JSON with exact 64-bit integers (bigints written as number literals). */
export function jsonWithBigInts(value: unknown): string {
  const text = JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `__bigint__${v.toString()}` : v), 2);
  return text.replace(/"__bigint__(\d+)"/g, "$1");
}

/** The Docker/Podman/runc seccomp profile (runtime-spec config-linux.md#seccomp). */
export function exportOci(policy: Policy): ExportResult {
  const body = ociBody(policy, "oci");
  const { warnings, ...profile } = body;
  if (profile.defaultErrnoRet === undefined) delete profile.defaultErrnoRet;
  if (policy.badArchAction.kind !== "kill-process") {
    warnings.push({
      severity: "warning",
      message: "oci: the bad-architecture action cannot be set in an OCI profile (runc decides it)",
    });
  }
  return { text: `${jsonWithBigInts(profile)}\n`, warnings };
}
