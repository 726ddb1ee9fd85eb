import { actionValue } from "../../src/abi/action.js";
import { Emulator, packSeccompData } from "../../src/bpf/emulator.js";
import type { Insn } from "../../src/bpf/insn.js";
import type { Policy } from "../../src/policy/model.js";
import { type Query, referenceDecide } from "../../src/policy/reference.js";
import { ARCHES, type ArchName, X32_SYSCALL_BIT } from "../../src/syscalls/arches.js";
import { argWidth } from "../../src/syscalls/args.js";
import { expandGroup } from "../../src/syscalls/groups.js";
import { syscallNumber } from "../../src/syscalls/table.js";

const TWO32 = 1n << 32n;
/** The argument values every check tries. */
export const BOUNDARY_VALUES: readonly bigint[] = [
  0n,
  1n,
  2n,
  (1n << 31n) - 1n,
  1n << 31n,
  TWO32 - 1n,
  TWO32,
  TWO32 + 1n,
  1n << 63n,
  (1n << 64n) - 1n,
  (1n << 64n) - 100n,
  0xffffff9cn,
];

/** Boundary values plus each rule constant ±1 and variants differing only in the upper half. */
export function valuesFor(policy: Policy): bigint[] {
  const out = new Set<bigint>(BOUNDARY_VALUES);
  for (const r of policy.rules) {
    for (const c of r.conditions) {
      for (const base of [c.value, c.mask ?? 0n, c.value | (c.mask ?? 0n)]) {
        for (const v of [
          base - 1n,
          base,
          base + 1n,
          base ^ TWO32,
          base | (0xdeadn << 32n),
          base ^ (1n << 63n),
          base & (TWO32 - 1n),
        ]) {
          out.add(BigInt.asUintN(64, v));
        }
      }
    }
  }
  return [...out];
}

/** Syscall numbers to ask about on one arch: 0..1100, the arch's numbers, and the edges of the 32-bit space. */
export function numbersFor(arch: ArchName): number[] {
  const base = ARCHES[arch].nrBase;
  const out = new Set<number>();
  for (let i = 0; i <= 1100; i++) out.add(base + i);
  for (const n of [
    0x3fffffff,
    X32_SYSCALL_BIT,
    X32_SYSCALL_BIT + 1,
    0x7fffffff,
    0x80000000,
    0xfffffffe,
    0xffffffff,
    0x0f0000,
    0x0f0005,
  ])
    out.add(n);
  return [...out];
}

/** Every query of the exhaustive check: all numbers with zero args, and argument sweeps for conditioned syscalls. */
export function* exhaustiveQueries(
  policy: Policy,
  values: readonly bigint[] = valuesFor(policy),
): Generator<Query & { archName: ArchName | "foreign" }> {
  const foreign = ["aarch64", "i386", "x86_64"].find((a) => !policy.architectures.includes(a as ArchName)) as
    | ArchName
    | undefined;
  const arches: (ArchName | "foreign")[] = [
    ...policy.architectures,
    ...(foreign ? ["foreign" as const] : []),
  ];
  for (const a of arches) {
    const info = a === "foreign" ? ARCHES[foreign!] : ARCHES[a];
    const nrs = a === "foreign" ? numbersFor("x86_64").slice(0, 50) : numbersFor(a);
    for (const nr of nrs) yield { archName: a, arch: info.audit, nr, args: [] };
    if (a === "foreign") {
      yield { archName: a, arch: 0, nr: 0, args: [] };
      continue;
    }
    for (const r of policy.rules) {
      if (r.conditions.length === 0) continue;
      const names = r.names.flatMap((n) => (n.startsWith("@") ? (expandGroup(n) ?? []) : [n]));
      for (const name of names) {
        const nr = syscallNumber(a, name);
        if (nr === undefined) continue;
        const argIdx = [...new Set(r.conditions.map((c) => c.arg))];
        // each argument alone over all values
        for (const i of argIdx)
          for (const v of values) yield { archName: a, arch: info.audit, nr, args: withArg([], i, v) };
        // all conditions of the rule at their own constant, then one varied
        const base: bigint[] = [];
        for (const c of r.conditions) base[c.arg] = BigInt.asUintN(64, c.op === "&==" ? c.value : c.value);
        yield { archName: a, arch: info.audit, nr, args: [...base] };
        for (const i of argIdx)
          for (const v of values) yield { archName: a, arch: info.audit, nr, args: withArg(base, i, v) };
      }
    }
  }
}

function withArg(base: readonly bigint[], i: number, v: bigint): bigint[] {
  const out = Array.from({ length: 6 }, (_, k) => base[k] ?? 0n);
  out[i] = v;
  return out;
}

/** A disagreement between a program and the reference semantics. */
export interface Mismatch {
  query: Query & { archName?: string };
  program: number;
  reference: number;
}

/** Runs every query through the program and the reference; returns up to `limit` mismatches and the count of queries. */
export function findMismatches(
  policy: Policy,
  program: readonly Insn[],
  queries: Iterable<Query & { archName?: string }>,
  limit = 5,
): { mismatches: Mismatch[]; checked: number } {
  const emu = new Emulator(program);
  const mismatches: Mismatch[] = [];
  let checked = 0;
  for (const q of queries) {
    checked++;
    const le = q.archName && q.archName !== "foreign" ? ARCHES[q.archName as ArchName].littleEndian : true;
    const got = emu.runWords(packSeccompData({ nr: q.nr, arch: q.arch, args: q.args }, le)).value;
    const want = actionValue(referenceDecide(policy, q));
    if (got !== want) {
      mismatches.push({ query: q, program: got, reference: want });
      if (mismatches.length >= limit) break;
    }
  }
  return { mismatches, checked };
}

/** Whether argument i of a syscall is 32 bits or narrower on any of the arches. */
export function isNarrow(name: string, i: number, arches: readonly ArchName[]): boolean {
  return arches.some((a) => argWidth(name, i, a).bits < 64);
}
