import type { Diagnostic } from "../errors.js";
import { SysfenceError } from "../errors.js";
import { parseCondition } from "../policy/conditions.js";
import type { Policy, Rule } from "../policy/model.js";
import { referenceDecide } from "../policy/reference.js";
import { indexRules } from "../policy/resolve.js";
import { ARCHES } from "../syscalls/arches.js";
import { expandGroup } from "../syscalls/groups.js";
import { syscallNumber } from "../syscalls/table.js";
import { MEASURED_LAUNCHES } from "./launcher-sets.js";

/**
 * What starts the program once the filter is loaded. A filter is loaded by a launcher and then the launcher
 * keeps running under it until it execs the program (and bwrap's pid-1 reaper for the program's whole
 * life): whatever it calls in between must be allowed, or the program dies before its first instruction.
 */
export type LauncherName = "runc" | "crun" | "bwrap" | "systemd" | "exec" | "none";
export const LAUNCHERS: readonly LauncherName[] = ["runc", "crun", "bwrap", "systemd", "exec", "none"];

/** The name of a format exportPolicy() writes. */
export type ExportFormat = "libseccomp-c" | "bpf" | "bpf-c" | "bwrap" | "systemd" | "oci" | "k8s";

/** Which launchers each format can be used with; the first is the default. */
export const FORMAT_LAUNCHERS: Record<ExportFormat, readonly LauncherName[]> = {
  bpf: ["bwrap", "none"],
  bwrap: ["bwrap"],
  "bpf-c": ["none", "exec"],
  "libseccomp-c": ["none", "exec"],
  oci: ["runc", "crun", "none"],
  k8s: ["runc", "crun", "none"],
  systemd: ["systemd"],
};

export interface LauncherOptions {
  /** runc: the container's process.noNewPrivileges; unknown (undefined) takes both settings' calls. */
  noNewPrivileges?: boolean;
  /** The engine compiles with libseccomp (OCI, Kubernetes, libseccomp-C), where unconditional rules win. */
  libseccomp?: boolean;
  /**
   * libseccomp engines: true when the export can hold `name`'s argument rules beside its unconditional answer
   * in `policy` (it writes that answer as their complement, complement.ts); the launcher's argument rules for
   * such a call stay narrow instead of allowing the whole call.
   */
  canComplement?: (policy: Policy, name: string) => boolean;
}

/** A policy widened by what its launcher needs, the rules that were added, and the notes saying so. */
export interface Launched {
  policy: Policy;
  launcher: LauncherName;
  /**
   * The rules added for the launcher, each with a "launcher: …" comment; `policy.rules` has them too (and
   * copies of group rules a launcher rule would otherwise hide).
   */
  added: Rule[];
  /** One note naming what was added, and one naming calls the launcher made allowed whatever the arguments. */
  warnings: Diagnostic[];
}

/** How a launcher rule's comment starts: exporters keep these rules apart, with their comment. */
export const LAUNCHER_COMMENT = "launcher:";
export const isLauncherRule = (r: Rule): boolean => r.comment?.startsWith(LAUNCHER_COMMENT) === true;

/** The launcher a format gets when none is named, and a usage error for a pair that does not fit. */
export function chooseLauncher(format: ExportFormat, launcher?: string): LauncherName {
  const allowed = FORMAT_LAUNCHERS[format];
  if (launcher === undefined) return allowed[0];
  if (!(allowed as readonly string[]).includes(launcher))
    throw new SysfenceError(
      "E_USAGE",
      `--launcher ${launcher} does not fit --format ${format}; use one of ${allowed.join(", ")}.`,
    );
  return launcher as LauncherName;
}

/** The measured calls of one launcher, by the sets scripts/measure-launchers.mjs wrote. */
function measuredCalls(
  launcher: LauncherName,
  o: LauncherOptions,
): { role: string; name: string; condition?: string }[] {
  const runc = (nnp: boolean) => `runc noNewPrivileges=${nnp}`;
  const sets =
    launcher === "bwrap"
      ? ["bwrap", "bwrap --unshare-pid"]
      : launcher === "runc"
        ? o.noNewPrivileges === undefined
          ? [runc(true), runc(false)]
          : [runc(o.noNewPrivileges)]
        : [];
  const out = new Map<string, { role: string; name: string; condition?: string }>();
  for (const s of sets)
    for (const c of MEASURED_LAUNCHES[s]?.calls ?? []) {
      const key = `${c.name} ${c.condition ?? ""}`;
      if (!out.has(key))
        out.set(key, { role: `${launcher} ${c.role}`, name: c.name, condition: c.condition });
    }
  return [...out.values()];
}

