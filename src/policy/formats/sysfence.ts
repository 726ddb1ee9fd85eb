import { type Diagnostic, type SourceLocation, throwIfErrors } from "../../errors.js";
import { ARCH_NAMES, type ArchName, findArch, nativeArch } from "../../syscalls/arches.js";
import { groupNames, isGroup } from "../../syscalls/groups.js";
import { editDistance, isKnownSyscall, suggestSyscalls } from "../../syscalls/table.js";
import { fakeSuccessWarning, parseAction } from "../actions.js";
import { parseCondition } from "../conditions.js";
import type { Condition, Policy, Rule } from "../model.js";
import { type PolicyFile, policySchema } from "../schema.js";
import type { TextDocument } from "./document.js";
import { readLandlockSection } from "./landlock.js";
import type { ParsedPolicy } from "./parsed.js";

// The sysfence policy format (docs/policy-format.md), from YAML or JSON: first matching rule wins.

/** One reading: where a path is in the text, the errors and warnings so far, and the action reader. */
interface Reading {
  locate: TextDocument["locate"];
  diags: Diagnostic[];
  warnings: Diagnostic[];
  /** An action text read, or allow (with an error) when it does not read. */
  action: (t: string, path: (string | number)[]) => ReturnType<typeof parseAction>;
}

function startReading(doc: TextDocument): Reading {
  const diags: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const locate = doc.locate;
  const action = (t: string, path: (string | number)[]) => {
    try {
      const a = parseAction(t);
      const fake = fakeSuccessWarning(a);
      if (fake) warnings.push({ severity: "warning", message: `'${t}': ${fake}.`, location: locate(path) });
      return a;
    } catch (e) {
      diags.push({ severity: "error", message: (e as Error).message, location: locate(path) });
      return { kind: "allow" as const };
    }
  };
  return { locate, diags, warnings, action };
}

/** The document checked against the policy schema; every mismatch an error at its key. */
function checkedShape(doc: TextDocument, diags: Diagnostic[]): PolicyFile {
  const locate = doc.locate;
  const shape = policySchema().safeParse(bigintsAsText(doc.data));
  if (!shape.success) {
    for (const issue of shape.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
      // an unknown key is located at the key itself, not at the mapping that holds it
      const key = issue.code === "unrecognized_keys" ? issue.keys[0] : undefined;
      diags.push({
        severity: "error",
        message: `${path.length ? `${path.join(".")}: ` : ""}${issue.message}`,
        location: locate(key === undefined ? path : [...path, key]),
        hint: shapeHint(issue.message, path),
      });
    }
    throwIfErrors(diags, doc.file);
  }
  return shape.data as PolicyFile;
}

/** The architectures listed (each once), or this machine's when none are. */
function readArchitectures(raw: PolicyFile, { locate, diags }: Reading, arch: ArchName): ArchName[] {
  const architectures: ArchName[] = [];
  (raw.architectures ?? [arch]).forEach((a, i) => {
    const info = findArch(a);
    if (!info)
      diags.push({
        severity: "error",
        message: `unknown architecture '${a}'`,
        location: locate(["architectures", i]),
        hint: `use one of ${ARCH_NAMES.join(", ")}`,
      });
    else if (!architectures.includes(info.name)) architectures.push(info.name);
  });
  if (raw.architectures?.length === 0)
    diags.push({
      severity: "error",
      message: "architectures is an empty list: the filter would answer every call badArchAction",
      location: locate(["architectures"]),
      hint: "list the architectures (e.g. [x86_64]), or drop the key for this machine's",
    });
  return architectures;
}

