// Exhaustive comparison of seccomp filter stacks. Classic BPF has no loops, and a seccomp program sees
// only the 16 words of seccomp_data; every decision is made by comparing a word (or the word under a mask)
// with constants. When a word is compared only whole, with jeq/jgt/jge against constants, the decision is
// constant between consecutive "boundaries" (each constant c and c+1), so one value per interval stands for
// all. The exploration runs the programs, collects the constants each run compared with, adds their
// boundaries, and repeats until no run finds a new one: then every input takes the same path as the
// representative of its intervals, and the comparison is exact. Masked comparisons (and, jset) are sampled
// at the value, the value with one masked bit flipped and with every unmasked bit set: `exact` says when a
// cell relied on them. Pure.

import * as O from "../abi/opcodes.js";
import { SECCOMP_RET_ACTION_FULL } from "../abi/seccomp-data.js";
import { type EmulationResult, Emulator } from "./emulator.js";
import type { Insn } from "./insn.js";

const FULL = 0xffffffff;
/** seccomp_data words: 0 nr, 1 arch, 2–3 instruction pointer, 4–15 the six arguments. */
export const WORDS = 16;

/** One comparison a run made: word (under mask) against k. */
interface Compare {
  word: number;
  mask: number;
  jset: boolean;
  k: number;
}

/** Replays a run's instructions to name what each conditional jump compared. */
function comparisons(program: readonly Insn[], trace: readonly number[]): Compare[] {
  type Src = { word: number; mask: number } | undefined;
  let A: Src;
  let X: Src;
  const mem: Src[] = new Array(O.BPF_MEMWORDS).fill(undefined);
  const out: Compare[] = [];
  for (const pc of trace) {
    const { code, k } = program[pc];
    switch (code) {
      case O.BPF_LD | O.BPF_W | O.BPF_ABS:
        A = { word: k >>> 2, mask: FULL };
        continue;
      case O.BPF_LD | O.BPF_MEM:
        A = mem[k];
        continue;
      case O.BPF_LDX | O.BPF_MEM:
        X = mem[k];
        continue;
      case O.BPF_ST:
        mem[k] = A;
        continue;
      case O.BPF_STX:
        mem[k] = X;
        continue;
      case O.BPF_MISC | O.BPF_TAX:
        X = A;
        continue;
      case O.BPF_MISC | O.BPF_TXA:
        A = X;
        continue;
      case O.BPF_ALU | O.BPF_AND | O.BPF_K:
        if (A) A = { word: A.word, mask: (A.mask & k) >>> 0 };
        continue;
    }
    const klass = code & 0x07;
    if (klass === O.BPF_LD) A = undefined;
    else if (klass === O.BPF_LDX) X = undefined;
    else if (klass === O.BPF_ALU) A = undefined;
    else if (klass === O.BPF_JMP && (code & 0xf0) !== O.BPF_JA && A) {
      // a comparison with X is not followed: its run still counts, but no boundary comes from it
      if ((code & O.BPF_X) === O.BPF_X) out.push({ word: A.word, mask: 0, jset: true, k: 0 });
      else out.push({ word: A.word, mask: A.mask, jset: (code & 0xf0) === O.BPF_JSET, k: k >>> 0 });
    }
  }
  return out;
}

/** The values a comparison makes worth testing; `exact` when they are its boundaries. */
function candidates(c: Compare): { values: number[]; exact: boolean } {
  if (c.mask === FULL && !c.jset) return { values: c.k === FULL ? [c.k] : [c.k, c.k + 1], exact: true };
  const m = c.jset ? c.k : c.mask;
  const low = (m & -m) >>> 0;
  const v = c.jset ? c.k & c.mask : c.k;
  const values = [v >>> 0, (v ^ low) >>> 0, (v | ~m) >>> 0, m >>> 0];
  return { values, exact: false };
}

/** A stack of programs, newest last (the order they were installed). */
export type Stack = readonly (readonly Insn[])[];

