import { SysfenceError } from "../errors.js";
import { evalValue } from "../syscalls/constants.js";
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
export function parseCondition(input: string | ConditionObject): Condition {
  if (typeof input !== "string") return parseConditionObject(input);
  const text = input.trim();
  const masked = /^(?:arg|a)(\d+)\s*&\s*(.+?)\s*==\s*(.+)$/i.exec(text);
  if (masked) {
    return {
      arg: argIndex(masked[1], text),
      op: "&==",
      mask: value(masked[2], text),
      value: value(masked[3], text),
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
  return { arg: argIndex(m[1], text), op, value: value(m[3], text), text };
}

function parseConditionObject(o: ConditionObject): Condition {
  const op = o.op === "=" ? "==" : o.op;
  if (!OPS.includes(op as CmpOp)) {
    throw new SysfenceError("E_POLICY_INVALID", `unknown operator '${o.op}'; use one of ${OPS.join(" ")}.`);
  }
  const text = `arg${o.arg} ${op === "&==" ? `& ${o.mask} ==` : op} ${o.value}`;
  const cond: Condition = {
    arg: argIndex(String(o.arg), text),
    op: op as CmpOp,
    value: value(o.value, text),
    text,
  };
  if (op === "&==") {
    if (o.mask === undefined)
      throw new SysfenceError("E_POLICY_INVALID", `condition '${text}' uses &== and needs a mask.`);
    cond.mask = value(o.mask, text);
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

function value(v: string | number, cond: string): bigint {
  if (typeof v === "string" && /["'/]/.test(v)) {
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `condition '${cond}' compares with ${v}: seccomp sees only the raw argument registers, never the memory a pointer refers to (paths, structs).`,
    );
  }
  try {
    return evalValue(v);
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
