// Reading the OCI family of seccomp profiles: the runtime-spec `LinuxSeccomp` (what runc reads, also found as
// `linux.seccomp` of a whole config.json) and moby's profile (what Docker reads, with archMap and
// includes/excludes/minKernel as used by moby/profiles). The shape is checked first (schema.ts), then the
// profile is imported as runc and Docker would apply it, with libseccomp's meaning.
import type { Diagnostic, SourceLocation } from "../../../errors.js";
import { throwIfErrors } from "../../../errors.js";
import { type ArchName, findArch, nativeArch } from "../../../syscalls/arches.js";
import { fakeSuccessWarning } from "../../actions.js";
import { applyLibseccompSemantics } from "../../libseccomp-semantics.js";
import type { Action, Condition, Policy, Rule } from "../../model.js";
import type { TextDocument } from "../document.js";
import type { ParsedPolicy } from "../parsed.js";
import { validateOciShape } from "./schema.js";
import { DOCKER_DEFAULT_CAPS, ociAction, ociOp } from "./vocab.js";

/** Options that resolve Docker's conditional entries. */
export interface OciOptions {
  /** The host architecture; picks the archMap entry and matches includes.arches (default: this machine's). */
  arch?: ArchName;
  /** Capabilities the container holds (default: Docker's default set). */
  caps?: readonly string[];
  /** Kernel version for includes.minKernel, e.g. "6.1" (default: entries with minKernel apply). */
  kernel?: string;
}

/** One argument condition of a syscalls[] entry. */
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

