import { basename, dirname, isAbsolute, relative, resolve } from "node:path";
import { isMap, isSeq, parseDocument } from "yaml";
import { SysfenceError } from "../errors.js";
import { formatAction } from "../policy/actions.js";
import { detectFormat } from "../policy/formats/detect.js";
import type { Policy, Rule } from "../policy/model.js";
import { parsePolicy } from "../policy/parse.js";
import { referenceDecide } from "../policy/reference.js";
import { indexRules } from "../policy/resolve.js";
import { ARCHES, type ArchName } from "../syscalls/arches.js";
import { syscallNumber, syscallTable } from "../syscalls/table.js";
import { editJson, promoteBurnInJson } from "./patch-json.js";
import type { Violation } from "./records.js";

// `sysfence audit --patch POLICY`: the narrowest change that lets through what the records show, and
// nothing else. A record carries no arguments, so a call is added only when the policy answers it with
// its default action — never over an argument rule (clone without CLONE_NEWUSER stays a rule), never over
// a deliberate answer (openat → EACCES stays), never from an architecture the policy does not filter.
// The change is written in the target's own format and re-read through the same reader: if any decision
// other than the added calls moved, nothing is written.

/** A call the records show that the patch leaves alone, and why. */
export interface Skipped {
  exe: string;
  arch: string;
  syscall: string;
  why: string;
}

export interface PatchResult {
  text: string;
  diff: string;
  added: string[];
  skipped: Skipped[];
  /** Where `patch -p1` applies the diff: the directory it was asked from, or (outside it) the policy's. */
  applyIn: string;
}

/**
 * The path a diff names the policy by: relative to `cwd`, so that `patch -p1` there finds it under
 * a/… and b/… (patch refuses absolute names and `..`); a policy outside `cwd` is named by its file name,
 * to be applied in its own directory.
 */
export function diffPath(file: string, cwd: string = process.cwd()): { path: string; applyIn: string } {
  const rel = relative(cwd, resolve(cwd, file));
  if (rel && !rel.startsWith("..") && !isAbsolute(rel))
    return { path: rel.split("\\").join("/"), applyIn: cwd };
  return { path: basename(file), applyIn: dirname(resolve(cwd, file)) };
}

/** A line count of a diff: lines added and removed (headers left out). */
export function diffStat(diff: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const l of diff.split("\n")) {
    if (l.startsWith("+++ ") || l.startsWith("--- ")) continue;
    if (l.startsWith("+")) added++;
    else if (l.startsWith("-")) removed++;
  }
  return { added, removed };
}

const describeRule = (r: Rule) =>
  `${r.location?.line ? `line ${r.location.line}: ` : ""}${formatAction(r.action)}${r.conditions.length ? ` when ${r.conditions.map((c) => c.text ?? `arg${c.arg}`).join(" && ")}` : ""}`;

/** Record actions that show a call was refused or logged (a filter's answer other than allow). */
const REFUSALS = ["kill-process", "kill-thread", "trap", "errno", "log"];

/** Which recorded calls may be added, and why the others may not. */
function choose(
  policy: Policy,
  violations: readonly Violation[],
): { names: string[]; promote: string[]; skipped: Skipped[] } {
  const { direct, viaGroup } = indexRules(policy);
  const names = new Set<string>();
  const promote = new Set<string>();
  const skipped: Skipped[] = [];
  const fallback = formatAction(policy.defaultAction);
  for (const v of violations) {
    const skip = (why: string) => skipped.push({ exe: v.exe, arch: v.arch, syscall: v.syscall, why });
    // what the record's code says the filter answered: ALLOW is no answer to change; a denial (kill, errno,
    // trap), LOG (log mode, a burn-in rule) or the policy's own default action is
    if (!REFUSALS.includes(v.action.split(" ")[0]) && v.action !== fallback) {
      skip(
        v.action === "allow"
          ? "the record's code is ALLOW: the call was allowed, so it shows nothing to add"
          : `the record's action (${v.action}) is not one this policy gives calls it does not allow`,
      );
      continue;
    }
    if (!policy.architectures.includes(v.arch as ArchName)) {
      skip(`${v.arch} is not one of the policy's architectures (${policy.architectures.join(", ")})`);
      continue;
    }
    if (v.syscall.startsWith("nr ")) {
      skip(`no ${v.arch} syscall has number ${v.nr}`);
      continue;
    }
    const rules = direct.get(v.syscall) ?? viaGroup.get(v.syscall) ?? [];
    const conditional = rules.filter((r) => r.conditions.length > 0);
    if (conditional.length) {
      skip(
        `the policy has argument rules for it (${describeRule(conditional[0])}); a record shows no arguments, so widening it is a decision for a person`,
      );
      continue;
    }
    if (rules.length === 1 && rules[0].action.kind === "log" && rules[0].final && direct.has(v.syscall)) {
      // a burn-in rule (generate --unseen log) that fired: the call happens, so it is allowed; only a LOG
      // record says the log rule fired (a kill or errno record is another filter's answer)
      if (v.action === "log") promote.add(v.syscall);
      else
        skip(
          `the policy logs it (burn-in, ${describeRule(rules[0])}), and only a LOG record shows that rule fired; this one is ${v.action}`,
        );
      continue;
    }
    if (rules.length) {
      skip(`the policy answers it on purpose (${describeRule(rules[0])})`);
      continue;
    }
    names.add(v.syscall);
  }
  return { names: [...names].sort(), promote: [...promote].sort(), skipped };
}

