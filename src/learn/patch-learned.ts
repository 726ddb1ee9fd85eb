// `sysfence audit --patch POLICY LEARNED.json`: the narrowest change to a sysfence policy that allows what a
// learning run (`run --learn`) recorded, and nothing else. A learned profile carries the argument values,
// so unlike a kernel-log record it can widen an argument rule: the rule gains exactly the values learned
// (in the shape of the policy's own rules for that call), a call the policy does not allow gains the values
// seen, and a file use the Landlock layer would refuse gains a path in the list that grants it. The
// privilege class (and calls whose values were not kept) is left for a person. The result is re-read and
// every learned value is checked to be allowed now.
import { existsSync } from "node:fs";
import { isMap, isScalar, isSeq, parseDocument } from "yaml";
import { SysfenceError } from "../errors.js";
import { classOf } from "../generate/classes.js";
import { product, seenTogether } from "../generate/combos.js";
import { readBack } from "../observe/patch.js";
import { formatAction } from "../policy/actions.js";
import { detectFormat } from "../policy/formats/detect.js";
import { seccompPolicyFor } from "../policy/landlock.js";
import type { Policy, Rule } from "../policy/model.js";
import { parsePolicy } from "../policy/parse.js";
import { referenceDecide } from "../policy/reference.js";
import { indexRules } from "../policy/resolve.js";
import { Access, accessBits } from "../record/path-access.js";
import { INTERESTING_ARGS, type Profile, VALUES_OMITTED } from "../record/profile.js";
import { ARCHES, type ArchName } from "../syscalls/arches.js";
import { syscallNumber } from "../syscalls/table.js";
import { landlockRefuses, reachesLandlock } from "./landlock-judge.js";
import { isDeliberate } from "./learn-program.js";
import { allows, argsOf, conditionText, MAX_COMBINATIONS, shapeOf } from "./learned-values.js";
import { listsOf } from "./lists.js";

const CHILD_PROC_ENTRY =
  "a forked process's own /proc entry: the policy's /proc/self is the launched process's, bound when the rules are added, so no path grants a child its own; only /proc as a whole would (with /proc/sys) — a decision for a person";
const WHOLE_ROOT =
  "write access to / as a whole would cover every file of the machine — a decision for a person";

/** A learned call or path the patch leaves alone, and why. */
export interface LearnedSkip {
  what: string;
  why: string;
}

export interface LearnedPatch {
  text: string;
  /** One line per rule or path added. */
  added: string[];
  skipped: LearnedSkip[];
}

type NewRule = { names: string[]; action: "allow"; args?: string[]; tier: "learned"; comment: string };
type PathEntry = { list: "read" | "write" | "execute"; path: string; letters: string };
type PortEntry = { list: "bindTcp" | "connectTcp"; port: number };

/** One patching: the policy, its filter as a run gives it, the learned profile, and what the steps add. */
interface Patching {
  policy: Policy;
  /** the filter's answers as a run here gives them: rules that rely on the Landlock layer hold */
  filter: Policy;
  arch: ArchName;
  learned: Profile;
  index: ReturnType<typeof indexRules>;
  newRules: NewRule[];
  added: string[];
  skipped: LearnedSkip[];
  check: { name: string; args: bigint[] }[];
  release: { index: number; name: string }[];
}

/** Reads the policy (a sysfence policy, filtering the learned profile's arch) and starts a patching. */
function startPatching(text: string, file: string, learned: Profile) {
  const found = detectFormat(Buffer.from(text, "utf8"), file);
  if (found.format !== "sysfence")
    throw new SysfenceError(
      "E_USAGE",
      `${file} is a ${found.format} policy; a learned profile patches sysfence policies (argument rules and Landlock paths have no place in that format). Patch the sysfence policy it was exported from, then export again.`,
    );
  const parsed = parsePolicy(text, { file });
  const policy = parsed.policy;
  const arch = (learned.arch as ArchName) ?? policy.architectures[0];
  if (!policy.architectures.includes(arch) && policy.architectures.length)
    throw new SysfenceError(
      "E_USAGE",
      `the learned profile is from ${learned.arch}, which ${file} does not filter (${policy.architectures.join(", ")}).`,
    );
  // the filter's answers as a run here gives them: rules that rely on the Landlock layer hold
  const filter = seccompPolicyFor(policy, true);
  const p: Patching = {
    policy,
    filter,
    arch,
    learned,
    index: indexRules(filter),
    newRules: [],
    added: [],
    skipped: [],
    check: [],
    release: [],
  };
  return { found, parsed, p };
}

