// install(), lockdown() and the run path take objects from JavaScript callers, not from a parsed file:
// anything can arrive. Everything is checked here, before sysfence touches the kernel (no_new_privs
// cannot be unset), and every problem is a SysfenceError naming the field and the fix — never a TypeError
// from deep inside the compiler, never a program built from a misread field.

import { readFileSync, statSync } from "node:fs";
import * as O from "../abi/opcodes.js";
import type { Insn } from "../bpf/insn.js";
import { verifyProgram } from "../bpf/verify.js";
import { SysfenceError } from "../errors.js";
import { parseAction } from "../policy/actions.js";
import { parseCondition } from "../policy/conditions.js";
import type { OciOptions } from "../policy/formats/oci/read.js";
import {
  type Action,
  type ActionKind,
  type CmpOp,
  type Condition,
  type Policy,
  RULE_NEEDS,
  RULE_TIERS,
  type Rule,
  type RuleNeeds,
  type RuleTier,
} from "../policy/model.js";
import { parsePolicy } from "../policy/parse.js";
import { ARCHES, type ArchName, findArch, nativeArch } from "../syscalls/arches.js";
import { isGroup } from "../syscalls/groups.js";
import { isKnownSyscall, suggestSyscalls } from "../syscalls/table.js";
import { checkLandlockObject } from "./landlock-input.js";

const KINDS: readonly ActionKind[] = [
  "allow",
  "kill-process",
  "kill-thread",
  "trap",
  "errno",
  "trace",
  "log",
  "user-notif",
];
const OPS: readonly CmpOp[] = ["==", "!=", "<", "<=", ">", ">=", "&=="];
const U64_MAX = (1n << 64n) - 1n;

function bad(code: "E_POLICY_INVALID" | "E_BPF_INVALID" | "E_USAGE", where: string, message: string): never {
  throw new SysfenceError(code, `${where}: ${message}`);
}

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "string") return `the string ${JSON.stringify(x.slice(0, 40))}`;
  return typeof x === "object" ? "an object" : `${typeof x} ${String(x)}`;
}

/** The options object of install()/lockdown(): only the named boolean keys. */
export function checkOptions<K extends string>(
  options: unknown,
  keys: readonly K[],
  fn: string,
): Partial<Record<K, boolean>> {
  if (options === undefined) return {};
  if (!isPlainObject(options))
    bad("E_USAGE", `${fn}() options`, `expected an object, got ${describe(options)}.`);
  const out: Partial<Record<K, boolean>> = {};
  for (const [k, v] of Object.entries(options)) {
    if (!(keys as readonly string[]).includes(k))
      bad("E_USAGE", `${fn}() options`, `unknown option '${k}'; the options are ${keys.join(", ")}.`);
    if (v !== undefined && typeof v !== "boolean")
      bad("E_USAGE", `${fn}() options.${k}`, `expected true or false, got ${describe(v)}.`);
    if (v !== undefined) out[k as K] = v;
  }
  return out;
}

/** A BPF program passed as an array of instructions. */
export function checkProgram(x: readonly unknown[], where: string): Insn[] {
  if (x.length === 0) bad("E_BPF_INVALID", where, "the program is empty.");
  if (x.length > O.BPF_MAXINSNS)
    bad("E_BPF_INVALID", where, `${x.length} instructions; the kernel's limit is ${O.BPF_MAXINSNS}.`);
  const out = x.map((ins, pc): Insn => {
    const at = `${where}[${pc}]`;
    if (!isPlainObject(ins)) bad("E_BPF_INVALID", at, `expected { code, jt, jf, k }, got ${describe(ins)}.`);
    const field = (name: string, max: number) => {
      const v = ins[name];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max)
        bad("E_BPF_INVALID", `${at}.${name}`, `expected an integer 0..${max}, got ${describe(v)}.`);
      return v;
    };
    return {
      code: field("code", 0xffff),
      jt: field("jt", 0xff),
      jf: field("jf", 0xff),
      k: field("k", 0xffffffff),
    };
  });
  const problems = verifyProgram(out);
  if (problems.length) bad("E_BPF_INVALID", where, `${problems[0]} The kernel would refuse it.`);
  return out;
}

