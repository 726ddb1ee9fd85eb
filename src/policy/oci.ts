import type { Diagnostic, SourceLocation } from "../errors.js";
import { throwIfErrors } from "../errors.js";
import { type ArchName, findArch, nativeArch } from "../syscalls/arches.js";
import { fakeSuccessWarning } from "./actions.js";
import { applyLibseccompSemantics } from "./libseccomp-semantics.js";
import type { Action, CmpOp, Condition, Policy, Rule } from "./model.js";

// The Docker/OCI seccomp profile (runtime-spec config-linux.md "Seccomp", plus Docker's
// archMap/includes/excludes/minKernel extensions as used by moby/profiles).

/** Options that resolve Docker's conditional entries. */
export interface OciOptions {
  /** The host architecture; picks the archMap entry and matches includes.arches (default: this machine's). */
  arch?: ArchName;
  /** Capabilities the container holds (default: Docker's default set). */
  caps?: readonly string[];
  /** Kernel version for includes.minKernel, e.g. "6.1" (default: entries with minKernel apply). */
  kernel?: string;
}

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

interface OciArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: string;
}
interface OciFilter {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}
interface OciSyscall {
  names?: string[];
  name?: string;
  action: string;
  errnoRet?: number;
  args?: OciArg[] | null;
  includes?: OciFilter;
  excludes?: OciFilter;
  comment?: string;
}
/** The profile as JSON. */
export interface OciProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls?: OciSyscall[];
  flags?: string[];
  listenerPath?: string;
}

/** True when parsed data looks like a Docker/OCI profile rather than a sysfence policy. */
export function isOciProfile(data: unknown): data is OciProfile {
  return (
    typeof data === "object" &&
    data !== null &&
    typeof (data as { defaultAction?: unknown }).defaultAction === "string" &&
    /^SCMP_ACT_/.test((data as { defaultAction: string }).defaultAction)
  );
}

const OPS: Record<string, CmpOp> = {
  SCMP_CMP_EQ: "==",
  SCMP_CMP_NE: "!=",
  SCMP_CMP_LT: "<",
  SCMP_CMP_LE: "<=",
  SCMP_CMP_GT: ">",
  SCMP_CMP_GE: ">=",
  SCMP_CMP_MASKED_EQ: "&==",
};

/**
 * Converts an OCI action name (+ errnoRet) to an action as runc does (libcontainer/seccomp getAction): an
 * ERRNO or TRACE without errnoRet answers EPERM. Undefined when the name is unknown.
 */
export function ociAction(name: string, errnoRetIn: number | bigint | undefined): Action | undefined {
  const errnoRet = errnoRetIn === undefined ? undefined : Number(errnoRetIn);
  switch (name) {
    case "SCMP_ACT_ALLOW":
      return { kind: "allow" };
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return { kind: "kill-thread" };
    case "SCMP_ACT_KILL_PROCESS":
      return { kind: "kill-process" };
    case "SCMP_ACT_TRAP":
      return { kind: "trap" };
    case "SCMP_ACT_ERRNO":
      return { kind: "errno", data: errnoRet ?? 1 };
    case "SCMP_ACT_TRACE":
      return { kind: "trace", data: errnoRet ?? 1 };
    case "SCMP_ACT_LOG":
      return { kind: "log" };
    case "SCMP_ACT_NOTIFY":
      return { kind: "user-notif" };
    default:
      return undefined;
  }
}