/** One learned call: left for a person, allowed whole, or allowed for the values learned. */
function learnedCall(p: Patching, name: string, counts: Profile["syscalls"][string]): void {
  const n = counts.setup + counts.work;
  const rules = p.index.direct.get(name) ?? p.index.viaGroup.get(name) ?? [];
  const interesting = INTERESTING_ARGS[name];
  if (classOf(name).cls === "privilege" || name === "execve" || name === "execveat") {
    p.skipped.push({
      what: name,
      why: `privilege class (${classOf(name).why}): allowing it is a decision for a person (learned ${n}×)`,
    });
    return;
  }
  if (!interesting || !counts.args || name === "clone3") wholeCall(p, name, n, rules);
  else valuesCall(p, name, n, counts, rules);
}

/** A call learned without values: allowed whole, unless its rules test arguments. */
function wholeCall(p: Patching, name: string, n: number, rules: readonly Rule[]): void {
  const { filter, arch } = p;
  if (allows(filter, arch, name, [0n, 0n, 0n, 0n, 0n, 0n]) && !rules.some((r) => r.conditions.length)) return;
  if (rules.some((r) => r.conditions.length)) {
    p.skipped.push({ what: name, why: "its argument rules need values the learning run did not keep" });
    return;
  }
  // an unconditional refusal generate wrote for calls nobody planned for (static-high, a burn-in log
  // rule) gives the call up: the name leaves that rule, and an allow rule of its own takes its place
  p.policy.rules.forEach((r, i) => {
    if (r.names.includes(name) && r.conditions.length === 0 && r.action.kind !== "allow" && !isDeliberate(r))
      p.release.push({ index: i, name });
  });
  p.newRules.push({
    names: [name],
    action: "allow",
    tier: "learned",
    comment: `learned: ${n}× in a learning run`,
  });
  p.added.push(
    `${name}: allowed (learned ${n}×; the policy answered ${formatAction(referenceDecide(filter, { arch: ARCHES[arch].audit, nr: syscallNumber(arch, name) ?? -1, args: [0n, 0n, 0n, 0n, 0n, 0n] }))})`,
  );
  p.check.push({ name, args: [0n, 0n, 0n, 0n, 0n, 0n] });
}

/** A call learned with values: a rule for each combination the policy does not allow yet. */
function valuesCall(
  p: Patching,
  name: string,
  n: number,
  counts: Profile["syscalls"][string],
  rules: readonly Rule[],
): void {
  const shape = shapeOf(rules, name);
  const values = shape.map((s) => Object.keys(counts.args?.[String(s.arg)] ?? {}));
  if (values.some((v) => v.length === 0 || v.includes(VALUES_OMITTED))) {
    p.skipped.push({ what: name, why: "the learning run kept no values for the arguments its rules test" });
    return;
  }
  // the values learned together (a level with the options seen at it, not with every option seen)
  const learnedTogether = seenTogether(
    { name, args: counts.args ?? {}, combos: counts.combos ?? {} },
    shape.map((s, i) => ({ arg: s.arg, values: values[i].map((x) => BigInt(x)) })),
    p.arch,
  );
  const combos = [
    ...learnedTogether.together,
    ...(learnedTogether.apart ? product(learnedTogether.apart) : []),
  ];
  if (combos.length > MAX_COMBINATIONS) {
    p.skipped.push({
      what: name,
      why: `${combos.length} value combinations learned (more than ${MAX_COMBINATIONS}): a decision for a person`,
    });
    return;
  }
  const seen = new Set<string>();
  for (const combo of combos) {
    const args = argsOf(shape, combo);
    if (allows(p.filter, p.arch, name, args)) continue;
    const texts = shape.map((s, i) => conditionText(name, s, combo[i], args, p.arch));
    const key = texts.join(" && ");
    if (seen.has(key)) continue;
    seen.add(key);
    p.newRules.push({
      names: [name],
      action: "allow",
      args: texts,
      tier: "learned",
      comment: `learned in a learning run (${n}× ${name})`,
    });
    p.added.push(`${name} when ${key}: allowed`);
    p.check.push({ name, args });
  }
}

