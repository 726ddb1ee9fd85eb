// The OCI / moby seccomp vocabulary, written once and used in both directions: the shape check and the
// reader (read.ts, schema.ts) take names to meanings, the OCI and Kubernetes exports (src/export/oci.ts)
// take meanings to names.
import type { ArchName } from "../../../syscalls/arches.js";
import type { Action, ActionKind, CmpOp } from "../../model.js";

/**
 * Every SCMP_ACT_* name runc accepts (libcontainer/seccomp getAction) and the action kind it means. An
 * entry marked readOnly is an alias the reader accepts and the writer never produces (SCMP_ACT_KILL is
 * libseccomp's old name for killing the thread).
 */
export const OCI_ACTION_TABLE = [
  { name: "SCMP_ACT_KILL", kind: "kill-thread", readOnly: true },
  { name: "SCMP_ACT_KILL_PROCESS", kind: "kill-process" },
  { name: "SCMP_ACT_KILL_THREAD", kind: "kill-thread" },
  { name: "SCMP_ACT_TRAP", kind: "trap" },
  { name: "SCMP_ACT_ERRNO", kind: "errno" },
  { name: "SCMP_ACT_TRACE", kind: "trace" },
  { name: "SCMP_ACT_ALLOW", kind: "allow" },
  { name: "SCMP_ACT_LOG", kind: "log" },
  { name: "SCMP_ACT_NOTIFY", kind: "user-notif" },
] as const satisfies readonly { name: string; kind: Action["kind"]; readOnly?: true }[];

/** The SCMP_ACT_* names, in the table's order (the schema's enum). */
export const OCI_ACTIONS = OCI_ACTION_TABLE.map((a) => a.name) as [
  (typeof OCI_ACTION_TABLE)[number]["name"],
  ...(typeof OCI_ACTION_TABLE)[number]["name"][],
];

/**
 * Converts an OCI action name (+ errnoRet) to an action as runc does (libcontainer/seccomp getAction): an
 * ERRNO or TRACE without errnoRet answers EPERM. Undefined when the name is unknown.
 */
export function ociAction(name: string, errnoRetIn: number | bigint | undefined): Action | undefined {
  const errnoRet = errnoRetIn === undefined ? undefined : Number(errnoRetIn);
  const entry = OCI_ACTION_TABLE.find((a) => a.name === name);
  if (!entry) return undefined;
  if (entry.kind === "errno" || entry.kind === "trace") return { kind: entry.kind, data: errnoRet ?? 1 };
  return { kind: entry.kind };
}

/** An action in OCI terms: SCMP_ACT_* plus errnoRet for errno (default EPERM) and trace data (default 0). */
export function ociActionOf(a: Action): { action: string; errnoRet?: number } {
  const action = WRITTEN[a.kind];
  if (a.kind === "errno") return { action, errnoRet: a.data ?? 1 };
  if (a.kind === "trace") return { action, errnoRet: a.data ?? 0 };
  return { action };
}

/** The name written for each kind: the table's entry that is not read-only (one per kind, test/policy/oci-vocab). */
const WRITTEN = Object.fromEntries(
  OCI_ACTION_TABLE.filter((a) => !("readOnly" in a)).map((a) => [a.kind, a.name]),
) as Record<ActionKind, string>;

/** Every SCMP_CMP_* operator and the comparison it means (libseccomp's scmp_compare). */
export const OCI_OP_TABLE = [
  { name: "SCMP_CMP_NE", op: "!=" },
  { name: "SCMP_CMP_LT", op: "<" },
  { name: "SCMP_CMP_LE", op: "<=" },
  { name: "SCMP_CMP_EQ", op: "==" },
  { name: "SCMP_CMP_GE", op: ">=" },
  { name: "SCMP_CMP_GT", op: ">" },
  { name: "SCMP_CMP_MASKED_EQ", op: "&==" },
] as const satisfies readonly { name: string; op: CmpOp }[];

/** The SCMP_CMP_* names, in the table's order (the schema's enum). */
export const OCI_OPS = OCI_OP_TABLE.map((o) => o.name) as [
  (typeof OCI_OP_TABLE)[number]["name"],
  ...(typeof OCI_OP_TABLE)[number]["name"][],
];

/** The comparison an SCMP_CMP_* name means, or undefined. */
export function ociOp(name: string): CmpOp | undefined {
  return OCI_OP_TABLE.find((o) => o.name === name)?.op;
}

/** The filter flags the runtime-spec lists (install options, not part of the program). */
export const OCI_FLAGS = [
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
] as const;

/** SCMP_ARCH_* names used by OCI, Docker and Kubernetes. */
export const OCI_ARCH: Record<ArchName, string> = {
  x86_64: "SCMP_ARCH_X86_64",
  i386: "SCMP_ARCH_X86",
  x32: "SCMP_ARCH_X32",
  aarch64: "SCMP_ARCH_AARCH64",
  arm: "SCMP_ARCH_ARM",
  riscv64: "SCMP_ARCH_RISCV64",
  ppc64le: "SCMP_ARCH_PPC64LE",
  s390x: "SCMP_ARCH_S390X",
};

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];
