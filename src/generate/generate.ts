// A least-privilege policy from recorded profiles: the calls seen, argument rules where they are safe,
// errno answers for probes, a small always-needed set, and a comment on every rule saying why.
import { SysfenceError } from "../errors.js";
import { formatAction } from "../policy/actions.js";
import { parseCondition } from "../policy/conditions.js";
import { landlockYamlLines } from "../policy/landlock-yaml.js";
import type { Action, Policy, Rule } from "../policy/model.js";
import { yamlQuoted } from "../policy/yaml-quote.js";
import type { Profile } from "../record/profile.js";
import { type ArchName, findArch } from "../syscalls/arches.js";
import { errnoName } from "../syscalls/constants.js";
import { describeSyscall } from "../syscalls/descriptions.js";
import { groupsOf } from "../syscalls/groups.js";
import { syscallNumber, syscallTable } from "../syscalls/table.js";
import { dict } from "../util/dict.js";
import { type ConfinedBy, classOf, STATIC_BANS } from "./classes.js";
import { type FileFacts, fileLayer } from "./file-layer.js";
import { ORDINARY } from "./ordinary.js";
import { type SeenCall, type Selection, selectCalls } from "./select.js";
import { type Alternative, type ArgsMode, ordinaryAlternatives, tighten } from "./tighten.js";

/** Options of `sysfence generate`. */
export interface GenerateOptions extends Selection {
  args?: ArgsMode;
  defaultAction?: Action;
  /** Calls answered with an errno instead of allowed (--errno NAME=ERRNO). */
  errno?: Record<string, number>;
  /** Allow clone3 (its flags live in memory, so no argument rule can hold it). */
  allowClone3?: boolean;
  /** Profile file names, for the header. */
  sources?: string[];
  /** Static analysis of the recorded executables (sysfence analyze): reachable call → why. */
  reachable?: Map<string, string[]>;
  /** Reached syscall sites whose number the analysis could not find (for the header and report). */
  unresolved?: number;
  /** The executables analysed. */
  programs?: string[];
  /** What a reachable, unseen, high-risk call gets: errno EPERM (default), log (burn-in) or kill. */
  unseen?: "errno" | "log" | "kill";
  /**
   * The machine's answers for the Landlock file layer (file-layer.ts), built from the profiles' path uses;
   * absent: no file layer (the confined calls keep their seccomp-only answer).
   */
  files?: FileFacts;
  /** Directories the file layer lets the program write in besides those it wrote in (--writable). */
  writable?: string[];
  /** No TCP bind rule in the file layer (--any-bind-port): the program may listen on any port. */
  anyBindPort?: boolean;
}

/** Calls every program needs whether or not the recording saw them, with the reason. */
export const ALWAYS: Record<string, string> = {
  rt_sigreturn: "returns from every signal handler; strace rarely shows it in short runs",
  restart_syscall: "the kernel restarts an interrupted sleep through it after a signal (SIGSTOP/SIGCONT)",
  exit: "a thread ends with it",
  exit_group: "the process ends with it",
  clock_gettime: "the vDSO usually answers it without entering the kernel, but not for every clock source",
  gettimeofday: "the vDSO usually answers it without entering the kernel, but not for every clock source",
  time: "the vDSO usually answers it without entering the kernel, but not for every clock source",
  getcpu: "the vDSO usually answers it without entering the kernel",
};

const IO_URING = ["io_uring_setup", "io_uring_enter", "io_uring_register"];
const ENOSYS = 38;

/** The result: the policy, its YAML text and what the user should read. */
export interface GeneratedPolicy {
  policy: Policy;
  text: string;
  phase: "work" | "all";
  notes: string[];
  warnings: string[];
  stats: {
    allowed: number;
    known: number;
    argRestricted: string[];
    errno: string[];
    /** Per tier: how many syscalls. */
    tiers: Record<string, number>;
  };
}

