import { SysfenceError } from "../errors.js";
import type { Action, Policy, Rule } from "../policy/model.js";
import { refuseWorkPhase } from "../policy/phase.js";
import { referenceDecide } from "../policy/reference.js";
import { ARCHES, type ArchName, nativeArch } from "../syscalls/arches.js";
import { groupNames, isGroup } from "../syscalls/groups.js";
import { isKnownSyscall, suggestSyscalls, syscallNumber } from "../syscalls/table.js";

/**
 * What `run` always allows in allow-list mode, and why:
 * - `@default` — systemd's "always permitted" set: execve itself (the launcher's last call), exit,
 *   rt_sigreturn, memory mapping, time, futex, thread setup (set_tid_address, rseq, set_robust_list…).
 * - the dynamic loader's start-up: ld.so opens, reads, maps and closes the program's shared libraries
 *   and checks /etc/ld.so.preload before main() runs.
 * Pass `implicit: false` (CLI: --no-implicit) to allow exactly the SPEC and nothing else.
 */
export const RUN_IMPLICIT = [
  "@default",
  "openat",
  "open",
  "read",
  "pread64",
  "close",
  "fstat",
  "newfstatat",
  "statx",
  "access",
  "faccessat",
  "faccessat2",
  "lseek",
];

/** Built-in hardening sets for --preset. */
export const PRESETS: Record<string, { description: string; rules: Rule[] }> = {
  "no-user-namespaces": {
    description:
      "no new user namespaces: unshare/clone with CLONE_NEWUSER get EPERM, clone3 ENOSYS (libc falls back to clone), setns EPERM",
    rules: [
      {
        names: ["unshare"],
        action: { kind: "errno", data: 1 },
        conditions: [{ arg: 0, op: "&==", mask: 0x10000000n, value: 0x10000000n }],
      },
      {
        names: ["clone"],
        action: { kind: "errno", data: 1 },
        conditions: [{ arg: 0, op: "&==", mask: 0x10000000n, value: 0x10000000n }],
      },
      { names: ["clone3"], action: { kind: "errno", data: 38 }, conditions: [] },
      { names: ["setns"], action: { kind: "errno", data: 1 }, conditions: [] },
    ],
  },
  "no-debug": {
    description: "no ptrace, perf, bpf or process_vm_* (errno EPERM)",
    rules: [
      {
        names: ["@debug", "bpf", "process_vm_readv", "process_vm_writev"],
        action: { kind: "errno", data: 1 },
        conditions: [],
      },
    ],
  },
};

/** Options that shape the policy `run` enforces. */
export interface RunPolicyOptions {
  spec: string[];
  base?: Policy;
  deny?: boolean;
  defaultAction?: Action;
  log?: boolean;
  presets?: string[];
  implicit?: boolean;
}

/** Checks spec items (names and groups), reporting every bad one with a hint. */
export function checkSpec(spec: readonly string[]): void {
  const bad = spec.filter((s) => (s.startsWith("@") ? !isGroup(s) : !isKnownSyscall(s)));
  if (bad.length === 0) return;
  const lines = bad.map((s) => {
    const group = s.startsWith("@");
    const near = suggestSyscalls(s, group ? groupNames() : undefined)
      .map((x) => `'${x}'`)
      .join(" or ");
    const hint = near ? `did you mean ${near}?` : group ? "list groups with 'sysfence syscalls @'" : "";
    return `  unknown ${group ? "group" : "syscall"} '${s}'${hint ? ` — ${hint}` : ""}`;
  });
  throw new SysfenceError("E_USAGE", `bad syscall spec; nothing was run:\n${lines.join("\n")}`);
}