/** The rule at syscalls[ri]: its names checked, its conditions and actions read. */
function readRule(r: PolicyFile["syscalls"][number], ri: number, { locate, diags, action }: Reading): Rule {
  const base = ["syscalls", ri];
  const names = [...(r.names ?? []), ...(r.name !== undefined ? [r.name] : [])];
  const nameLocations = [
    ...(r.names ?? []).map((_, ni) => locate([...base, "names", ni])),
    ...(r.name !== undefined ? [locate([...base, "name"])] : []),
  ];
  if (names.length === 0)
    diags.push({
      severity: "error",
      message: "rule names no syscall",
      location: locate(base),
      hint: 'add names: [read, write] or name: "@basic-io"',
    });
  names.forEach((n, ni) => {
    checkName(n, nameLocations[ni], diags);
  });
  const conditions: Condition[] = [];
  (r.args ?? []).forEach((c, ci) => {
    try {
      conditions.push({ ...parseCondition(c), location: locate([...base, "args", ci]) });
    } catch (e) {
      diags.push({
        severity: "error",
        message: (e as Error).message,
        location: locate([...base, "args", ci]),
      });
    }
  });
  if (conditions.length > 0) {
    for (const n of names)
      if (n.startsWith("@"))
        diags.push({
          severity: "error",
          message: `argument conditions on a group (${n}) are not allowed: argument meanings differ per syscall`,
          location: locate([...base, "args"]),
          hint: "name the syscalls one by one",
        });
  }
  const ruleAction = action(r.action, [...base, "action"]);
  if (r.final !== undefined && ruleAction.kind !== "log")
    diags.push({
      severity: "error",
      message: `final is for burn-in rules (action log); this rule's action is ${r.action}`,
      location: locate([...base, "final"]),
      hint: "drop final, or make the action log",
    });
  return {
    names,
    action: ruleAction,
    conditions,
    comment: r.comment,
    ...(r.tier ? { tier: r.tier } : {}),
    ...(r.final !== undefined ? { final: action(r.final, [...base, "final"]) } : {}),
    ...(r.needs ? { needs: r.needs } : {}),
    location: locate(base),
    nameLocations,
  };
}

/** Reads a sysfence policy from a parsed document; every problem is reported with file:line:column. */
export function readSysfencePolicy(doc: TextDocument, arch: ArchName = nativeArch()): ParsedPolicy {
  const reading = startReading(doc);
  const { locate, diags, warnings, action } = reading;
  const raw = checkedShape(doc, diags);
  const architectures = readArchitectures(raw, reading, arch);
  const rules = raw.syscalls.map((r, ri) => readRule(r, ri, reading));
  const policy: Policy = {
    defaultAction: action(raw.defaultAction, ["defaultAction"]),
    badArchAction: raw.badArchAction
      ? action(raw.badArchAction, ["badArchAction"])
      : { kind: "kill-process" },
    architectures,
    rules,
    ...(raw.flags?.length ? { flags: [...new Set(raw.flags)] } : {}),
    ...(raw.analysis ? { analysis: raw.analysis } : {}),
    ...(raw.phase ? { phase: raw.phase } : {}),
    ...(raw.landlock ? { landlock: readLandlockSection(raw.landlock, locate, diags) } : {}),
    source: doc.file,
  };
  throwIfErrors(diags, doc.file);
  return {
    policy,
    warnings: [...warnings, ...diags.filter((d) => d.severity === "warning")],
    format: "sysfence",
  };
}

/** Integers beyond 2^53 stay exact as decimal text, which condition values accept. */
function bigintsAsText(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(bigintsAsText);
  if (v !== null && typeof v === "object") {
    const o: Record<string, unknown> = Object.create(null);
    for (const [k, x] of Object.entries(v)) o[k] = bigintsAsText(x);
    return o;
  }
  return v;
}

function checkName(n: string, location: SourceLocation | undefined, diags: Diagnostic[]): void {
  if (n.startsWith("@")) {
    if (!isGroup(n)) {
      const near = groupNames().filter((g) => editDistance(g, n) <= 3);
      diags.push({
        severity: "error",
        message: `unknown syscall group '${n}'`,
        location,
        hint: near.length ? `did you mean ${near.join(" or ")}?` : `known groups: ${groupNames().join(" ")}`,
      });
    }
    return;
  }
  if (!isKnownSyscall(n)) {
    const near = suggestSyscalls(n);
    diags.push({
      severity: "error",
      message: `unknown syscall '${n}'`,
      location,
      hint: near.length
        ? `did you mean ${near.map((s) => `'${s}'`).join(" or ")}?`
        : "see `sysfence syscalls` for the list",
    });
  }
}

function shapeHint(message: string, path: (string | number)[]): string | undefined {
  if (/unrecognized key/i.test(message) && path[0] === "landlock")
    return "landlock keys are read, write, execute, devices, bindTcp, connectTcp, scope, comment; an entry is a path or { path, comment }";
  if (path[0] === "landlock" && (path[1] === "bindTcp" || path[1] === "connectTcp"))
    return "a port is an integer from 0 to 65535, or { port, comment }";
  if (path[0] === "landlock" && path.length > 2) return "an entry is an absolute path, or { path, comment }";
  if (/unrecognized key/i.test(message))
    return "keys are version, defaultAction, badArchAction, architectures, flags, analysis, landlock, syscalls; a rule has names/name, action, args, comment, tier, final, needs";
  if (path.length === 0 || path[path.length - 1] === "syscalls") return "see docs/policy-format.md";
  return undefined;
}