/**
 * True when every arch the policy covers answers `allow` for the call (with `condition`'s value, whatever the
 * other arguments). `own`: the call's rules (direct, or through a group).
 */
function alreadyAllowed(policy: Policy, own: Rule[], name: string, condition?: string): boolean {
  for (const arch of policy.architectures) {
    const nr = syscallNumber(arch, name);
    if (nr === undefined) continue;
    // (the launcher's value on this architecture: F_SETFD and the like are named)
    const c = condition ? parseCondition(condition, arch) : undefined;
    if (!c) {
      // for any arguments: the call's own unconditional answer, or the default when it has no rule
      const fallback = own.find((r) => r.conditions.length === 0)?.action ?? policy.defaultAction;
      if (fallback.kind !== "allow") return false;
      if (own.some((r) => r.conditions.length > 0 && r.action.kind !== "allow")) return false;
      continue;
    }
    // the launcher's other arguments are unknown: the answer must not depend on them
    for (const other of [0n, 1n, 3n, 8n, 1000n, 0xffffffffn, 1n << 63n]) {
      const args = [other, other, other, other, other, other];
      args[c.arg] = c.value;
      if (referenceDecide(policy, { arch: ARCHES[arch].audit, nr, args }).kind !== "allow") return false;
    }
  }
  return true;
}

/**
 * Adds what `launcher` calls under the filter as separate allow rules commented "launcher: …", only where
 * the policy does not already allow it, and says in one warning what was added and what the launcher makes
 * impossible to hold. `exec` (sysfence's C launcher) adds execve, which the C program itself holds to its
 * one call; runc, bwrap and systemd must let every execve through.
 */
export function withLauncher(policy: Policy, launcher: LauncherName, o: LauncherOptions = {}): Launched {
  const can = o.canComplement;
  if (!o.libseccomp || !can) return launch(policy, launcher, o, () => false);
  // narrow where the export can hold it; where the result cannot, those calls allowed whole after all
  const first = launch(policy, launcher, o, () => true);
  const names = new Set(first.added.filter((r) => r.conditions.length).map((r) => r.names[0]));
  const cannot = new Set([...names].filter((n) => !can(first.policy, n)));
  return cannot.size ? launch(policy, launcher, o, (n) => !cannot.has(n)) : first;
}