/** The Landlock layer: each refused use gains the narrowest path that grants it. */
function landlockPaths(p: Patching): PathEntry[] {
  const { policy, learned } = p;
  const paths: PathEntry[] = [];
  const wanted: typeof paths = [];
  if (policy.landlock) {
    const lists = listsOf(policy.landlock);
    for (const [path, letters] of Object.entries(learned.pathAccess ?? {})) {
      if (!path.startsWith("/")) continue;
      const bits = accessBits(letters);
      // (the process is gone by now: judged by its name)
      if (/^\/proc\/\d+(\/|$)/.test(path) && bits & ~Access.meta) {
        p.skipped.push({ what: `${path} (learned: ${letters})`, why: CHILD_PROC_ENTRY });
        continue;
      }
      if (!reachesLandlock(path, bits, existsSync) || !landlockRefuses(lists, path, bits)) continue;
      const want: { list: "read" | "write" | "execute"; path: string }[] = [];
      if (letters.includes("x")) want.push({ list: "execute", path });
      if (letters.includes("c"))
        want.push({ list: "write", path: path.slice(0, path.lastIndexOf("/")) || "/" });
      // (an entry created there: its directory's write covers the file too)
      if (letters.includes("w") && !letters.includes("c")) want.push({ list: "write", path });
      if (letters.includes("r") && !letters.includes("w") && !letters.includes("c"))
        want.push({ list: "read", path });
      for (const w of want) wanted.push({ ...w, letters });
    }
    // the fewest paths: write directories first; nothing beneath a path already granting it
    const grants = (p: (typeof wanted)[number], by: (typeof wanted)[number]) =>
      (by.list === "write" || by.list === p.list) &&
      (p.path === by.path || by.path === "/" || p.path.startsWith(`${by.path}/`));
    const order = { write: 0, execute: 1, read: 2 } as const;
    wanted.sort((a, b) => order[a.list] - order[b.list] || a.path.length - b.path.length);
    for (const w of wanted) {
      if (w.list === "write" && w.path === "/") {
        // generate grants no write to / as a whole either: every file of the machine
        p.skipped.push({ what: `an entry created or removed in / (learned: ${w.letters})`, why: WHOLE_ROOT });
        continue;
      }
      if (paths.some((q) => grants(w, q))) continue;
      paths.push(w);
      p.added.push(`landlock ${w.list}: ${w.path} (learned: ${w.letters})`);
    }
  }
  return paths;
}

/** Signals to processes outside the sandbox: Landlock's scope names no target, so allowing them means
 * dropping the scope for every target — left for a person. */
function outsideSignals(p: Patching): void {
  const { learned } = p;
  const targets = Object.keys(learned.pathAccess ?? {})
    .concat(Object.keys(learned.paths ?? {}))
    .filter((q) => q.startsWith("signal:"));
  for (const t of [...new Set(targets)])
    p.skipped.push({
      what: `a signal to ${t.slice(7)}`,
      why: "a process outside the sandbox: Landlock's signal scope cannot name one target; removing signal from landlock.scope allows signals to every process — a decision for a person",
    });
}

/** TCP ports: a bind (c) or connect (r) the learning run found outside the policy's port list. */
function tcpPorts(p: Patching): PortEntry[] {
  const { policy, learned } = p;
  const ports: PortEntry[] = [];
  for (const [path, letters] of Object.entries(learned.pathAccess ?? {})) {
    const m = /^inet6?:.*:(\d+)$/.exec(path);
    if (!m || !policy.landlock) continue;
    const port = Number(m[1]);
    for (const [letter, list] of [
      ["c", "bindTcp"],
      ["r", "connectTcp"],
    ] as const) {
      const have = policy.landlock[list];
      if (!letters.includes(letter) || !have || have.some((q) => q.port === port)) continue;
      if (ports.some((q) => q.list === list && q.port === port)) continue;
      ports.push({ list, port });
      p.added.push(`landlock ${list}: ${port} (learned: ${path})`);
    }
  }
  return ports;
}

