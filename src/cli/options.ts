// Option values every command reads the same way: repeatable options and integers.
import { UsageError } from "./io.js";

/**
 * Commander's argument parser for an option given once per value (`--audit-exe A --audit-exe B`): unlike
 * a variadic `<x...>` option it never takes the positional arguments that follow it as more values.
 */
export function repeatable(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * An integer option's value: decimal digits only, within [min, max]; anything else is a usage error that
 * names the option, the value and what it takes (`--pid abc` is not `--pid NaN`).
 */
export function parseIntegerOption(
  option: string,
  text: string,
  o: { min?: number; max?: number; what?: string } = {},
): number {
  const min = o.min ?? 0;
  const max = o.max ?? Number.MAX_SAFE_INTEGER;
  const n = /^\+?\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(
      `${option} '${text}': give ${o.what ?? "a whole number"}, ${max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`}.`,
    );
  return n;
}