/** Generates a policy from profiles. */
export function generatePolicy(profiles: readonly Profile[], o: GenerateOptions = {}): GeneratedPolicy {
  const sel = selectCalls(profiles, o);
  const arch = findArch(sel.arch)?.name as ArchName | undefined;
  if (!arch)
    throw new SysfenceError(
      "E_UNKNOWN_ARCH",
      `profile architecture '${sel.arch}' is not one sysfence knows.`,
    );
  const known = Object.keys(syscallTable(arch)).length;
  const mode = o.args ?? "safe";
  const warnings: string[] = [];
  const notes = [...sel.notes];
  const errnoRules: Rule[] = [];
  const allowRules: Rule[] = [];
  /** What an argument-restricted call gets for the values its rules do not allow. */
  const fallbackRules: Rule[] = [];
  const argRestricted: string[] = [];
  const answered = new Set<string>();

  const answer = (name: string, errno: number, comment: string) => {
    answered.add(name);
    errnoRules.push({ names: [name], action: { kind: "errno", data: errno }, conditions: [], comment });
  };
  for (const [name, errno] of Object.entries(o.errno ?? {})) {
    if (syscallNumber(arch, name) === undefined)
      throw new SysfenceError("E_USAGE", `--errno ${name}: no syscall '${name}' on ${arch}.`);
    const seen = sel.calls.get(name);
    answer(
      name,
      errno,
      `${describe(name)} — answered ${errnoName(errno) ?? errno} on request (--errno)${seen ? `; ${seenText(seen, sel.phase, sel.phased)}` : ""}`,
    );
  }
  if (!o.allowClone3 && !answered.has("clone3") && syscallNumber(arch, "clone3") !== undefined) {
    const seen = sel.calls.get("clone3");
    answer(
      "clone3",
      ENOSYS,
      `${describe("clone3")} — ENOSYS: its flags are in memory where seccomp cannot look, and libc falls back to clone, whose flags are checked${seen ? `; ${seenText(seen, sel.phase, sel.phased)}` : ""}`,
    );
  }
  for (const name of IO_URING) {
    if (answered.has(name) || syscallNumber(arch, name) === undefined) continue;
    const seen = sel.calls.get(name);
    if (seen)
      warnings.push(
        `${name} was recorded; it gets ENOSYS (io_uring bypasses per-call filtering), programs fall back to plain calls`,
      );
    answer(
      name,
      ENOSYS,
      `io_uring — ENOSYS, never allowed: its submissions run inside the kernel where seccomp never sees them; liburing/libuv fall back${seen ? `; ${seenText(seen, sel.phase, sel.phased)}` : ""}`,
    );
  }

  // clone3 refused: libc repeats the request through clone, with the same flags (and exit signal)
  const clone3 = sel.calls.get("clone3");
  if (clone3 && answered.has("clone3") && syscallNumber(arch, "clone") !== undefined) {
    const clone = sel.calls.get("clone") ?? {
      name: "clone",
      count: 0,
      setup: 0,
      work: 0,
      args: dict(),
      where: new Map<string, Map<number, number>>(),
    };
    clone.fallback = `libc's fallback for the ${clone3.count} clone3 calls recorded`;
    for (const [v, n] of Object.entries(clone3.args[0] ?? {})) {
      clone.args[0] ??= dict();
      clone.args[0][v] = (clone.args[0][v] ?? 0) + n;
    }
    for (const [w, pids] of clone3.where)
      clone.where.set(w, new Map([...(clone.where.get(w) ?? []), ...pids]));
    sel.calls.set("clone", clone);
  }
  const seenNames = [...sel.calls.keys()].sort();
  for (const name of seenNames) {
    if (answered.has(name)) continue;
    if (syscallNumber(arch, name) === undefined) {
      warnings.push(`'${name}' was recorded but ${arch} has no such syscall; left out`);
      continue;
    }
    const seen = sel.calls.get(name) as SeenCall;
    const t = tighten(seen, mode, arch);
    if (t.warning) warnings.push(t.warning);
    const base = `${describe(name)}${groupText(name)} — ${seenText(seen, sel.phase, sel.phased)}`;
    if (t.alternatives.length === 0) {
      allowRules.push({
        names: [name],
        action: { kind: "allow" },
        conditions: [],
        comment: base,
        tier: "seen",
      });
    } else {
      argRestricted.push(name);
      t.alternatives.forEach((conds, i) => {
        allowRules.push({
          names: [name],
          action: { kind: "allow" },
          conditions: conds,
          tier: "seen",
          comment:
            i === 0
              ? `${base}; ${t.ordinary ? `ordinary values: ${t.ordinary}; ` : ""}${t.why}`
              : `${name}: another ${t.ordinary ? "allowed" : "recorded"} combination (see the first ${name} rule)`,
        });
      });
      fallbackRules.push(argumentFallback(name));
    }
  }
  for (const [name, why] of Object.entries(ALWAYS)) {
    if (sel.calls.has(name) || answered.has(name) || syscallNumber(arch, name) === undefined) continue;
    allowRules.push({
      names: [name],
      action: { kind: "allow" },
      conditions: [],
      tier: "always",
      comment: `${describe(name)} — always needed, not recorded: ${why}`,
    });
  }
  const files =
    o.files && sel.phase === "all"
      ? fileLayer(profiles, o.files, { writable: o.writable, anyBindPort: o.anyBindPort })
      : undefined;
  if (o.files && sel.phase === "work")
    notes.push(
      "file layer (Landlock) skipped: a work-phase policy is for lockdown(), where Landlock binds one thread only",
    );
  if (files) notes.push(...files.notes);
  const staticRules = o.reachable
    ? tierRules(
        o.reachable,
        arch,
        sel.calls,
        answered,
        allowRules,
        o.unseen ?? "errno",
        files?.layers ?? new Set(),
      )
    : [];
  // (a confined call's own fallback, the --unseen answer, already follows its rules)
  const answeredStatic = new Set(
    staticRules.filter((r) => !r.conditions.length && r.action.kind !== "allow").map((r) => r.names[0]),
  );
  for (const name of new Set(staticRules.filter((r) => r.conditions.length).map((r) => r.names[0])))
    if (!answeredStatic.has(name)) fallbackRules.push(argumentFallback(name));
  const policy: Policy = {
    defaultAction: o.defaultAction ?? { kind: "kill-process" },
    badArchAction: { kind: "kill-process" },
    architectures: [arch],
    rules: [...errnoRules, ...allowRules, ...staticRules, ...fallbackRules],
    // errno and log answers of unseen calls and values reach the kernel log (SECCOMP_FILTER_FLAG_LOG)
    ...(fallbackRules.length || staticRules.some((r) => r.tier === "static-high")
      ? { flags: ["log" as const] }
      : {}),
    ...(o.reachable ? { analysis: { programs: o.programs ?? [], unresolved: o.unresolved ?? 0 } } : {}),
    ...(sel.phase === "work" ? { phase: "work" as const } : {}),
    ...(files?.section ? { landlock: files.section } : {}),
  };
  const allowRulesAll = policy.rules.filter((r) => r.action.kind === "allow");
  const allowed = new Set(allowRulesAll.flatMap((r) => r.names)).size;
  const tiers: Record<string, number> = {};
  for (const r of policy.rules) {
    const t = r.tier ?? (r.action.kind === "errno" ? "errno" : "other");
    tiers[t] = (tiers[t] ?? 0) + 1;
  }
  for (const t of Object.keys(tiers))
    tiers[t] = new Set(
      policy.rules
        .filter((r) => (r.tier ?? (r.action.kind === "errno" ? "errno" : "other")) === t)
        .flatMap((r) => r.names),
    ).size;
  const stats = { allowed, known, argRestricted, errno: errnoRules.map((r) => r.names[0]), tiers };
  if (o.reachable)
    notes.push(
      `static analysis: ${tiers["static-low"] ?? 0} reachable calls not seen allowed (low risk)${tiers["static-confined"] ? `, ${tiers["static-confined"]} allowed where Landlock confines them (files, sockets, signals, IPC)` : ""}, ${tiers["static-high"] ?? 0} answered ${o.unseen === "log" ? "log (burn-in; generate --finalize makes them errno EPERM)" : "errno EPERM"} (privilege, seccomp-only, or confined without a Landlock layer)${o.unseen === "kill" ? "; those reachable calls get the default action (--unseen kill)" : ""}${o.unresolved ? `; ${o.unresolved} reached syscall site(s) with an unknown number` : ""}`,
    );
  if (sel.phase === "work")
    notes.push(
      "work-phase policy (phase: work): install it after start-up (lockdown(), or the program's own seccomp call); sysfence run and the launching exports refuse it — generate without --phase work for those",
    );
  else if (sel.phased)
    notes.push(
      "the profiles have a work phase (record --after); this policy covers start-up too, for sysfence run and the exports — generate --phase work for lockdown() after start-up",
    );
  const header = headerLines(profiles, o, sel.phase, mode, stats, arch);
  return { policy, text: policyText(policy, header), phase: sel.phase, notes, warnings, stats };
}