function launch(
  policy: Policy,
  launcher: LauncherName,
  o: LauncherOptions,
  narrow: (name: string) => boolean,
): Launched {
  const warnings: Diagnostic[] = [];
  const warn = (message: string) =>
    warnings.push({ severity: "warning", message: `launcher ${launcher}: ${message}` });
  if (launcher === "none") return { policy, launcher, added: [], warnings };
  if (launcher === "crun")
    throw new SysfenceError(
      "E_USAGE",
      "crun's launch calls are not measured (crun refuses to run on this build machine: hybrid cgroups); export with --launcher none and add the calls crun makes after loading the filter (record them with strace -f), or use runc.",
    );
  // systemd allows its @default set (execve, exit, time, sleep, …) in every allow-list SystemCallFilter=
  // itself (systemd.exec(5)): the export says so by adding them, so the file means what systemd does
  const calls: { role: string; name: string; condition?: string }[] =
    launcher === "exec"
      ? [{ role: "exec", name: "execve" }]
      : launcher === "systemd"
        ? (expandGroup("@default") ?? []).map((name) => ({ role: "systemd", name }))
        : measuredCalls(launcher, o);
  const { direct, viaGroup } = indexRules(policy);
  const launchRules: Rule[] = [];
  // a direct rule for a name hides the group rules that named it: those are carried over as direct rules
  const carried: Rule[] = [];
  const widened = new Set<string>();
  const whole = (name: string) => launchRules.some((r) => r.names[0] === name && r.conditions.length === 0);
  for (const c of calls) {
    if (!policy.architectures.some((a) => syscallNumber(a, c.name) !== undefined)) continue;
    const own = direct.get(c.name) ?? viaGroup.get(c.name) ?? [];
    if (whole(c.name) || alreadyAllowed(policy, own, c.name, c.condition)) continue;
    // libseccomp lets a call's unconditional rule win over its argument rules: where the call has its own
    // unconditional answer and the export cannot write it as their complement, a launcher's argument rule
    // would never apply there, so the whole call is allowed
    const condition =
      c.condition &&
      o.libseccomp &&
      !narrow(c.name) &&
      own.some((r) => r.conditions.length === 0 && r.action.kind !== "allow")
        ? undefined
        : c.condition;
    if (!direct.has(c.name) && viaGroup.has(c.name) && !carried.some((r) => r.names[0] === c.name))
      for (const r of own) carried.push({ ...r, names: [c.name], location: undefined });
    if (!condition) {
      if (c.condition || own.some((r) => r.conditions.length)) widened.add(c.name);
      // the whole call allowed makes its launcher argument rules moot
      for (let i = launchRules.length - 1; i >= 0; i--)
        if (launchRules[i].names[0] === c.name) launchRules.splice(i, 1);
    }
    launchRules.push({
      names: [c.name],
      action: { kind: "allow" },
      conditions: condition ? [parseCondition(condition)] : [],
      comment: `${LAUNCHER_COMMENT} ${ROLE_TEXT[c.role] ?? c.role}`,
    });
  }
  const names = launchRules.map((r) =>
    r.conditions.length ? `${r.names[0]} (${r.conditions[0].text})` : r.names[0],
  );
  const what =
    launcher === "systemd"
      ? `${names.length ? names.join(", ") : "nothing (the policy allows all of it)"}; systemd allows these itself in an allow-list filter, execve among them, so the program can exec`
      : launcher === "exec"
        ? "execve, for the launcher's own exec only: the C launcher holds it to that one call (its path, argv and envp pointers), so the program still cannot exec"
        : `${names.length ? names.join(", ") : "nothing (the policy allows all of it)"}; ${launcher} execs the program after loading the filter, so execve stays allowed for the program too (sysfence run and the C launcher hold it to one call)`;
  warn(`added what ${launcherSource(launcher, o)} calls under the filter: ${what}`);
  if (widened.size)
    warn(
      `${[...widened].join(", ")}: the launcher needs ${widened.size > 1 ? "them" : "it"} with arguments the policy's own rules do not allow (or, under libseccomp, cannot allow beside an unconditional answer), so ${widened.size > 1 ? "they are" : "it is"} now allowed whatever the arguments`,
    );
  // a launcher's unconditional allow replaces the call's own unconditional answer (one per call); its
  // conditional rules go first, as conditional rules are tried in order
  const replaced = new Set(launchRules.filter((r) => r.conditions.length === 0).map((r) => r.names[0]));
  const rest = policy.rules
    .map((r) => (r.conditions.length === 0 ? { ...r, names: r.names.filter((n) => !replaced.has(n)) } : r))
    .filter((r) => r.names.length > 0);
  return {
    policy: { ...policy, rules: [...launchRules, ...carried, ...rest] },
    launcher,
    added: launchRules,
    warnings,
  };
}

/** What each role of a launcher is, for the rules' comments. */
const ROLE_TEXT: Record<string, string> = {
  exec: "the C launcher's own exec of the program (held to that one call by its exec guard)",
  "bwrap program": "bwrap, after loading the filter: its exec of the program (execvp, along PATH)",
  "bwrap reaper": "bwrap --unshare-pid: its pid-1 reaper, for the program's whole life",
  "runc init": "runc init, after loading the filter until it execs the program",
  systemd: "systemd allows its @default set in every allow-list SystemCallFilter= (systemd.exec(5))",
};

function launcherSource(launcher: LauncherName, o: LauncherOptions): string {
  const v = (set: string) => MEASURED_LAUNCHES[set]?.version ?? launcher;
  if (launcher === "bwrap")
    return `${v("bwrap")} (measured; with --unshare-pid its pid-1 reaper lives under the filter)`;
  if (launcher === "runc")
    return `${v("runc noNewPrivileges=true")} init (measured, noNewPrivileges ${o.noNewPrivileges === undefined ? "true and false" : String(o.noNewPrivileges)})`;
  return launcher === "systemd" ? "systemd" : "the C launcher";
}
