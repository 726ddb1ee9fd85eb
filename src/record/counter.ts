// Counts while a profile is built: argument values in Maps (fast updates), turned into the profile's
// SyscallCounts when written.

import { byKey } from "../util/order.js";
import type { SyscallCounts } from "./profile.js";

/** One syscall's counts in one thread (or one role of folded images). */
export interface Counter {
  setup: number;
  work: number;
  errors: number;
  argMaps?: Map<number, Map<string, number>>;
  workArgMaps?: Map<number, Map<string, number>>;
  /** The values of the interesting arguments together ("v0,v1[,v2]") → count (profile.ts `combos`). */
  comboMaps?: Map<string, number>;
  workComboMaps?: Map<string, number>;
}
/** n more of k. */
function tally(m: Map<string, number>, k: string, n: number): void {
  m.set(k, (m.get(k) ?? 0) + n);
}
function bump(m: Map<number, Map<string, number>>, i: number, v: string, n: number): void {
  let vals = m.get(i);
  if (!vals) {
    vals = new Map();
    m.set(i, vals);
  }
  tally(vals, v, n);
}
/** n more calls with value v in argument i (in the work phase too when work). */
export function countArg(c: Counter, i: number, v: string, work: boolean, n: number): void {
  c.argMaps ??= new Map();
  bump(c.argMaps, i, v, n);
  if (work) {
    c.workArgMaps ??= new Map();
    bump(c.workArgMaps, i, v, n);
  }
}
/** n more calls whose interesting arguments had the values `key` together (in the work phase too when work). */
export function countCombo(c: Counter, key: string, work: boolean, n: number): void {
  c.comboMaps ??= new Map();
  tally(c.comboMaps, key, n);
  if (work) {
    c.workComboMaps ??= new Map();
    tally(c.workComboMaps, key, n);
  }
}
const plain = (m: Map<number, Map<string, number>>) =>
  Object.fromEntries([...m].map(([i, vals]) => [String(i), Object.fromEntries(vals)]));
const inKeyOrder = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].sort(byKey));
/** The profile's form of a counter. */
export function toCounts(c: Counter): SyscallCounts {
  return {
    setup: c.setup,
    work: c.work,
    errors: c.errors,
    ...(c.argMaps ? { args: plain(c.argMaps) } : {}),
    ...(c.workArgMaps ? { workArgs: plain(c.workArgMaps) } : {}),
    // in key order: engines meet the same values in different orders
    ...(c.comboMaps ? { combos: inKeyOrder(c.comboMaps) } : {}),
    ...(c.workComboMaps ? { workCombos: inKeyOrder(c.workComboMaps) } : {}),
  };
}
/** Adds counter b into a (argument values included). */
export function addCounter(a: Counter, b: Counter): void {
  a.setup += b.setup;
  a.work += b.work;
  a.errors += b.errors;
  const merge = (into: Map<number, Map<string, number>>, from: Map<number, Map<string, number>>) => {
    for (const [i, vals] of from) for (const [v, n] of vals) bump(into, i, v, n);
  };
  if (b.argMaps) {
    a.argMaps ??= new Map();
    merge(a.argMaps, b.argMaps);
  }
  if (b.workArgMaps) {
    a.workArgMaps ??= new Map();
    merge(a.workArgMaps, b.workArgMaps);
  }
  const sum = (into: Map<string, number>, from: Map<string, number>) => {
    for (const [k, n] of from) tally(into, k, n);
  };
  if (b.comboMaps) {
    a.comboMaps ??= new Map();
    sum(a.comboMaps, b.comboMaps);
  }
  if (b.workComboMaps) {
    a.workComboMaps ??= new Map();
    sum(a.workComboMaps, b.workComboMaps);
  }
}

/** Adds every counter of `from` into `into` (by syscall name), made on first use. */
export function addCounters(into: Map<string, Counter>, from: ReadonlyMap<string, Counter>): void {
  for (const [name, c] of from) {
    let sum = into.get(name);
    if (!sum) {
      sum = { setup: 0, work: 0, errors: 0 };
      into.set(name, sum);
    }
    addCounter(sum, c);
  }
}