/** Syscalls per tier (rules without one: "errno" for errno answers, else "other"). */
export function tierCounts(policy: Policy): Record<string, number> {
  const names = new Map<string, Set<string>>();
  for (const r of policy.rules) {
    const t = r.tier ?? (r.action.kind === "errno" ? "errno" : "other");
    const set = names.get(t) ?? new Set<string>();
    for (const n of r.names) set.add(n);
    names.set(t, set);
  }
  return Object.fromEntries([...names].map(([t, set]) => [t, set.size]));
}

/**
 * The answer to an argument-restricted call's other values: EPERM, logged — a value neither ordinary nor
 * seen meets an error path (and a line in the kernel log), never a kill of the whole program.
 */
function argumentFallback(name: string): Rule {
  return {
    names: [name],
    action: { kind: "errno", data: 1 },
    conditions: [],
    tier: "argument-fallback",
    comment: `${name}: any other argument value — EPERM, logged: neither an ordinary value nor one the recording saw`,
  };
}

/**
 * Rules for reachable calls no recording saw, by class (classes.ts): low allowed (with argument bans and
 * ordinary values); confined allowed where the policy's Landlock layer confines them, else — and on a
 * kernel or engine without that layer — the --unseen answer; seccomp-only and privilege the --unseen answer.
 */
