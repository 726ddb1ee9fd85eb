// What changed between two profiles or policies, and whether NEW needs something OLD's policy denies —
// the CI drift check: a dependency update that starts using a new call fails the build, not production.
import { formatAction, sameAction } from "../policy/actions.js";
import type { Action, Policy } from "../policy/model.js";
import { referenceDecide } from "../policy/reference.js";
import type { Profile } from "../record/profile.js";
import { ARCHES, type ArchName } from "../syscalls/arches.js";
import { expandGroup } from "../syscalls/groups.js";
import { syscallNumber, syscallTable } from "../syscalls/table.js";
import { type GenerateOptions, generatePolicy } from "./generate.js";
import { type SeenCall, selectCalls } from "./select.js";
import { nameValue, parseArgValue } from "./symbols.js";

/** One side of a diff. */
export type DiffInput =
  | { kind: "profile"; profile: Profile; name: string }
  | { kind: "policy"; policy: Policy; name: string };

/** A call (with argument values) and what OLD's policy answers. */
export interface Denial {
  syscall: string;
  args: string;
  action: string;
}

/** The diff. */
export interface DiffResult {
  appeared: string[];
  vanished: string[];
  /** "ioctl arg1 = TIOCGWINSZ" */
  valuesAppeared: string[];
  valuesVanished: string[];
  /** NEW needs it, OLD's policy denies it: exit status 1. */
  denied: Denial[];
  /** NEW needs it, OLD's policy answers it with an errno rule on purpose (clone3 → ENOSYS …). */
  answered: Denial[];
}

const MAX_COMBOS = 256;

/** Compares OLD and NEW (pure). Profiles are turned into policies with `options` where one is needed. */
export function diffInputs(oldIn: DiffInput, newIn: DiffInput, options: GenerateOptions = {}): DiffResult {
  const arch = archOf(oldIn) ?? archOf(newIn) ?? "x86_64";
  const oldPolicy = oldIn.kind === "policy" ? oldIn.policy : generatePolicy([oldIn.profile], options).policy;
  const needs =
    newIn.kind === "profile"
      ? needsOfProfile(newIn.profile, options, arch)
      : needsOfPolicy(newIn.policy, oldPolicy, arch);
  const had =
    oldIn.kind === "profile"
      ? needsOfProfile(oldIn.profile, options, arch)
      : needsOfPolicy(oldIn.policy, newIn.kind === "policy" ? newIn.policy : oldPolicy, arch);
  const names = (m: Map<string, Need>) => new Set(m.keys());
  const oldNames = names(had);
  const newNames = names(needs);
  const values = (m: Map<string, Need>) => {
    const out = new Set<string>();
    for (const n of m.values())
      for (const [i, vs] of n.values)
        for (const v of vs) out.add(`${n.name} arg${i} = ${nameValue(n.name, i, v, undefined, arch)}`);
    return out;
  };
  const oldValues = values(had);
  const newValues = values(needs);
  const result: DiffResult = {
    appeared: [...newNames].filter((n) => !oldNames.has(n)).sort(),
    vanished: [...oldNames].filter((n) => !newNames.has(n)).sort(),
    valuesAppeared: [...newValues].filter((v) => !oldValues.has(v)).sort(),
    valuesVanished: [...oldValues].filter((v) => !newValues.has(v)).sort(),
    denied: [],
    answered: [],
  };
  const audit = ARCHES[arch].audit;
  for (const need of needs.values()) {
    const nr = syscallNumber(arch, need.name);
    if (nr === undefined) continue;
    for (const args of combos(need)) {
      const action = referenceDecide(oldPolicy, { arch: audit, nr, args });
      if (action.kind === "allow" || action.kind === "log") continue;
      // what OLD itself made and its policy answers on purpose is not drift
      if (had.get(need.name) && sameAsOld(had.get(need.name) as Need, args)) continue;
      const entry = { syscall: need.name, args: argsText(need, args, arch), action: formatAction(action) };
      if (action.kind === "errno" && deliberate(oldPolicy, need.name, action)) result.answered.push(entry);
      else result.denied.push(entry);
    }
  }
  return result;
}

