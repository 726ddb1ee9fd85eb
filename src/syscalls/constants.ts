import { constants as osConstants } from "node:os";
import { SysfenceError } from "../errors.js";
import type { ArchName } from "./arches.js";
import { ARCH_CONSTANTS, ARCH_MISSING, CONSTANTS, ERRNO } from "./generated/constants.js";
import { editDistance } from "./table.js";

/**
 * Value of a named constant (FIONBIO, CLONE_NEWUSER, AF_INET …) or errno name; undefined when unknown.
 * On an architecture whose headers give it another value (O_DIRECTORY on aarch64), that one; undefined
 * on one whose kernel headers lack it (TCGETS2 on ppc64le).
 */
export function constantValue(name: string, arch?: ArchName): number | undefined {
  if (arch && ARCH_MISSING[arch]?.includes(name)) return undefined;
  return (arch ? ARCH_CONSTANTS[arch]?.[name] : undefined) ?? CONSTANTS[name] ?? ERRNO[name];
}

/** True when a name means a different value on `arch` than on x86_64 (the names' base table). */
export function differsOn(name: string, arch: ArchName): boolean {
  return ARCH_CONSTANTS[arch]?.[name] !== undefined;
}

/** Errno number for a name like EPERM; undefined when unknown. */
export function errnoValue(name: string): number | undefined {
  return ERRNO[name.toUpperCase()];
}

/** Errno name for a number (the first, canonical one); undefined when unknown. */
export function errnoName(value: number): string | undefined {
  for (const [name, v] of Object.entries(ERRNO)) if (v === value) return name;
  return undefined;
}

/** Signal name (SIGTERM) for this machine's signal number; undefined when unknown. */
export function signalName(value: number): string | undefined {
  for (const [name, v] of Object.entries(osConstants.signals)) if (v === value) return name;
  return undefined;
}

/** Nearest constant names, for "did you mean" hints. */
export function suggestConstants(name: string): string[] {
  const all = [...Object.keys(CONSTANTS), ...Object.keys(ERRNO)];
  return all
    .map((c) => ({ c, d: editDistance(name, c) }))
    .filter((s) => s.d <= 2)
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((s) => s.c);
}

/**
 * Evaluates a value expression as written in a policy: decimal, hex (0x), octal (0o), negative numbers,
 * constant names, and `|` / `+` combinations ("CLONE_NEWUSER|CLONE_NEWNS"). Returns a bigint.
 */
export function evalValue(text: string | number | bigint, arch?: ArchName): bigint {
  if (typeof text === "bigint") return text;
  if (typeof text === "number") {
    if (!Number.isSafeInteger(text)) {
      throw new SysfenceError(
        "E_UNKNOWN_CONSTANT",
        `value ${text} is not an exact integer; write large values in hex as a string.`,
      );
    }
    return BigInt(text);
  }
  const parts = text.split(/\s*([|+])\s*/);
  let acc = 0n;
  let op = "|";
  for (const part of parts) {
    if (part === "|" || part === "+") {
      op = part;
      continue;
    }
    const v = evalTerm(part.trim(), arch);
    acc = op === "|" ? acc | v : acc + v;
  }
  return acc;
}

function evalTerm(term: string, arch?: ArchName): bigint {
  if (/^-?(0x[0-9a-f]+|0o[0-7]+|0b[01]+|\d+)$/i.test(term)) {
    const neg = term.startsWith("-");
    const v = BigInt(neg ? term.slice(1) : term);
    return neg ? -v : v;
  }
  const c = constantValue(term, arch);
  if (c === undefined) {
    const hints = suggestConstants(term);
    throw new SysfenceError(
      "E_UNKNOWN_CONSTANT",
      `unknown constant '${term}'${hints.length ? ` — did you mean ${hints.join(" or ")}?` : "; write a number instead."}`,
    );
  }
  return BigInt(c);
}
