// Option values every command reads the same way: repeatable options and integers.
import type { Command } from "commander";
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

/** One option of a command as a table row: its flags, its help, and its default value or value parser. */
export type OptionSpec = readonly [
  flags: string,
  help: string,
  extra?: string | ((value: string, previous: string[] | undefined) => string[]),
];

/** Declares a table of options on a command, in order (so `--help` lists them as the table does). */
export function addOptions(command: Command, specs: readonly OptionSpec[]): Command {
  for (const [flags, help, extra] of specs)
    if (typeof extra === "function") command.option(flags, help, extra);
    else command.option(flags, help, extra);
  return command;
}