/** A call NEW makes or allows: its name and the argument values that matter. */
interface Need {
  name: string;
  values: Map<number, bigint[]>;
}

function archOf(i: DiffInput): ArchName | undefined {
  const a = i.kind === "profile" ? i.profile.arch : i.policy.architectures[0];
  return a && a in ARCHES ? (a as ArchName) : undefined;
}

function needsOfProfile(p: Profile, options: GenerateOptions, arch: ArchName): Map<string, Need> {
  const sel = selectCalls([p], options);
  const out = new Map<string, Need>();
  for (const c of sel.calls.values()) {
    if (syscallNumber(arch, c.name) === undefined) continue;
    out.set(c.name, { name: c.name, values: valuesOf(c, arch) });
  }
  return out;
}

function valuesOf(c: SeenCall, arch: ArchName): Map<number, bigint[]> {
  const m = new Map<number, bigint[]>();
  for (const [i, vals] of Object.entries(c.args)) {
    const parsed = Object.keys(vals)
      .map((t) => parseArgValue(t, arch))
      .filter((v): v is bigint => v !== undefined);
    if (parsed.length) m.set(Number(i), [...new Set(parsed)]);
  }
  return m;
}

/**
 * What a policy allows, as sample calls: for every syscall, zero arguments plus every value either policy
 * compares that syscall's arguments with (and its neighbours), so a widened condition shows.
 */
function needsOfPolicy(p: Policy, other: Policy, arch: ArchName): Map<string, Need> {
  const out = new Map<string, Need>();
  const audit = ARCHES[arch].audit;
  const rules = [...p.rules, ...other.rules]
    .filter((r) => r.conditions.length > 0)
    .map((r) => ({
      r,
      names: new Set(r.names.flatMap((n) => (n.startsWith("@") ? (expandGroup(n) ?? []) : [n]))),
    }));
  for (const [name, nr] of Object.entries(syscallTable(arch))) {
    const values = new Map<number, bigint[]>();
    for (const { r, names } of rules) {
      if (!names.has(name)) continue;
      for (const c of r.conditions) {
        const list = values.get(c.arg) ?? [0n];
        const v = c.value;
        const extra = c.op === "&==" ? [v, v | (c.mask ?? 0n)] : [v, v - 1n, v + 1n];
        for (const x of extra) if (x >= 0n && !list.includes(x)) list.push(x);
        values.set(c.arg, list);
      }
    }
    const need = { name, values };
    const allowed = [...combos(need)].filter((args) => {
      const a = referenceDecide(p, { arch: audit, nr, args });
      return a.kind === "allow" || a.kind === "log";
    });
    if (allowed.length === 0) continue;
    // keep only the values some allowed call used
    const kept = new Map<number, bigint[]>();
    for (const [i] of values) kept.set(i, [...new Set(allowed.map((a) => a[i]))]);
    out.set(name, { name, values: kept });
  }
  return out;
}

function* combos(need: Need): Generator<bigint[]> {
  const idx = [...need.values.keys()].sort();
  let count = 0;
  function* rec(k: number, acc: bigint[]): Generator<bigint[]> {
    if (count >= MAX_COMBOS) return;
    if (k === idx.length) {
      count++;
      yield [...acc];
      return;
    }
    for (const v of need.values.get(idx[k]) ?? [0n]) {
      acc[idx[k]] = v;
      yield* rec(k + 1, acc);
    }
    acc[idx[k]] = 0n;
  }
  yield* rec(0, [0n, 0n, 0n, 0n, 0n, 0n]);
}

/** True when OLD recorded this call with every one of these argument values. */
function sameAsOld(old: Need, args: bigint[]): boolean {
  for (const [i, vs] of old.values) if (!vs.includes(args[i])) return false;
  return true;
}

/**
 * An errno answer OLD gives on purpose (clone3 → ENOSYS, --errno NAME=ERRNO, a hand-written rule). A
 * static-high rule's EPERM is not: it answers calls nobody saw, so NEW making one is drift; nor is an
 * argument-fallback rule's: it answers values nobody saw.
 */