function kernelAtLeast(have: string | undefined, need: string): boolean {
  if (have === undefined) return true;
  const a = have.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const b = need.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** Values runc reads as uint64 that are a 32-bit negative number sign-extended (AT_FDCWD, -1) become negative. */
function ociValue(v: number | bigint): bigint {
  const b = BigInt(v);
  return b >= 0xffffffff80000000n ? b - (1n << 64n) : b;
}

/**
 * Imports a validated Docker/OCI profile as runc and Docker would apply it: archMap, includes and excludes
 * resolved for the host; then libseccomp's meaning (see applyLibseccompSemantics).
 */
export function importOci(
  profile: OciProfile,
  options: OciOptions & {
    file?: string;
    locate?: (path: (string | number)[]) => SourceLocation;
    prefix?: (string | number)[];
  },
): { policy: Policy; warnings: Diagnostic[] } {
  const file = options.file ?? "<profile>";
  const prefix = options.prefix ?? [];
  const locate = (path: (string | number)[]) =>
    options.locate ? options.locate([...prefix, ...path]) : { file };
  const diags: Diagnostic[] = [];
  const host = options.arch ?? nativeArch();
  const caps = new Set(
    (options.caps ?? DOCKER_DEFAULT_CAPS).map((c) => (c.startsWith("CAP_") ? c : `CAP_${c}`).toUpperCase()),
  );
  const defaultAction = ociAction(profile.defaultAction, profile.defaultErrnoRet);
  const warnFakeSuccess = (a: Action | undefined, path: (string | number)[]) => {
    const fake = a && fakeSuccessWarning(a);
    if (fake) diags.push({ severity: "warning", message: `errnoRet 0: ${fake}.`, location: locate(path) });
  };
  warnFakeSuccess(defaultAction, ["defaultErrnoRet"]);
  if (!defaultAction)
    diags.push({
      severity: "error",
      message: `unknown defaultAction '${profile.defaultAction}'`,
      location: locate(["defaultAction"]),
    });
  if (profile.architectures?.length && profile.archMap?.length)
    diags.push({
      severity: "error",
      message: "both 'architectures' and 'archMap' are set; Docker refuses such a profile",
      location: locate(["archMap"]),
      hint: "keep one of them",
    });

  const arches: ArchName[] = [];
  const addArch = (name: string, path: (string | number)[]) => {
    const info = findArch(name);
    if (!info)
      diags.push({
        severity: "warning",
        message: `architecture '${name}' is not supported by sysfence; its calls get the bad-architecture action (kill)`,
        location: locate(path),
      });
    else if (!arches.includes(info.name)) arches.push(info.name);
  };
  if (profile.archMap?.length) {
    const i = profile.archMap.findIndex((m) => findArch(m.architecture)?.name === host);
    if (i >= 0) {
      addArch(profile.archMap[i].architecture, ["archMap", i, "architecture"]);
      for (const [j, s] of (profile.archMap[i].subArchitectures ?? []).entries())
        addArch(s, ["archMap", i, "subArchitectures", j]);
    }
  } else {
    profile.architectures?.forEach((a, i) => {
      addArch(a, ["architectures", i]);
    });
  }
  if (arches.length === 0) arches.push(host);

  const applies = (s: OciSyscall) => {
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    const archMatch = (list: string[]) => list.some((a) => findArch(a)?.name === host);
    if (inc.arches?.length && !archMatch(inc.arches)) return false;
    if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
    if (inc.minKernel && !kernelAtLeast(options.kernel, inc.minKernel)) return false;
    if (exc.arches?.length && archMatch(exc.arches)) return false;
    if (exc.caps?.length && exc.caps.some((c) => caps.has(c))) return false;
    if (exc.minKernel && kernelAtLeast(options.kernel, exc.minKernel)) return false;
    return true;
  };

  const rules: Rule[] = [];
  (profile.syscalls ?? []).forEach((s, si) => {
    if (s.name !== undefined && s.names !== undefined)
      diags.push({
        severity: "error",
        message: "both 'name' and 'names' are set; Docker refuses such a rule",
        location: locate(["syscalls", si]),
        hint: "keep 'names'",
      });
    if (!applies(s)) return;
    const names = [...(s.names ?? []), ...(s.name ? [s.name] : [])];
    const action = ociAction(s.action, s.errnoRet);
    if (!action) {
      diags.push({
        severity: "error",
        message: `unknown action '${s.action}'`,
        location: locate(["syscalls", si, "action"]),
        hint: "use SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL_PROCESS …",
      });
      return;
    }
    warnFakeSuccess(action, ["syscalls", si, "errnoRet"]);
    if (s.errnoRet !== undefined && action.kind !== "errno" && action.kind !== "trace")
      diags.push({
        severity: "warning",
        message: `errnoRet is ignored for ${s.action}`,
        location: locate(["syscalls", si, "errnoRet"]),
      });
    const conds: Condition[] = [];
    (s.args ?? []).forEach((a, ai) => {
      const op = OPS[a.op];
      const where = locate(["syscalls", si, "args", ai]);
      if (!op) {
        diags.push({
          severity: "error",
          message: `unknown operator '${a.op}'`,
          location: where,
          hint: "use SCMP_CMP_EQ, NE, LT, LE, GT, GE or MASKED_EQ",
        });
        return;
      }
      const v = ociValue(a.value);
      const v2 = ociValue(a.valueTwo ?? 0);
      // libseccomp masks the datum too (db.c _db_node_mask_fixup): (arg & mask) == (valueTwo & mask).
      conds.push(
        op === "&=="
          ? { arg: a.index, op, mask: v, value: v & v2, location: where, unsigned: true }
          : { arg: a.index, op, value: v, location: where, unsigned: true },
      );
    });
    // runc: conditions that repeat an argument index are OR-ed (one rule each); distinct indexes are AND-ed.
    const indexes = conds.map((c) => c.arg);
    const repeated = new Set(indexes).size !== indexes.length;
    const groups = repeated ? conds.map((c) => [c]) : [conds];
    for (const g of groups)
      rules.push({ names, action, conditions: g, comment: s.comment, location: locate(["syscalls", si]) });
  });
  if (profile.flags?.length)
    diags.push({
      severity: "warning",
      message: `'flags' (${profile.flags.join(", ")}) are install options, not part of the filter program; sysfence does not apply them`,
      location: locate(["flags"]),
    });
  if (profile.listenerPath !== undefined)
    diags.push({
      severity: "warning",
      message: "'listenerPath' is not part of the filter program and is ignored",
      location: locate(["listenerPath"]),
    });
  throwIfErrors(diags, file);
  const semantics = applyLibseccompSemantics(rules, defaultAction!, arches, file);
  diags.push(...semantics.diagnostics);
  throwIfErrors(diags, file);
  return {
    policy: {
      defaultAction: defaultAction!,
      badArchAction: { kind: "kill-process" },
      architectures: arches,
      rules: semantics.rules,
      source: file,
    },
    warnings: diags.filter((d) => d.severity === "warning"),
  };
}