function tierRules(
  reachable: Map<string, string[]>,
  arch: ArchName,
  seen: Map<string, SeenCall>,
  answered: Set<string>,
  allowRules: Rule[],
  unseen: "errno" | "log" | "kill",
  layers: ReadonlySet<ConfinedBy>,
): Rule[] {
  const have = new Set([...allowRules.flatMap((r) => r.names), ...answered, ...seen.keys()]);
  const out: Rule[] = [];
  const eperm: Action = { kind: "errno", data: 1 };
  const unseenAction: Action = unseen === "log" ? { kind: "log" } : eperm;
  for (const name of [...reachable.keys()].sort()) {
    if (have.has(name) || syscallNumber(arch, name) === undefined) continue;
    const via = reachable.get(name) ?? [];
    const from = via.length ? `reachable from ${via.slice(0, 2).join(", ")}` : "reachable";
    const c = classOf(name);
    const layer = c.confinedBy && layers.has(c.confinedBy) ? c.confinedBy : undefined;
    if (c.cls === "low" || layer) {
      const alternatives = staticAlternatives(name, arch);
      const needs = layer && layer !== "ipc" ? NEEDS[layer] : layer ? "landlock" : undefined;
      for (const [i, conds] of alternatives.entries())
        out.push({
          names: [name],
          action: { kind: "allow" },
          conditions: conds,
          tier: layer ? "static-confined" : "static-low",
          ...(needs ? { needs } : {}),
          comment:
            i > 0
              ? `${name}: another allowed combination (see the first ${name} rule)`
              : `${describe(name)} — not seen; ${from} (static analysis; ${c.cls}: ${c.why})${conds.length ? `; ${ORDINARY[name] ? `ordinary values: ${ORDINARY[name].why}` : `${conds.map((x) => x.text).join(" && ")} (no new namespaces / executable memory)`}` : ""}${needs ? `; allowed only where the Landlock layer (${needs}) is enforced — otherwise the next rule` : ""}`,
        });
      // without the layer (an old kernel, lockdown() beside other threads, an export): the seccomp-only answer
      if (!needs) continue;
    }
    if (unseen === "kill") continue;
    out.push({
      names: [name],
      action: unseenAction,
      ...(unseen === "log" ? { final: eperm } : {}),
      conditions: [],
      tier: "static-high",
      comment: `${describe(name)} — not seen; ${from} (static analysis; ${c.cls}: ${c.why}${c.confinedBy && !layer ? "; the policy has no Landlock layer to confine it" : ""})${layer ? " — where the Landlock layer is not enforced" : ""}: ${unseen === "log" ? "logged and allowed during burn-in, EPERM after generate --finalize" : "EPERM, so the program meets an error path and injected code gets nothing"}`,
    });
  }
  return out;
}

/** Which `needs:` a confined call's rule carries, by the layer that confines it. */
const NEEDS: Record<Exclude<ConfinedBy, "ipc">, NonNullable<Rule["needs"]>> = {
  "landlock-fs": "landlock",
  "landlock-tcp": "landlock-tcp",
  "landlock-signal": "landlock-signal",
};

/** The argument rules of a statically allowed call: its bans, or its ordinary values; [[]] when neither. */
function staticAlternatives(name: string, arch: ArchName): Alternative[] {
  const bans = STATIC_BANS[name];
  if (bans) return [bans.map((b) => ({ ...parseCondition(b), text: b }))];
  const ordinary = ordinaryAlternatives(name, arch);
  return ordinary.length ? ordinary : [[]];
}

function describe(name: string): string {
  return `${name}: ${describeSyscall(name) || "no man page"}`;
}

