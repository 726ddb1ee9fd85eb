import { SysfenceError } from "../errors.js";
import { type ArchName, archInfo } from "./arches.js";
import { TABLES } from "./generated/tables.js";

const byNumber = new Map<ArchName, Map<number, string>>();

/** The name → number table of one architecture. */
export function syscallTable(arch: ArchName): Readonly<Record<string, number>> {
  const table = TABLES[arch];
  if (!table) throw new SysfenceError("E_UNKNOWN_ARCH", `no syscall table for architecture '${arch}'.`);
  return table;
}

/** Number of a syscall on an arch (x32 numbers include the x32 bit); undefined when the arch lacks it. */
export function syscallNumber(arch: ArchName, name: string): number | undefined {
  const table = syscallTable(arch);
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** Name of a syscall number on an arch; undefined when the number is unassigned. */
export function syscallName(arch: ArchName, nr: number): string | undefined {
  let map = byNumber.get(arch);
  if (!map) {
    map = new Map(Object.entries(syscallTable(arch)).map(([n, v]) => [v, n]));
    byNumber.set(arch, map);
  }
  return map.get(nr);
}

/** True when some architecture knows this syscall name. */
export function isKnownSyscall(name: string): boolean {
  return Object.values(TABLES).some((t) => Object.hasOwn(t, name));
}

/** Every syscall name known on any architecture, sorted. */
export function allSyscallNames(): string[] {
  const names = new Set<string>();
  for (const t of Object.values(TABLES)) for (const n of Object.keys(t)) names.add(n);
  return [...names].sort();
}

/** Closest known names to a misspelt one, best first (edit distance ≤ 2, or a shared prefix). */
export function suggestSyscalls(name: string, candidates: readonly string[] = allSyscallNames()): string[] {
  const scored = candidates
    .map((c) => ({ c, d: editDistance(name, c) }))
    .filter(
      ({ c, d }) => d <= Math.max(2, Math.floor(name.length / 4)) || (name.length > 3 && c.startsWith(name)),
    )
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c));
  return scored.slice(0, 3).map((s) => s.c);
}

/** Levenshtein distance; small strings only. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** Parses "read", "0", "0x40000000" against an arch: returns [name?, number]. */
export function resolveSyscallSpec(arch: ArchName, spec: string): { name?: string; nr: number } {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(spec)) {
    const nr = Number(spec);
    if (nr > 0xffffffff)
      throw new SysfenceError("E_UNKNOWN_SYSCALL", `syscall number ${spec} is larger than 32 bits.`);
    return { name: syscallName(arch, nr) ?? syscallName(arch, nr + archInfo(arch).nrBase), nr };
  }
  const nr = syscallNumber(arch, spec);
  if (nr === undefined) {
    const hint = suggestSyscalls(spec, Object.keys(syscallTable(arch)));
    const known = isKnownSyscall(spec);
    throw new SysfenceError(
      "E_UNKNOWN_SYSCALL",
      known
        ? `syscall '${spec}' does not exist on ${arch}.`
        : `unknown syscall '${spec}'${hint.length ? ` — did you mean ${hint.map((h) => `'${h}'`).join(" or ")}?` : "."}`,
    );
  }
  return { name: spec, nr };
}