/** One import in progress: the profile, the options, where its parts are, and the diagnostics so far. */
interface OciImport {
  profile: OciProfile;
  options: OciOptions;
  file: string;
  locate: (path: (string | number)[]) => SourceLocation;
  diags: Diagnostic[];
  host: ArchName;
  caps: Set<string>;
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
  const cx: OciImport = {
    profile,
    options,
    file,
    locate: (path) => (options.locate ? options.locate([...prefix, ...path]) : { file }),
    diags: [],
    host: options.arch ?? nativeArch(),
    caps: new Set(
      (options.caps ?? DOCKER_DEFAULT_CAPS).map((c) => (c.startsWith("CAP_") ? c : `CAP_${c}`).toUpperCase()),
    ),
  };
  const { diags } = cx;
  const defaultAction = ociDefault(cx);
  const arches = ociArches(cx);
  const rules: Rule[] = [];
  (profile.syscalls ?? []).forEach((s, si) => {
    ociRules(cx, s, si, rules);
  });
  installOptionWarnings(cx);
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

/** errnoRet 0 on an errno action: the call fakes success; a warning says so. */
function warnFakeSuccess(cx: OciImport, a: Action | undefined, path: (string | number)[]): void {
  const fake = a && fakeSuccessWarning(a);
  if (fake)
    cx.diags.push({ severity: "warning", message: `errnoRet 0: ${fake}.`, location: cx.locate(path) });
}

/** The default action; an unknown one, or both architectures and archMap, is an error. */
function ociDefault(cx: OciImport): Action | undefined {
  const { profile, diags, locate } = cx;
  const defaultAction = ociAction(profile.defaultAction, profile.defaultErrnoRet);
  warnFakeSuccess(cx, defaultAction, ["defaultErrnoRet"]);
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
  return defaultAction;
}

/** The architectures: the host's archMap entry with its sub-architectures, or the list; the host when none. */
function ociArches(cx: OciImport): ArchName[] {
  const { profile, host } = cx;
  const arches: ArchName[] = [];
  const addArch = (name: string, path: (string | number)[]) => {
    const info = findArch(name);
    if (!info)
      cx.diags.push({
        severity: "warning",
        message: `architecture '${name}' is not supported by sysfence; its calls get the bad-architecture action (kill)`,
        location: cx.locate(path),
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
  return arches;
}

/** Whether a moby rule applies here: its includes match the host, capabilities and kernel, its excludes do not. */
function applies(cx: OciImport, s: OciSyscall): boolean {
  const { host, caps, options } = cx;
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
}

/** The rules of one syscalls[] entry (one per repeated argument index, as runc ORs them). */
function ociRules(cx: OciImport, s: OciSyscall, si: number, rules: Rule[]): void {
  const { diags, locate } = cx;
  if (s.name !== undefined && s.names !== undefined)
    diags.push({
      severity: "error",
      message: "both 'name' and 'names' are set; Docker refuses such a rule",
      location: locate(["syscalls", si]),
      hint: "keep 'names'",
    });
  if (!applies(cx, s)) return;
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
  warnFakeSuccess(cx, action, ["syscalls", si, "errnoRet"]);
  if (s.errnoRet !== undefined && action.kind !== "errno" && action.kind !== "trace")
    diags.push({
      severity: "warning",
      message: `errnoRet is ignored for ${s.action}`,
      location: locate(["syscalls", si, "errnoRet"]),
    });
  const conds = ociConditions(cx, s, si);
  // runc: conditions that repeat an argument index are OR-ed (one rule each); distinct indexes are AND-ed.
  const indexes = conds.map((c) => c.arg);
  const repeated = new Set(indexes).size !== indexes.length;
  const groups = repeated ? conds.map((c) => [c]) : [conds];
  for (const g of groups)
    rules.push({ names, action, conditions: g, comment: s.comment, location: locate(["syscalls", si]) });
}

/** The argument conditions of one entry; an unknown operator is an error. */
function ociConditions(cx: OciImport, s: OciSyscall, si: number): Condition[] {
  const conds: Condition[] = [];
  (s.args ?? []).forEach((a, ai) => {
    const op = ociOp(a.op);
    const where = cx.locate(["syscalls", si, "args", ai]);
    if (!op) {
      cx.diags.push({
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
  return conds;
}

/** flags and listenerPath are install options, not part of the program: a warning each. */
function installOptionWarnings(cx: OciImport): void {
  const { profile, diags, locate } = cx;
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
}

/** Reads an OCI runtime-spec LinuxSeccomp (at `at` inside the document: [] or ["linux", "seccomp"]). */
export function readOciPolicy(doc: TextDocument, options: OciOptions, at: string[] = []): ParsedPolicy {
  return readOciFamily(doc, options, "oci", at);
}

/** Reads a moby (Docker) seccomp profile: archMap, includes/excludes resolved for the host. */
export function readMobyPolicy(doc: TextDocument, options: OciOptions): ParsedPolicy {
  return readOciFamily(doc, options, "moby", []);
}

/** Validates the shape, then imports with libseccomp's meaning; `format` names the reader used. */
export function readOciFamily(
  doc: TextDocument,
  options: OciOptions,
  dialect: "oci" | "moby",
  at: (string | number)[],
  format: ParsedPolicy["format"] = dialect,
): ParsedPolicy {
  let data: unknown = doc.data;
  for (const k of at) data = (data as Record<string, unknown>)[k];
  const shape: Diagnostic[] = validateOciShape(data, dialect, doc.locate, at);
  throwIfErrors(shape, doc.file);
  // the keys the shape check warned about are ignored, as runc ignores them: importOci (which resolves
  // moby's archMap and includes/excludes) must not see a moby key in an OCI profile, of whatever type
  if (dialect === "oci") data = withoutMobyKeys(data as OciProfile);
  const { policy, warnings } = importOci(data as OciProfile, {
    ...options,
    file: doc.file,
    locate: doc.locate,
    prefix: at,
  });
  return { policy, warnings: [...shape, ...warnings], format };
}

/** An OCI profile without the keys only moby reads (archMap; a rule's name, comment, includes, excludes). */
function withoutMobyKeys(profile: OciProfile): OciProfile {
  const { archMap: _a, ...rest } = profile;
  if (!Array.isArray(rest.syscalls)) return rest;
  return {
    ...rest,
    syscalls: rest.syscalls.map(({ name: _n, comment: _c, includes: _i, excludes: _e, ...rule }) => rule),
  };
}