function groupText(name: string): string {
  const groups = groupsOf(name).filter((g) => g !== "@system-service" || groupsOf(name).length === 1);
  return groups.length ? ` (${groups.slice(0, 2).join(" ")})` : "";
}

function seenText(s: SeenCall, phase: "work" | "all", phased = false): string {
  const where = [...s.where]
    .map(([w, pids]) => [w, [...pids.values()].reduce((a, n) => a + n, 0)] as const)
    .map(([w, n]) => (n > 1 ? `${w} (${n} processes)` : w))
    .sort()
    .join(", ");
  const split =
    !phased || phase === "work"
      ? ""
      : s.setup && s.work
        ? ` (setup ${s.setup}, work ${s.work})`
        : s.work
          ? " in the work phase"
          : " in setup";
  const seen = s.count
    ? `seen ${s.count}×${split}${phase === "work" ? " in the work phase" : ""} in ${where}`
    : `in ${where}`;
  return s.fallback ? `${seen}${s.count ? "; " : " — "}${s.fallback}` : seen;
}

function headerLines(
  profiles: readonly Profile[],
  o: GenerateOptions,
  phase: string,
  mode: ArgsMode,
  stats: GeneratedPolicy["stats"],
  arch: string,
): string[] {
  const cmds = [...new Set(profiles.map((p) => p.command.join(" ")))];
  const pct = ((100 * stats.allowed) / stats.known).toFixed(1);
  return [
    `Generated by sysfence generate from ${o.sources?.length ? o.sources.join(", ") : `${profiles.length} profile(s)`}`,
    `command: ${cmds.slice(0, 3).join(" · ")}${cmds.length > 3 ? " …" : ""}`,
    `phase: ${phase} · arguments: ${mode}${o.exe?.length ? ` · exe: ${o.exe.join(", ")}` : ""}${o.threadRole && o.threadRole !== "all" ? ` · threads: ${o.threadRole}` : ""}`,
    `${stats.allowed} of ${stats.known} ${arch} syscalls allowed (${pct}%); argument rules on ${stats.argRestricted.join(", ") || "none"}`,
    `errno answers: ${stats.errno.join(", ") || "none"}; everything else: ${formatAction(o.defaultAction ?? { kind: "kill-process" })}`,
    ...(o.reachable
      ? [
          `tiers: seen ${stats.tiers.seen ?? 0} · always ${stats.tiers.always ?? 0} · static low-risk (allowed) ${stats.tiers["static-low"] ?? 0} · static confined (allowed with Landlock) ${stats.tiers["static-confined"] ?? 0} · static high-risk (${o.unseen === "log" ? "log, then EPERM" : o.unseen === "kill" ? "default" : "EPERM"}) ${stats.tiers["static-high"] ?? 0} · reachable ${o.reachable.size}${o.unresolved ? ` · ${o.unresolved} reached site(s) with an unknown number` : ""}`,
        ]
      : []),
    "Try it in log mode first: sysfence run --log --policy THIS -- CMD, then sysfence audit.",
  ];
}

/** YAML text of a generated policy: one rule per line group, a comment field on each. */
export function policyText(policy: Policy, header: string[]): string {
  const q = yamlQuoted;
  const out: string[] = header.map((l) => `# ${l}`);
  out.push("version: 1");
  out.push(`defaultAction: ${q(formatAction(policy.defaultAction))}`);
  out.push(`badArchAction: ${q(formatAction(policy.badArchAction))}`);
  out.push(`architectures: [${policy.architectures.join(", ")}]`);
  if (policy.flags?.length) out.push(`flags: [${policy.flags.join(", ")}]`);
  if (policy.phase) out.push(`phase: ${policy.phase}`);
  if (policy.analysis)
    out.push(
      `analysis: {programs: [${policy.analysis.programs.map(q).join(", ")}], unresolved: ${policy.analysis.unresolved}}`,
    );
  if (policy.landlock) out.push(...landlockYamlLines(policy.landlock));
  out.push("syscalls:");
  for (const r of policy.rules) {
    out.push(`  - names: [${r.names.join(", ")}]`);
    out.push(`    action: ${q(formatAction(r.action))}`);
    if (r.conditions.length) out.push(`    args: [${r.conditions.map((c) => q(c.text ?? "")).join(", ")}]`);
    if (r.tier) out.push(`    tier: ${r.tier}`);
    if (r.final) out.push(`    final: ${q(formatAction(r.final))}`);
    if (r.needs) out.push(`    needs: ${r.needs}`);
    if (r.comment) out.push(`    comment: ${q(r.comment)}`);
  }
  return `${out.join("\n")}\n`;
}
