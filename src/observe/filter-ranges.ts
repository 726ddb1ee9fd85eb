// Naming what a filter diff found: architectures, syscall number ranges and argument ranges, from the
// intervals of seccomp_data words bpf/explore.ts splits the input space into; adjacent ranges merged. Pure.
import { WORDS } from "../bpf/explore.js";
import { ARCHES, type ArchName } from "../syscalls/arches.js";
import { syscallName } from "../syscalls/table.js";

/** An inclusive interval of one seccomp_data word. */
export type Range = [number, number];

const hex = (v: number) => (v < 4096 ? String(v) : `0x${v.toString(16)}`);
const hex64 = (v: bigint) => (v < 4096n ? String(v) : `0x${v.toString(16)}`);

export function archName(audit: number): { name: string; info?: (typeof ARCHES)[ArchName] } {
  const info = Object.values(ARCHES).find((a) => a.audit === audit && a.nrBase === 0);
  return info ? { name: info.name, info } : { name: `other architecture (0x${audit.toString(16)})` };
}

export function callName(audit: number, nr: Range): string {
  const arches = Object.values(ARCHES).filter((a) => a.audit === audit);
  const named = (n: number) => {
    for (const a of arches) {
      const s = syscallName(a.name, n);
      if (s) return a.nrBase && n >= a.nrBase ? `${a.name} ${s}` : s;
    }
    return undefined;
  };
  if (nr[0] === nr[1]) return named(nr[0]) ?? `nr ${nr[0]}`;
  return `nr ${nr[0]}–${nr[1]}${named(nr[0]) ? ` (${named(nr[0])} onwards)` : ""}`;
}

/** Words 2–15 as "argN …" descriptions for an arch's byte order. */
export function argRanges(r: Range[], littleEndian: boolean): string[] {
  const out: string[] = [];
  const full = (x: Range) => x[0] === 0 && x[1] === 0xffffffff;
  for (let i = -1; i < 6; i++) {
    const base = i < 0 ? 2 : 4 + 2 * i;
    const [lo, hi] = littleEndian ? [r[base], r[base + 1]] : [r[base + 1], r[base]];
    const name = i < 0 ? "ip" : `arg${i}`;
    if (full(lo) && full(hi)) continue;
    if (full(hi)) {
      // compared on the low word only (an int argument: the kernel's view is its low 32 bits)
      out.push(
        `${name} (low 32 bits) ${lo[0] === lo[1] ? `== ${hex(lo[0])}` : `in ${hex(lo[0])}…${hex(lo[1])}`}`,
      );
      continue;
    }
    const join = (h: number, l: number) => (BigInt(h) << 32n) | BigInt(l);
    let a: bigint | undefined;
    let b: bigint | undefined;
    if (hi[0] === hi[1]) [a, b] = [join(hi[0], lo[0]), join(hi[0], lo[1])];
    else if (full(lo)) [a, b] = [join(hi[0], 0), join(hi[1], 0xffffffff)];
    if (a !== undefined && b !== undefined)
      out.push(a === b ? `${name} == ${hex64(a)}` : `${name} in ${hex64(a)}…${hex64(b)}`);
    else
      out.push(
        `${name} high word in ${hex(hi[0])}…${hex(hi[1])} and low word in ${hex(lo[0])}…${hex(lo[1])}`,
      );
  }
  return out;
}

/** The interval of `v` in a sorted list of interval starts. */
export function rangeOf(sorted: readonly number[], v: number): Range {
  const i = sorted.indexOf(v);
  return [v, i + 1 < sorted.length ? sorted[i + 1] - 1 : 0xffffffff];
}

export interface RawDiff {
  audit: number;
  dims: Range[]; // 0: nr, 2–15: words (1 unused)
  old: number;
  new: number;
}

/** Merges differences that differ only in one dimension's adjacent ranges. */
export function mergeAdjacent(list: RawDiff[]): RawDiff[] {
  let cur = list;
  for (const d of [0, ...Array.from({ length: WORDS - 2 }, (_, i) => i + 2)]) {
    const groups = new Map<string, RawDiff[]>();
    for (const x of cur) {
      const k = `${x.audit}|${x.old}|${x.new}|${x.dims.map((r, j) => (j === d ? "*" : r.join("-"))).join(",")}`;
      groups.set(k, [...(groups.get(k) ?? []), x]);
    }
    cur = [];
    for (const g of groups.values()) {
      g.sort((x, y) => x.dims[d][0] - y.dims[d][0]);
      let last: RawDiff | undefined;
      for (const x of g) {
        if (last && last.dims[d][1] + 1 === x.dims[d][0]) last.dims[d] = [last.dims[d][0], x.dims[d][1]];
        else {
          last = { ...x, dims: x.dims.map((r) => [...r] as Range) };
          cur.push(last);
        }
      }
    }
  }
  return cur;
}