/** An action: an Action object or the text a policy file would hold ("errno EPERM"). */
function checkAction(x: unknown, where: string): Action {
  if (typeof x === "string") {
    try {
      return parseAction(x);
    } catch (e) {
      bad("E_POLICY_INVALID", where, (e as Error).message);
    }
  }
  if (!isPlainObject(x))
    bad(
      "E_POLICY_INVALID",
      where,
      `expected an action such as "errno EPERM" or { kind: "allow" }, got ${describe(x)}.`,
    );
  const kind = x.kind;
  if (typeof kind !== "string" || !KINDS.includes(kind as ActionKind))
    bad("E_POLICY_INVALID", `${where}.kind`, `expected one of ${KINDS.join(", ")}, got ${describe(kind)}.`);
  const data = x.data;
  const max = kind === "errno" ? 4095 : 0xffff;
  if (data !== undefined && (typeof data !== "number" || !Number.isInteger(data) || data < 0 || data > max))
    bad("E_POLICY_INVALID", `${where}.data`, `expected an integer 0..${max}, got ${describe(data)}.`);
  if (kind === "errno" && data === undefined)
    bad("E_POLICY_INVALID", `${where}.data`, "an errno action needs its errno number (e.g. 1 for EPERM).");
  return data === undefined ? { kind: kind as ActionKind } : { kind: kind as ActionKind, data };
}

function toU64(x: unknown, where: string): bigint {
  let v: bigint | undefined;
  if (typeof x === "bigint") v = x;
  else if (typeof x === "number" && Number.isSafeInteger(x)) v = BigInt(x);
  else if (typeof x === "string" && /^(0x[0-9a-f]+|\d+)$/i.test(x)) v = BigInt(x);
  if (v === undefined)
    bad("E_POLICY_INVALID", where, `expected an integer (a bigint for 64-bit values), got ${describe(x)}.`);
  // negative values are the 64-bit two's complement, as C passes them (AT_FDCWD = -100)
  if (v < -(1n << 63n) || v > U64_MAX) bad("E_POLICY_INVALID", where, "the value does not fit 64 bits.");
  return v;
}

function checkCondition(x: unknown, where: string): Condition {
  if (typeof x === "string") {
    try {
      return parseCondition(x);
    } catch (e) {
      bad("E_POLICY_INVALID", where, (e as Error).message);
    }
  }
  if (!isPlainObject(x))
    bad("E_POLICY_INVALID", where, `expected "arg0 == 1" or { arg, op, value }, got ${describe(x)}.`);
  const arg = x.arg;
  if (typeof arg !== "number" || !Number.isInteger(arg) || arg < 0 || arg > 5)
    bad("E_POLICY_INVALID", `${where}.arg`, `expected an argument index 0..5, got ${describe(arg)}.`);
  const op = x.op;
  if (typeof op !== "string" || !OPS.includes(op as CmpOp))
    bad("E_POLICY_INVALID", `${where}.op`, `expected one of ${OPS.join(" ")}, got ${describe(op)}.`);
  const value = toU64(x.value, `${where}.value`);
  const c: Condition = { arg, op: op as CmpOp, value };
  if (op === "&==") c.mask = toU64(x.mask, `${where}.mask`);
  else if (x.mask !== undefined)
    bad("E_POLICY_INVALID", `${where}.mask`, "a mask belongs to the &== operator only.");
  if (x.unsigned !== undefined) {
    if (typeof x.unsigned !== "boolean")
      bad("E_POLICY_INVALID", `${where}.unsigned`, `expected true or false, got ${describe(x.unsigned)}.`);
    c.unsigned = x.unsigned;
  }
  return c;
}