function deliberate(policy: Policy, name: string, action: Action): boolean {
  return policy.rules.some(
    (r) =>
      r.names.includes(name) &&
      sameAction(r.action, action) &&
      r.tier !== "static-high" &&
      r.tier !== "argument-fallback",
  );
}

function argsText(need: Need, args: bigint[], arch: ArchName): string {
  const idx = [...need.values.keys()].sort();
  return idx.map((i) => `arg${i}=${nameValue(need.name, i, args[i], args, arch)}`).join(", ");
}

/** The verdict line: what a CI log shows first. */
export function verdictLine(d: DiffResult, oldName: string, newName: string): string {
  return d.denied.length
    ? `DRIFT: ${newName} needs ${d.denied.length} call(s) that ${oldName}'s policy denies`
    : `no drift: ${oldName}'s policy allows everything ${newName} needs`;
}

/** How many changes need no decision (appeared or vanished but allowed, errno answers given on purpose). */
function informational(d: DiffResult): number {
  return (
    d.appeared.length +
    d.vanished.length +
    d.valuesAppeared.length +
    d.valuesVanished.length +
    d.answered.length
  );
}

/**
 * The diff as text: the verdict, then what a reviewer must decide (calls OLD's policy denies); the
 * changes that need no decision only as a count unless `all` lists them (+ appeared, - vanished,
 * ~ answered by an errno rule on purpose).
 */
export function formatDiff(d: DiffResult, oldName: string, newName: string, all = false): string {
  const out: string[] = [verdictLine(d, oldName, newName)];
  if (d.denied.length) {
    out.push("", `To decide — ${newName} makes these, ${oldName}'s policy answers:`);
    for (const x of d.denied) out.push(`  ! ${x.syscall}(${x.args}) → ${x.action}`);
    out.push(
      "",
      `Fix: regenerate the policy from a recording that includes this work (sysfence generate), or allow the calls in ${oldName} after review.`,
    );
  }
  const n = informational(d);
  if (!all) {
    if (n) out.push("", `${n} other change(s) need no decision (--all lists them).`);
    return `${out.join("\n")}\n`;
  }
  if (n) out.push("", `--- ${oldName}`, `+++ ${newName}`);
  for (const x of d.appeared) out.push(`+ ${x}`);
  for (const x of d.vanished) out.push(`- ${x}`);
  for (const v of d.valuesAppeared) out.push(`+ ${v}`);
  for (const v of d.valuesVanished) out.push(`- ${v}`);
  for (const a of d.answered)
    out.push(`~ ${a.syscall}(${a.args}) → ${a.action} (an errno rule of ${oldName} answers it on purpose)`);
  return `${out.join("\n")}\n`;
}

const md = (s: string) => s.replace(/([|`*_\\<>[\]])/g, "\\$1");

/** The diff as GitHub-flavoured Markdown (a job summary: $GITHUB_STEP_SUMMARY). */
export function formatDiffMarkdown(d: DiffResult, oldName: string, newName: string): string {
  const out: string[] = [`### ${d.denied.length ? "❌" : "✅"} ${md(verdictLine(d, oldName, newName))}`, ""];
  if (d.denied.length) {
    out.push("| syscall | arguments | answer of the committed policy |", "|---|---|---|");
    for (const x of d.denied) out.push(`| \`${x.syscall}\` | ${md(x.args) || "—"} | ${md(x.action)} |`);
    out.push(
      "",
      "Regenerate the policy from a recording that includes this work (`sysfence generate`), or allow the calls after review.",
      "",
    );
  }
  const rows: [string, string[]][] = [
    ["calls that appeared (allowed)", d.appeared],
    ["calls that vanished", d.vanished],
    ["argument values that appeared", d.valuesAppeared],
    ["argument values that vanished", d.valuesVanished],
    ["answered by an errno rule on purpose", d.answered.map((a) => `${a.syscall}(${a.args}) → ${a.action}`)],
  ];
  const present = rows.filter(([, list]) => list.length);
  if (present.length) {
    out.push("<details><summary>Changes that need no decision</summary>", "");
    for (const [title, list] of present) out.push(`- ${title}: ${list.map((x) => `\`${x}\``).join(", ")}`);
    out.push("", "</details>", "");
  }
  return `${out.join("\n")}\n`;
}
