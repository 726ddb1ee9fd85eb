import { SysfenceError } from "../errors.js";
import type { ArchName } from "../syscalls/arches.js";
import { differsOn, evalValue } from "../syscalls/constants.js";
import type { CmpOp, Condition } from "./model.js";

const OPS: readonly CmpOp[] = ["==", "!=", "<=", ">=", "<", ">", "&=="];

/** The object form of a condition in policy files. */
export interface ConditionObject {
  arg: number;
  op: string;
  value: string | number;
  mask?: string | number;
}

/**
 * Parses a condition. String forms: "arg1 == FIONBIO", "arg0 <= 2", "arg0 & CLONE_NEWUSER == 0"
 * (masked equality), "arg2 != -1". Values may be numbers, named constants or "A|B" combinations.
 */
export function parseCondition(input: string | ConditionObject, arch?: ArchName): Condition {
  if (typeof input !== "string") return parseConditionObject(input, arch);
  const text = input.trim();
  const masked = /^(?:arg|a)(\d+)\s*&\s*(.+?)\s*==\s*(.+)$/i.exec(text);
  if (masked) {
    return {
      arg: argIndex(masked[1], text),
      op: "&==",
      mask: value(masked[2], text, arch),
      value: value(masked[3], text, arch),
      text,
    };
  }
  const m = /^(?:arg|a)(\d+)\s*(==|!=|<=|>=|<|>|=)\s*(.+)$/i.exec(text);
  if (!m) {
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `cannot read condition '${text}'; write it as "argN OP VALUE" (OP: == != < <= > >=) or "argN & MASK == VALUE".`,
    );
  }
  const op = (m[2] === "=" ? "==" : m[2]) as CmpOp;
  return { arg: argIndex(m[1], text), op, value: value(m[3], text, arch), text };
}

function parseConditionObject(o: ConditionObject, arch?: ArchName): Condition {
  const op = o.op === "=" ? "==" : o.op;
  if (!OPS.includes(op as CmpOp)) {
    throw new SysfenceError("E_POLICY_INVALID", `unknown operator '${o.op}'; use one of ${OPS.join(" ")}.`);
  }
  const text = `arg${o.arg} ${op === "&==" ? `& ${o.mask} ==` : op} ${o.value}`;
  const cond: Condition = {
    arg: argIndex(String(o.arg), text),
    op: op as CmpOp,
    value: value(o.value, text, arch),
    text,
  };
  if (op === "&==") {
    if (o.mask === undefined)
      throw new SysfenceError("E_POLICY_INVALID", `condition '${text}' uses &== and needs a mask.`);
    cond.mask = value(o.mask, text, arch);
  }
  return cond;
}

function argIndex(text: string, cond: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 5) {
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `condition '${cond}' names argument ${text}; seccomp sees only arguments 0 to 5 (struct seccomp_data.args[6]).`,
    );
  }
  return n;
}

function value(v: string | number, cond: string, arch?: ArchName): bigint {
  if (typeof v === "string" && /["'/]/.test(v)) {
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `condition '${cond}' compares with ${v}: seccomp sees only the raw argument registers, never the memory a pointer refers to (paths, structs).`,
    );
  }
  try {
    return evalValue(v, arch);
  } catch (e) {
    if (e instanceof SysfenceError)
      throw new SysfenceError(e.code, `in condition '${cond}': ${e.message}`, { cause: e });
    throw e;
  }
}

/** The canonical text of a condition. */
export function formatCondition(c: Condition): string {
  // Negative values stay negative: written as u64 they would not fit a 32-bit `int` argument.
  const hex = (v: bigint) => (v < 0n ? v.toString() : v > 0xffffn ? `0x${v.toString(16)}` : v.toString());
  if (c.op === "&==") return `arg${c.arg} & ${hex(c.mask ?? 0n)} == ${hex(c.value)}`;
  return `arg${c.arg} ${c.op} ${hex(c.value)}`;
}

const perArch = new Map<string, Condition>();
/** The named constants a condition's text uses. */
const namesIn = (text: string): string[] => [...new Set(text.match(/\b[A-Z][A-Z0-9_]+\b/g) ?? [])];

/**
 * The condition as it reads on `arch`: names are x86_64's values when parsed, and the few that differ by
 * architecture (O_DIRECTORY is 0x10000 on x86_64, 0x4000 on aarch64) are resolved again for the target.
 */
export function conditionForArch(c: Condition, arch: ArchName): Condition {
  if (!c.text || !namesIn(c.text).some((n) => differsOn(n, arch))) return c;
  const key = `${arch}\0${c.text}`;
  let again = perArch.get(key);
  if (!again) {
    again = parseCondition(c.text, arch);
    perArch.set(key, again);
  }
  return { ...c, value: again.value, mask: again.mask };
}

/**
 * The named constants in a condition that mean different values on the given architectures (FIONBIO is
 * 0x5421 on x86_64, 0x8004667e on ppc64le); [] when the condition reads the same on them all (as the
 * compiler resolves it, conditionForArch). A format that carries one value for every architecture (OCI,
 * libseccomp's C) cannot express such a condition.
 */
export function archDependentNames(c: Condition, arches: readonly ArchName[]): string[] {
  if (!c.text || arches.length < 2) return [];
  const per = arches.map((a) => conditionForArch(c, a));
  if (per.every((x) => x.value === per[0].value && x.mask === per[0].mask)) return [];
  return namesIn(c.text).filter((n) => arches.some((a) => differsOn(n, a)));
}