/** Burn-in log rules of calls that fired become allow rules, in place (sysfence YAML or JSON). */
function promoteBurnIn(text: string, file: string, policy: Policy, names: string[], note: string): string {
  if (detectFormat(Buffer.from(text, "utf8"), file).doc?.syntax === "json")
    return promoteBurnInJson(text, file, policy, names, note);
  const doc = parseDocument(text);
  const rules = doc.get("syscalls", true);
  if (!isSeq(rules)) return text;
  policy.rules.forEach((rule, i) => {
    if (rule.action.kind !== "log" || !rule.final || !rule.names.some((n) => names.includes(n))) return;
    const node = rules.items[i];
    if (!isMap(node)) return;
    const rest = rule.names.filter((n) => !names.includes(n));
    if (rest.length) {
      // the rule also logs calls that did not fire: they keep the log rule, the fired ones get their own
      node.set("names", doc.createNode(rest, { flow: true }));
      const own = doc.createNode({
        names: rule.names.filter((n) => names.includes(n)),
        action: "allow",
        tier: "seen",
        comment: note,
      });
      rules.items.push(own);
      return;
    }
    node.set("action", "allow");
    node.delete("final");
    node.set("tier", "seen");
    const comment = node.get("comment");
    node.set("comment", `${typeof comment === "string" ? `${comment}; ` : ""}fired in the burn-in: ${note}`);
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** Adds an allow rule for `names` to the text, in the text's own format. */
function edit(text: string, file: string, names: string[], note: string): string {
  const found = detectFormat(Buffer.from(text, "utf8"), file);
  switch (found.format) {
    case "sysfence":
      // a sysfence policy written as JSON stays JSON
      return found.doc?.syntax === "json"
        ? editJson(text, file, ["syscalls"], { names, action: "allow", comment: note })
        : editYaml(text, ["syscalls"], { names, action: "allow", comment: note });
    case "spo":
      return editYaml(text, ["spec", "syscalls"], { names, action: "SCMP_ACT_ALLOW" });
    case "oci":
      return editJson(text, file, [...(found.at ?? []), "syscalls"], { names, action: "SCMP_ACT_ALLOW" });
    case "moby":
      return editJson(text, file, ["syscalls"], { names, action: "SCMP_ACT_ALLOW", comment: note });
    case "systemd":
      return editSystemd(text, names, note);
    case "bpf":
      throw new SysfenceError(
        "E_USAGE",
        `${file} is a compiled BPF program; patch the policy it was compiled from and compile again.`,
      );
  }
}

function editYaml(text: string, at: string[], rule: Record<string, unknown>): string {
  const doc = parseDocument(text);
  const node = doc.createNode(rule);
  const names = (node as unknown as { get(k: string, keep: boolean): { flow?: boolean } }).get("names", true);
  names.flow = true;
  const list = doc.getIn(at, true);
  if (list !== undefined && !isSeq(list))
    throw new SysfenceError("E_POLICY_INVALID", `${at.join(".")} is not a list.`);
  if (list === undefined && !isMap(doc.getIn(at.slice(0, -1), true) ?? doc.contents))
    throw new SysfenceError("E_POLICY_INVALID", `cannot add ${at.join(".")} to this document.`);
  doc.addIn(at, node);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** A SystemCallFilter= line after the last one: in an allow-list it adds, in a deny-list it removes. */
function editSystemd(text: string, names: string[], note: string): string {
  const lines = text.split("\n");
  let last = -1;
  lines.forEach((l, i) => {
    if (/^\s*SystemCallFilter\s*=/.test(l)) last = i;
  });
  const added = [`# ${note}`, `SystemCallFilter=${names.join(" ")}`];
  if (last < 0) lines.push(...added);
  else lines.splice(last + 1, 0, ...added);
  return lines.join("\n");
}

/** The calls whose decision differs between two policies, per arch (arguments all zero). */
function changedCalls(before: Policy, after: Policy): { name: string; arch: ArchName; now: string }[] {
  const out: { name: string; arch: ArchName; now: string }[] = [];
  for (const arch of before.architectures) {
    const audit = ARCHES[arch].audit;
    for (const name of Object.keys(syscallTable(arch))) {
      const nr = syscallNumber(arch, name) as number;
      const q = { arch: audit, nr, args: [0n, 0n, 0n, 0n, 0n, 0n] };
      const a = formatAction(referenceDecide(before, q));
      const b = formatAction(referenceDecide(after, q));
      if (a !== b) out.push({ name, arch, now: b });
    }
  }
  return out;
}

/**
 * The narrowest change to a policy file (sysfence, OCI, moby, SPO or systemd) that allows what the records
 * show: the new text, a unified diff that `patch -p1` applies, what was added and what was left alone.
 */
export function patchPolicy(
  text: string,
  file: string,
  violations: readonly Violation[],
  cwd: string = process.cwd(),
): PatchResult {
  const parsed = parsePolicy(text, { file });
  const chosen = choose(parsed.policy, violations);
  const { skipped, promote } = chosen;
  const names = [...chosen.names, ...promote].sort();
  const where = diffPath(file, cwd);
  if (names.length === 0) return { text, diff: "", added: [], skipped, applyIn: where.applyIn };
  const seen = violations.filter((v) => names.includes(v.syscall)).reduce((a, v) => a + v.count, 0);
  const exes = [...new Set(violations.filter((v) => names.includes(v.syscall)).map((v) => v.exe))].join(", ");
  const note = `added by sysfence audit: ${seen} record(s) from ${exes.replace(/[\r\n]/g, " ")}`;
  let out = promote.length ? promoteBurnIn(text, file, parsed.policy, promote, note) : text;
  if (chosen.names.length) out = edit(out, file, chosen.names, note);
  // re-read through the same reader; the only change may be the added calls, now allowed
  const again = readBack(out, file, parsed.format);
  const wrong = changedCalls(parsed.policy, again).filter(
    (c) => !(names.includes(c.name) && c.now === "allow"),
  );
  const missing = names.filter((n) =>
    parsed.policy.architectures.some((arch) => {
      const nr = syscallNumber(arch, n);
      return (
        nr !== undefined &&
        formatAction(
          referenceDecide(again, { arch: ARCHES[arch].audit, nr, args: [0n, 0n, 0n, 0n, 0n, 0n] }),
        ) !== "allow"
      );
    }),
  );
  if (wrong.length || missing.length)
    throw new SysfenceError(
      "E_INTERNAL",
      `the patch would ${wrong.length ? `also change ${wrong[0].name} on ${wrong[0].arch} (now ${wrong[0].now})` : `not allow ${missing[0]}`}; nothing written. Please report this.`,
    );
  return {
    text: out,
    diff: unifiedDiff(text, out, where.path),
    added: names,
    skipped,
    applyIn: where.applyIn,
  };
}

/** A patched text read back through the reader of its format; E_INTERNAL (nothing written) if it does not read. */
export function readBack(
  text: string,
  file: string,
  format: ReturnType<typeof parsePolicy>["format"],
): Policy {
  try {
    return parsePolicy(text, { file, format }).policy;
  } catch (e) {
    throw new SysfenceError(
      "E_INTERNAL",
      `the patched ${file} does not read back (${(e as Error).message}); nothing written.`,
      { cause: e },
    );
  }
}

/** A unified diff of two texts (one hunk per changed region, 3 lines of context); `file` relative. */
export function unifiedDiff(a: string, b: string, file: string): string {
  const lines = (t: string) => (t.endsWith("\n") ? t.slice(0, -1) : t).split("\n");
  const x = lines(a);
  const y = lines(b);
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start++;
  let endX = x.length - 1;
  let endY = y.length - 1;
  while (endX >= start && endY >= start && x[endX] === y[endY]) {
    endX--;
    endY--;
  }
  if (start > endX && start > endY) return "";
  const c0 = Math.max(0, start - 3);
  const c1x = Math.min(x.length - 1, endX + 3);
  const c1y = Math.min(y.length - 1, endY + 3);
  const out = [
    `--- a/${file}`,
    `+++ b/${file}`,
    `@@ -${c0 + 1},${c1x - c0 + 1} +${c0 + 1},${c1y - c0 + 1} @@`,
  ];
  for (let i = c0; i < start; i++) out.push(` ${x[i]}`);
  for (let i = start; i <= endX; i++) out.push(`-${x[i]}`);
  for (let i = start; i <= endY; i++) out.push(`+${y[i]}`);
  for (let i = endX + 1; i <= c1x; i++) out.push(` ${x[i]}`);
  return `${out.join("\n")}\n`;
}