function checkRule(x: unknown, where: string): Rule {
  if (!isPlainObject(x))
    bad("E_POLICY_INVALID", where, `expected { names, action, conditions }, got ${describe(x)}.`);
  const names = x.names;
  if (!Array.isArray(names) || names.length === 0)
    bad(
      "E_POLICY_INVALID",
      `${where}.names`,
      `expected a non-empty array of syscall names or @groups, got ${describe(names)}.`,
    );
  names.forEach((n, i) => {
    if (typeof n !== "string" || n === "")
      bad(
        "E_POLICY_INVALID",
        `${where}.names[${i}]`,
        `expected a syscall name or @group, got ${describe(n)}.`,
      );
    if (n.startsWith("@") ? !isGroup(n) : !isKnownSyscall(n)) {
      const hint = n.startsWith("@") ? [] : suggestSyscalls(n);
      throw new SysfenceError(
        n.startsWith("@") ? "E_POLICY_INVALID" : "E_UNKNOWN_SYSCALL",
        `${where}.names[${i}]: unknown ${n.startsWith("@") ? "group" : "syscall"} '${n}'${hint.length ? ` — did you mean ${hint.map((h) => `'${h}'`).join(" or ")}?` : "."}`,
      );
    }
  });
  const conditions = x.conditions ?? [];
  if (!Array.isArray(conditions))
    bad("E_POLICY_INVALID", `${where}.conditions`, `expected an array, got ${describe(conditions)}.`);
  return {
    names: [...(names as string[])],
    action: checkAction(x.action, `${where}.action`),
    conditions: conditions.map((c, i) => checkCondition(c, `${where}.conditions[${i}]`)),
    ...(x.final !== undefined ? { final: checkAction(x.final, `${where}.final`) } : {}),
    ...(typeof x.comment === "string" ? { comment: x.comment } : {}),
    ...(x.tier !== undefined ? { tier: checkTier(x.tier, `${where}.tier`) } : {}),
    ...(x.needs !== undefined ? { needs: checkNeeds(x.needs, `${where}.needs`) } : {}),
  };
}

function checkNeeds(x: unknown, where: string): RuleNeeds {
  if (!RULE_NEEDS.includes(x as RuleNeeds))
    bad("E_POLICY_INVALID", where, `expected one of ${RULE_NEEDS.join(", ")}, got ${describe(x)}.`);
  return x as RuleNeeds;
}

const TIERS = RULE_TIERS;
function checkTier(x: unknown, where: string): RuleTier {
  if (!TIERS.includes(x as RuleTier))
    bad("E_POLICY_INVALID", where, `expected one of ${TIERS.join(", ")}, got ${describe(x)}.`);
  return x as RuleTier;
}

/** A Policy object from a caller (parsePolicy's output, or built by hand with action texts). */
export function checkPolicyObject(x: Record<string, unknown>, where: string): Policy {
  const known = [
    "defaultAction",
    "badArchAction",
    "architectures",
    "rules",
    "flags",
    "analysis",
    "phase",
    "landlock",
    "source",
  ];
  for (const k of Object.keys(x))
    if (!known.includes(k))
      bad(
        "E_POLICY_INVALID",
        where,
        `unknown field '${k}'; a policy has ${known.join(", ")} (pass parsePolicy(text).policy for a policy file's text).`,
      );
  if (x.defaultAction === undefined)
    bad("E_POLICY_INVALID", `${where}.defaultAction`, 'missing; e.g. "errno EPERM" or "kill-process".');
  const rules = x.rules ?? [];
  if (!Array.isArray(rules))
    bad("E_POLICY_INVALID", `${where}.rules`, `expected an array, got ${describe(rules)}.`);
  const arches = x.architectures ?? [nativeArch()];
  if (!Array.isArray(arches) || arches.length === 0)
    bad(
      "E_POLICY_INVALID",
      `${where}.architectures`,
      `expected a non-empty array of architecture names, got ${describe(arches)}.`,
    );
  const architectures = arches.map((a, i): ArchName => {
    const info = typeof a === "string" ? findArch(a) : undefined;
    if (!info)
      bad(
        "E_POLICY_INVALID",
        `${where}.architectures[${i}]`,
        `unknown architecture ${describe(a)}; use one of ${Object.keys(ARCHES).join(", ")}.`,
      );
    return info.name;
  });
  const flags = x.flags ?? [];
  if (!Array.isArray(flags) || flags.some((f) => f !== "log"))
    bad("E_POLICY_INVALID", `${where}.flags`, `expected [] or ["log"], got ${describe(flags)}.`);
  return {
    defaultAction: checkAction(x.defaultAction, `${where}.defaultAction`),
    badArchAction:
      x.badArchAction === undefined
        ? { kind: "kill-process" }
        : checkAction(x.badArchAction, `${where}.badArchAction`),
    architectures: [...new Set(architectures)],
    rules: rules.map((r, i) => checkRule(r, `${where}.rules[${i}]`)),
    ...(flags.length ? { flags } : {}),
    ...(x.analysis !== undefined ? { analysis: checkAnalysis(x.analysis, `${where}.analysis`) } : {}),
    ...(x.phase === "work" || x.phase === "all" ? { phase: x.phase } : {}),
    ...(x.landlock !== undefined ? { landlock: checkLandlockObject(x.landlock, `${where}.landlock`) } : {}),
    source: typeof x.source === "string" ? x.source : undefined,
  };
}

