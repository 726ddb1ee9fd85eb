import * as O from "../abi/opcodes.js";
import type { Assembler } from "../bpf/assembler.js";
import type { SyscallDecision } from "../policy/resolve.js";

/** What a range of syscall numbers leads to: a return, or an argument-checking block for one syscall. */
export type Leaf = { kind: "ret"; value: number } | { kind: "args"; decision: SyscallDecision };

/** A half-open range of syscall numbers [start, next interval's start) with one leaf. */
export interface Interval {
  start: number;
  leaf: Leaf;
}

const sameLeaf = (a: Leaf, b: Leaf) => a.kind === "ret" && b.kind === "ret" && a.value === b.value;

/**
 * Partitions the whole unsigned 32-bit number space into intervals, so every number has a defined leaf.
 * `segments` are disjoint [lo, hi) ranges with a filler leaf for numbers no decision names.
 */
export function buildIntervals(
  segments: { lo: number; hi: number; filler: Leaf; decisions: { nr: number; leaf: Leaf }[] }[],
): Interval[] {
  const out: Interval[] = [];
  const push = (start: number, leaf: Leaf) => {
    const last = out[out.length - 1];
    if (last && sameLeaf(last.leaf, leaf)) return;
    out.push({ start, leaf });
  };
  for (const seg of segments.sort((a, b) => a.lo - b.lo)) {
    let cur = seg.lo;
    for (const d of seg.decisions
      .filter((x) => x.nr >= seg.lo && x.nr < seg.hi)
      .sort((a, b) => a.nr - b.nr)) {
      if (d.nr > cur) push(cur, seg.filler);
      push(d.nr, d.leaf);
      cur = d.nr + 1;
    }
    if (cur < seg.hi) push(cur, seg.filler);
  }
  return out;
}

/**
 * Emits a balanced binary search over the intervals (A holds the syscall number). Each comparison halves
 * the candidates, so a decision costs about log2(intervals) jumps; leaves are emitted in place.
 */
export function emitSearch(asm: Assembler, intervals: Interval[], emitLeaf: (leaf: Leaf) => void): void {
  const rec = (lo: number, hi: number) => {
    if (hi - lo === 1) {
      emitLeaf(intervals[lo].leaf);
      return;
    }
    const mid = (lo + hi) >>> 1;
    const left = asm.newLabel("lt");
    const right = asm.newLabel("ge");
    asm.jump(O.BPF_JGE, intervals[mid].start, right, left);
    asm.label(left);
    rec(lo, mid);
    asm.label(right);
    rec(mid, hi);
  };
  rec(0, intervals.length);
}