/** The kernel's precedence over a stack: the lowest action as a signed value wins; a tie keeps the newest's. */
export function combine(values: readonly number[]): number {
  const action = (v: number) => (v & SECCOMP_RET_ACTION_FULL) | 0;
  let ret = values[values.length - 1];
  for (let i = values.length - 2; i >= 0; i--) if (action(values[i]) < action(ret)) ret = values[i];
  return ret >>> 0;
}

/** Runs a set of stacks on shared inputs, collecting the boundaries their runs compared with. */
export class Explorer {
  private readonly emus: Emulator[][];
  private readonly stacks: readonly Stack[];
  /** Boundaries found per word, over every run so far. */
  readonly found: Set<number>[] = Array.from({ length: WORDS }, () => new Set<number>());
  /** Words that were compared under a mask or with jset (their cells are sampled, not exhaustive). */
  readonly sampled = new Set<number>();

  constructor(stacks: readonly Stack[]) {
    this.stacks = stacks;
    this.emus = stacks.map((s) => s.map((p) => new Emulator(p)));
  }

  /**
   * Each stack's combined decision on these words, each filter's own, and the values worth testing that
   * these runs compared with (per word).
   */
  run(words: Uint32Array): { stacks: number[]; filters: number[][]; compared: Set<number>[] } {
    const compared: Set<number>[] = Array.from({ length: WORDS }, () => new Set<number>());
    const filters = this.emus.map((stack, s) =>
      stack.map((emu, f) => {
        const r: EmulationResult = emu.runWords(words, true);
        for (const c of comparisons(this.stacks[s][f], r.trace ?? [])) {
          const { values, exact } = candidates(c);
          if (!exact) this.sampled.add(c.word);
          for (const v of values) {
            compared[c.word].add(v >>> 0);
            this.found[c.word].add(v >>> 0);
          }
        }
        return r.value;
      }),
    );
    return { stacks: filters.map(combine), filters, compared };
  }
}

/** One cell of the argument space: a representative for each word (2–15), and the decisions there. */
export interface Cell {
  words: Uint32Array;
  stacks: number[];
  filters: number[][];
}

/**
 * Every cell for one (arch, nr): grows each argument word's values from what the runs compare with until
 * nothing new turns up, then one cell per combination of intervals (`sets`: each word's sorted interval
 * starts). Past `limit` cells `complete` is false and the cells are those tested.
 */
export function exploreCall(
  ex: Explorer,
  arch: number,
  nr: number,
  limit = 1 << 14,
): { cells: Cell[]; sets: number[][]; complete: boolean; nrs: Set<number>; arches: Set<number> } {
  const nrs = new Set<number>();
  const arches = new Set<number>();
  const sets: Set<number>[] = Array.from({ length: WORDS }, (_, w) => new Set<number>(w < 2 ? [] : [0]));
  const seen = new Map<string, Cell>();
  let complete = true;
  for (;;) {
    const lists = sets.map((s) => [...s].sort((a, b) => a - b));
    let size = 1;
    for (let w = 2; w < WORDS; w++) size *= lists[w].length;
    if (size > limit) {
      complete = false;
      break;
    }
    let grew = false;
    const idx = new Array(WORDS).fill(0);
    for (let n = 0; n < size; n++) {
      const words = new Uint32Array(WORDS);
      words[0] = nr;
      words[1] = arch;
      for (let w = 2; w < WORDS; w++) words[w] = lists[w][idx[w]];
      const key = words.slice(2).join(",");
      if (!seen.has(key)) {
        const r = ex.run(words);
        seen.set(key, { words, stacks: r.stacks, filters: r.filters });
        for (const v of r.compared[0]) nrs.add(v);
        for (const v of r.compared[1]) arches.add(v);
        for (let w = 2; w < WORDS; w++)
          for (const v of r.compared[w])
            if (!sets[w].has(v)) {
              sets[w].add(v);
              grew = true;
            }
      }
      for (let w = WORDS - 1; w >= 2; w--) {
        if (++idx[w] < lists[w].length) break;
        idx[w] = 0;
      }
    }
    if (!grew) break;
  }
  const lists = sets.map((s) => [...s].sort((a, b) => a - b));
  return { cells: [...seen.values()], sets: lists, complete, nrs, arches };
}