/** What install()/lockdown() were given: a policy object or a program, checked whole. */
export function checkInstallInput(x: unknown, fn: string, oci: OciOptions = {}): Policy | Insn[] {
  if (Array.isArray(x)) return checkProgram(x, `${fn}() program`);
  if (typeof x === "string") return readPolicyPath(x, fn, oci);
  if (x instanceof Uint8Array) return parsePolicy(x, { ...oci, file: `${fn}() bytes` }).policy;
  if (isPlainObject(x)) {
    // the internal model (parsePolicy(...).policy, generatePolicy(...).policy) has `rules`
    if ("rules" in x && !("syscalls" in x)) return checkPolicyObject(x, `${fn}() policy`);
    // a parsePolicy()/readPolicyFile() result
    if ("policy" in x && "format" in x && isPlainObject(x.policy))
      return checkPolicyObject(x.policy as Record<string, unknown>, `${fn}() policy.policy`);
    // a document in any format sysfence reads (sysfence, OCI runtime spec, moby/Docker, SPO): the readers
    // decide by its structure and check it field by field, as they do a file
    return parsePolicy(jsonText(x, fn), { ...oci, file: `${fn}() policy object` }).policy;
  }
  return bad(
    "E_USAGE",
    `${fn}()`,
    `expected a policy file path, a policy object (sysfence, OCI or Docker format, or parsePolicy(text).policy) or a BPF program (an array of instructions), got ${describe(x)}.`,
  );
}

/** A policy file, read synchronously (lockdown() must not return before the filter is in). */
function readPolicyPath(path: string, fn: string, oci: OciOptions): Policy {
  return parsePolicy(readInputFileSync(path, fn), { ...oci, file: path }).policy;
}

/** A regular file's bytes, read synchronously; anything else is one E_IO error naming the file. */
export function readInputFileSync(path: string, fn: string): Buffer {
  try {
    if (path === "" || path === "-") throw Object.assign(new Error("not a file name"), { code: "EINVAL" });
    const st = statSync(path);
    if (!st.isFile()) throw Object.assign(new Error("not a regular file"), { code: "EISDIR" });
    return readFileSync(path);
  } catch (e) {
    throw new SysfenceError(
      "E_IO",
      `${fn}(): cannot read policy ${JSON.stringify(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; give the path of a policy file or a policy object. Nothing was installed.`,
      { cause: e },
    );
  }
}

/** A JavaScript object as JSON text; bigints (64-bit argument values) are written as exact integers. */
function jsonText(x: object, fn: string): string {
  const marks: string[] = [];
  let text: string;
  try {
    text = JSON.stringify(x, (_k, v) => {
      if (typeof v !== "bigint") return v;
      marks.push(v.toString());
      return `\u0000bigint${marks.length - 1}`;
    });
  } catch (e) {
    return bad("E_USAGE", `${fn}() policy`, `cannot be read as a document: ${(e as Error).message}.`);
  }
  return text.replace(/"\\u0000bigint(\d+)"/g, (_m, i) => marks[Number(i)]);
}

/** What generate --static records about its analysis: the programs and the unresolved site count. */
function checkAnalysis(x: unknown, where: string): NonNullable<Policy["analysis"]> {
  if (
    !isPlainObject(x) ||
    !Array.isArray(x.programs) ||
    x.programs.some((p) => typeof p !== "string") ||
    typeof x.unresolved !== "number"
  )
    bad("E_POLICY_INVALID", where, `expected { programs: [paths], unresolved: N }, got ${describe(x)}.`);
  return { programs: [...(x.programs as string[])], unresolved: x.unresolved as number };
}