/** Builds the policy `run` installs from a spec, an optional policy file, presets and flags. */
export function buildRunPolicy(o: RunPolicyOptions): Policy {
  checkSpec(o.spec);
  if (o.base) refuseWorkPhase(o.base, "sysfence run");
  const presetRules = (o.presets ?? []).flatMap((p) => {
    const preset = PRESETS[p];
    if (!preset)
      throw new SysfenceError("E_USAGE", `unknown preset '${p}'; known: ${Object.keys(PRESETS).join(", ")}.`);
    return preset.rules;
  });
  let policy: Policy;
  if (o.deny) {
    const denyAction = o.defaultAction ?? { kind: "errno", data: 1 };
    policy = {
      defaultAction: o.base?.defaultAction ?? { kind: "allow" },
      badArchAction: { kind: "kill-process" },
      architectures: o.base?.architectures ?? [nativeArch()],
      rules: [
        ...presetRules,
        ...(o.base?.rules ?? []),
        ...(o.spec.length ? [{ names: o.spec, action: denyAction, conditions: [] }] : []),
      ],
    };
  } else if (o.spec.length === 0 && o.base) {
    // a policy file as written: only the launch's own execve is added (and held to that one call)
    const guarded = launchGuard(o.base) !== undefined;
    const rules = guarded
      ? o.base.rules
          .map((r) =>
            r.conditions.length === 0 ? { ...r, names: r.names.filter((n) => n !== "execve") } : r,
          )
          .filter((r) => r.names.length > 0)
      : o.base.rules;
    policy = {
      ...o.base,
      defaultAction: o.defaultAction ?? o.base.defaultAction,
      rules: [
        ...presetRules,
        ...rules,
        ...(guarded ? [{ names: ["execve"], action: { kind: "allow" as const }, conditions: [] }] : []),
      ],
    };
  } else if (o.spec.length === 0 && !o.base) {
    // only presets: a deny-list over default allow
    policy = {
      defaultAction: { kind: "allow" },
      badArchAction: { kind: "kill-process" },
      architectures: [nativeArch()],
      rules: presetRules,
    };
  } else {
    const allowNames = [...o.spec, ...(o.implicit === false ? [] : RUN_IMPLICIT)];
    // ENOSYS by default for an inline allow-list: programs treat it as "not supported here" and fall back.
    const defaultAction = o.defaultAction ?? o.base?.defaultAction ?? { kind: "errno", data: 38 };
    policy = {
      defaultAction,
      badArchAction: o.base?.badArchAction ?? { kind: "kill-process" },
      architectures: o.base?.architectures ?? [nativeArch()],
      rules: [
        ...presetRules,
        ...(o.base?.rules ?? []),
        { names: allowNames, action: { kind: "allow" }, conditions: [] },
      ],
    };
  }
  return o.log ? logOnly(policy) : policy;
}

/**
 * What a policy answers to execve on `arch` (this machine's by default) when it does not allow it: `run` and
 * the C launchers must let the launch's own execve through, so they add an allow rule and install a guard
 * that gives every other execve (and execveat) this answer. undefined when the policy allows execve anyway.
 */
export function launchGuard(policy: Policy, arch: ArchName = nativeArch()): Action | undefined {
  const nr = syscallNumber(arch, "execve");
  if (nr === undefined) return undefined;
  const a = referenceDecide(policy, { arch: ARCHES[arch].audit, nr, args: [1n, 1n, 1n, 0n, 0n, 0n] });
  return a.kind === "allow" ? undefined : a;
}

/**
 * The guard filter: execve passes only with exactly the launcher's three pointers (path, argv, envp —
 * addresses in the launcher's memory that the new image does not share); any other execve or execveat,
 * on any of the policy's arches, gets `answer`. Installed before the main filter, which allows execve.
 */
export function execGuardPolicy(
  arches: Policy["architectures"],
  pointers: readonly bigint[],
  answer: Action,
): Policy {
  return {
    defaultAction: { kind: "allow" },
    badArchAction: { kind: "allow" },
    architectures: arches,
    rules: [
      {
        names: ["execve"],
        action: { kind: "allow" },
        conditions: pointers.map((p, i) => ({ arg: i, op: "==" as const, value: p })),
      },
      { names: ["execve", "execveat"], action: answer, conditions: [] },
    ],
  };
}

/** Turns every non-allow answer into SECCOMP_RET_LOG: nothing is blocked, the kernel logs what would be. */
export function logOnly(policy: Policy): Policy {
  const soften = (a: Action): Action => (a.kind === "allow" ? a : { kind: "log" });
  return {
    ...policy,
    defaultAction: soften(policy.defaultAction),
    rules: policy.rules.map((r) => ({ ...r, action: soften(r.action) })),
  };
}