/** Patches a sysfence policy text with what a learned profile shows. */
export function patchLearned(text: string, file: string, learned: Profile): LearnedPatch {
  const { found, parsed, p } = startPatching(text, file, learned);
  for (const [name, counts] of Object.entries(learned.syscalls)) learnedCall(p, name, counts);
  const paths = landlockPaths(p);
  outsideSignals(p);
  const ports = tcpPorts(p);
  const { added, skipped, newRules, check, release, arch } = p;
  if (newRules.length === 0 && paths.length === 0 && ports.length === 0) return { text, added, skipped };
  const out = edit(text, found.doc?.syntax === "json", newRules, [...paths, ...ports], release);
  const again = readBack(out, file, parsed.format);
  const after = seccompPolicyFor(again, true);
  const missed = check.find((c) => !allows(after, arch, c.name, c.args));
  if (missed)
    throw new SysfenceError(
      "E_INTERNAL",
      `the patch would not allow ${missed.name} with the learned values; nothing written. Please report this.`,
    );
  return { text: out, added, skipped };
}

function edit(
  text: string,
  json: boolean,
  rules: Record<string, unknown>[],
  entries: (
    | { list: "read" | "write" | "execute"; path: string }
    | { list: "bindTcp" | "connectTcp"; port: number }
  )[],
  release: { index: number; name: string }[],
): string {
  // rules to give names up, last first (a rule left without names goes)
  const byIndex = new Map<number, string[]>();
  for (const r of release) byIndex.set(r.index, [...(byIndex.get(r.index) ?? []), r.name]);
  const releases = [...byIndex].sort((a, b) => b[0] - a[0]);
  if (json) {
    const doc = JSON.parse(text) as Record<string, unknown>;
    const list = [...((doc.syscalls as Record<string, unknown>[] | undefined) ?? [])];
    for (const [i, names] of releases) {
      const rest = (list[i].names as string[]).filter((n) => !names.includes(n));
      if (rest.length) list[i] = { ...list[i], names: rest };
      else list.splice(i, 1);
    }
    doc.syscalls = [...list, ...rules];
    if (entries.length) {
      const ll = (doc.landlock as Record<string, unknown[]> | undefined) ?? {};
      for (const p of entries) ll[p.list] = [...(ll[p.list] ?? []), { ...entryOf(p), comment: "learned" }];
      doc.landlock = ll;
    }
    return `${JSON.stringify(doc, null, 2)}\n`;
  }
  const doc = parseDocument(text);
  const seq = doc.get("syscalls", true);
  for (const [i, names] of releases) {
    if (!isSeq(seq)) break;
    const item = seq.items[i];
    if (!isMap(item)) continue;
    const node = item.get("names", true);
    const rest = (
      isSeq(node) ? node.items.map((x) => String((x as { value?: unknown }).value ?? x)) : []
    ).filter((n) => !names.includes(n));
    if (rest.length) {
      const fresh = doc.createNode(rest, { flow: true });
      item.set("names", fresh);
    } else seq.items.splice(i, 1);
  }
  for (const r of rules) {
    const node = doc.createNode(r);
    for (const key of ["names", "args"]) {
      const seq = (node as unknown as { get(k: string, keep: boolean): { flow?: boolean } | undefined }).get(
        key,
        true,
      );
      if (seq) seq.flow = true;
    }
    doc.addIn(["syscalls"], node);
  }
  for (const p of entries) {
    const at = ["landlock", p.list];
    if (!isMap(doc.getIn(["landlock"], true)))
      throw new SysfenceError("E_POLICY_INVALID", "landlock is not a mapping.");
    const entry = doc.createNode({ ...entryOf(p), comment: "learned in a learning run" });
    const existing = doc.getIn(at, true);
    if (isSeq(existing)) existing.items.push(entry);
    else if (existing === undefined || existing === null || (isScalar(existing) && existing.value === null))
      // a list generate left out (nothing of that kind was recorded): it starts here
      doc.setIn(at, doc.createNode([{ ...entryOf(p), comment: "learned in a learning run" }]));
    else throw new SysfenceError("E_POLICY_INVALID", `landlock.${p.list} is not a list.`);
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** A Landlock list entry: a path or a port. */
const entryOf = (p: { path: string } | { port: number }) =>
  "path" in p ? { path: p.path } : { port: p.port };
