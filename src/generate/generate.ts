// A least-privilege policy from recorded profiles: the calls seen, argument rules where they are safe,
// errno answers for probes, a small always-needed set, and a comment on every rule saying why.
import { SysfenceError } from "../errors.js";
import { formatAction } from "../policy/actions.js";
import type { Policy, Rule } from "../policy/model.js";
import type { Profile } from "../record/profile.js";
import { type ArchName, findArch } from "../syscalls/arches.js";
import { syscallNumber, syscallTable } from "../syscalls/table.js";
import { clone3Fallback, errnoAnswers } from "./answers.js";
import { fileLayer } from "./file-layer.js";
import type { GeneratedPolicy, GenerateOptions, Generation } from "./generation.js";
import { policyText } from "./policy-text.js";
import { describe, groupText, seenText } from "./rule-text.js";
import { type SeenCall, selectCalls } from "./select.js";
import { tierRules } from "./static-tiers.js";
import { type ArgsMode, tighten } from "./tighten.js";
import { udpNote } from "./udp-note.js";

export type { GeneratedPolicy, GenerateOptions } from "./generation.js";
export { policyText } from "./policy-text.js";

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

/** Generates a policy from profiles: named steps over one Generation. */
export function generatePolicy(profiles: readonly Profile[], o: GenerateOptions = {}): GeneratedPolicy {
  const g = startGeneration(profiles, o);
  errnoAnswers(g);
  clone3Fallback(g);
  seenRules(g);
  alwaysRules(g);
  const { files, staticRules } = unseenRules(g);
  const policy = assemble(g, files, staticRules);
  const udp = udpNote(g.sel.calls.get("socket"), policy, g.arch);
  if (udp) g.notes.push(udp);
  const stats = policyStats(g, policy);
  phaseNotes(g, stats);
  const header = headerLines(profiles, o, g.sel.phase, g.mode, stats, g.arch);
  return {
    policy,
    text: policyText(policy, header),
    phase: g.sel.phase,
    notes: g.notes,
    warnings: g.warnings,
    stats,
  };
}

function startGeneration(profiles: readonly Profile[], o: GenerateOptions): Generation {
  const sel = selectCalls(profiles, o);
  const arch = findArch(sel.arch)?.name as ArchName | undefined;
  if (!arch)
    throw new SysfenceError(
      "E_UNKNOWN_ARCH",
      `profile architecture '${sel.arch}' is not one sysfence knows.`,
    );
  return {
    profiles,
    o,
    sel,
    arch,
    mode: o.args ?? "safe",
    warnings: [],
    notes: [...sel.notes],
    errnoRules: [],
    allowRules: [],
    fallbackRules: [],
    argRestricted: [],
    answered: new Set<string>(),
  };
}

/** An allow rule per call seen, with argument rules where tighten finds them safe. */
function seenRules(g: Generation): void {
  const { sel, arch, warnings, allowRules } = g;
  const seenNames = [...sel.calls.keys()].sort();
  for (const name of seenNames) {
    if (g.answered.has(name)) continue;
    if (syscallNumber(arch, name) === undefined) {
      warnings.push(`'${name}' was recorded but ${arch} has no such syscall; left out`);
      continue;
    }
    const seen = sel.calls.get(name) as SeenCall;
    const t = tighten(seen, g.mode, arch, { allowUdp: g.o.allowUdp });
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
      g.argRestricted.push(name);
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
      g.fallbackRules.push(argumentFallback(name));
    }
  }
}

/** The calls every program needs (ALWAYS) that no recording saw. */
function alwaysRules(g: Generation): void {
  for (const [name, why] of Object.entries(ALWAYS)) {
    if (g.sel.calls.has(name) || g.answered.has(name) || syscallNumber(g.arch, name) === undefined) continue;
    g.allowRules.push({
      names: [name],
      action: { kind: "allow" },
      conditions: [],
      tier: "always",
      comment: `${describe(name)} — always needed, not recorded: ${why}`,
    });
  }
}

/** The Landlock file layer (when asked for) and the rules for reachable calls no recording saw. */
function unseenRules(g: Generation): {
  files: ReturnType<typeof fileLayer> | undefined;
  staticRules: Rule[];
} {
  const { o, sel, notes } = g;
  const files =
    o.files && sel.phase === "all"
      ? fileLayer(g.profiles, o.files, {
          writable: o.writable,
          readable: o.readable,
          anyBindPort: o.anyBindPort,
        })
      : undefined;
  if (o.files && sel.phase === "work")
    notes.push(
      "file layer (Landlock) skipped: a work-phase policy is for lockdown(), where Landlock binds one thread only",
    );
  if (files) notes.push(...files.notes);
  const staticRules = o.reachable
    ? tierRules(
        o.reachable,
        g.arch,
        sel.calls,
        g.answered,
        g.allowRules,
        o.unseen ?? "errno",
        files?.layers ?? new Set(),
      )
    : [];
  // (a confined call's own fallback, the --unseen answer, already follows its rules)
  const answeredStatic = new Set(
    staticRules.filter((r) => !r.conditions.length && r.action.kind !== "allow").map((r) => r.names[0]),
  );
  for (const name of new Set(staticRules.filter((r) => r.conditions.length).map((r) => r.names[0])))
    if (!answeredStatic.has(name)) g.fallbackRules.push(argumentFallback(name));
  return { files, staticRules };
}

/** The policy: errno answers, allow rules, static tiers, then the argument fallbacks. */
function assemble(
  g: Generation,
  files: ReturnType<typeof fileLayer> | undefined,
  staticRules: Rule[],
): Policy {
  const { o, sel, fallbackRules } = g;
  return {
    defaultAction: o.defaultAction ?? { kind: "kill-process" },
    badArchAction: { kind: "kill-process" },
    architectures: [g.arch],
    rules: [...g.errnoRules, ...g.allowRules, ...staticRules, ...fallbackRules],
    // errno and log answers of unseen calls and values reach the kernel log (SECCOMP_FILTER_FLAG_LOG)
    ...(fallbackRules.length || staticRules.some((r) => r.tier === "static-high")
      ? { flags: ["log" as const] }
      : {}),
    ...(o.reachable ? { analysis: { programs: o.programs ?? [], unresolved: o.unresolved ?? 0 } } : {}),
    ...(sel.phase === "work" ? { phase: "work" as const } : {}),
    ...(files?.section ? { landlock: files.section } : {}),
  };
}

/** How many calls the policy allows, of how many, and per tier. */
function policyStats(g: Generation, policy: Policy): GeneratedPolicy["stats"] {
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
  const known = Object.keys(syscallTable(g.arch)).length;
  return {
    allowed,
    known,
    argRestricted: g.argRestricted,
    errno: g.errnoRules.map((r) => r.names[0]),
    tiers,
  };
}

/** The notes on static analysis and on phases. */
function phaseNotes(g: Generation, stats: GeneratedPolicy["stats"]): void {
  const { o, sel, notes } = g;
  const { tiers } = stats;
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
