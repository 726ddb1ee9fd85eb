// The semantic diff of seccomp filters: which (architecture, syscall, argument ranges) two sides — a
// policy, a raw BPF program, or a dumped process's filter stacks — decide differently, exhaustively
// (bpf/explore.ts). A stack is judged by its combined decision, as the kernel takes it. sysfence's own
// additions are named apart, never drift: the install canary prologue (install/canary.ts) is taken off
// each filter, and the exec guard `run` installs (install/run-policy.ts execGuardPolicy) stays in the stack
// — its one allowed execve (the launch's exact pointers) is listed as the guard's, not as a difference. Pure.

import { decodeActionValue } from "../abi/action.js";
import * as O from "../abi/opcodes.js";
import { OFF_ARCH, OFF_NR, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO } from "../abi/seccomp-data.js";
import { type Cell, combine, Explorer, exploreCall, type Stack, WORDS } from "../bpf/explore.js";
import type { Insn } from "../bpf/insn.js";
import { compile } from "../compile/compile.js";
import { SysfenceError } from "../errors.js";
import { CANARY_NR } from "../install/canary.js";
import { formatAction } from "../policy/actions.js";
import type { Policy } from "../policy/model.js";
import { ARCHES, nativeArch } from "../syscalls/arches.js";
import { syscallTable } from "../syscalls/table.js";
import type { Dump } from "./dump.js";
import {
  archName,
  argRanges,
  callName,
  mergeAdjacent,
  type Range,
  type RawDiff,
  rangeOf,
} from "./filter-ranges.js";

/** One filter of a side, oldest first in its stack. */
export interface SideFilter {
  index: number;
  program: Insn[];
  flags: string[];
  /** The errno of the install canary taken off its front. */
  canary?: number;
  /** The filter is `run`'s exec guard. */
  guard?: boolean;
}

/** One side of a filter diff: stacks of filters (a policy or a raw program is one stack of one). */
export interface FilterSide {
  name: string;
  stacks: { label: string; filters: SideFilter[] }[];
}

/** If the program starts with sysfence's canary prologue: the errno it answers and the rest. */
export function stripCanary(program: Insn[]): { program: Insn[]; errno?: number } {
  const p = program;
  const ld = O.BPF_LD | O.BPF_W | O.BPF_ABS;
  const jeq = O.BPF_JMP | O.BPF_JEQ | O.BPF_K;
  const ok =
    p.length > 6 &&
    p[0].code === ld &&
    p[0].k === OFF_ARCH &&
    p[1].code === jeq &&
    p[1].jt === 0 &&
    p[1].jf === 3 &&
    p[2].code === ld &&
    p[2].k === OFF_NR &&
    p[3].code === jeq &&
    p[3].k === CANARY_NR &&
    p[3].jt === 0 &&
    p[3].jf === 1 &&
    p[4].code === (O.BPF_RET | O.BPF_K) &&
    (p[4].k & 0xffff0000) >>> 0 === SECCOMP_RET_ERRNO &&
    p[5].code === (O.BPF_LD | O.BPF_IMM) &&
    p[5].k === 0;
  return ok ? { program: p.slice(6), errno: p[4].k & 0xffff } : { program };
}

/** True when the program allows every call but execve and execveat on every architecture: `run`'s guard. */
export function isExecGuard(program: readonly Insn[]): boolean {
  const ex = new Explorer([[program]]);
  const ask = (arch: number, nr: number) => {
    const words = new Uint32Array(WORDS);
    words[0] = nr;
    words[1] = arch;
    return ex.run(words).stacks[0];
  };
  if (ask(0, 0) !== SECCOMP_RET_ALLOW) return false;
  let guarded = 0;
  for (const a of Object.values(ARCHES))
    for (const [name, nr] of Object.entries(syscallTable(a.name))) {
      const exec = name === "execve" || name === "execveat";
      if ((ask(a.audit, nr) === SECCOMP_RET_ALLOW) === exec) {
        if (!exec) return false;
      } else if (exec) guarded++;
    }
  return guarded > 0;
}

const ALLOW_ALL: Insn[] = [{ code: O.BPF_RET | O.BPF_K, jt: 0, jf: 0, k: SECCOMP_RET_ALLOW }];

/** A policy as one stack: its program for every architecture it lists (this machine's when none). */
export function sideFromPolicy(policy: Policy, name: string): FilterSide {
  const architectures = policy.architectures.length ? policy.architectures : [nativeArch()];
  const program = compile({ ...policy, architectures }, { stats: false }).program;
  return { name, stacks: [{ label: name, filters: [{ index: 0, program, flags: [] }] }] };
}

/** A raw program (a canary prologue is taken off). */
export function sideFromProgram(program: Insn[], name: string): FilterSide {
  const s = stripCanary(program);
  return {
    name,
    stacks: [{ label: name, filters: [{ index: 0, program: s.program, flags: [], canary: s.errno }] }],
  };
}

/** A dump's distinct stacks, canaries taken off and the exec guard marked. */
export function sideFromDump(d: Dump, name: string): FilterSide {
  return {
    name,
    stacks: d.stacks.map((s) => ({
      label: `${name} ${s.tids.length === 1 ? `thread ${s.tids[0]}` : `threads ${s.tids.join(",")}`}`,
      filters: s.filters.map((f) => {
        const c = stripCanary(f.program);
        return {
          index: f.index,
          program: c.program,
          flags: f.flags,
          canary: c.errno,
          guard: isExecGuard(c.program),
        };
      }),
    })),
  };
}

/** One (arch, syscall, argument ranges) the sides decide differently. */
export interface Difference {
  arch: string;
  syscall: string;
  /** Argument ranges, e.g. "arg1 == 0x5401"; none: every value. */
  args: string[];
  old: string;
  new: string;
}

/** The result of a filter diff. */
export interface FilterDiff {
  differences: Difference[];
  /** sysfence's own additions (canary, exec guard) found on either side: not drift. */
  additions: string[];
  /** What was compared: stacks paired, architectures, syscall numbers and argument cells. */
  checked: { pairs: string[]; arches: string[]; numbers: number; cells: number };
  /** Syscalls whose programs compare an argument under a mask: tested at sample values, not exhaustively. */
  sampled: string[];
  /** Syscalls with more argument cells than the limit: only the first were compared. */
  incomplete: string[];
}

const text = (v: number) => formatAction(decodeActionValue(v));

/** sysfence's own additions (canary, exec guard) on either side, named: not drift. */
function sysfenceAdditions(a: FilterSide, b: FilterSide): string[] {
  const additions: string[] = [];
  for (const side of [a, b])
    for (const s of side.stacks)
      for (const f of s.filters) {
        if (f.canary !== undefined)
          additions.push(
            `${s.label} filter ${f.index}: sysfence's install canary (answers nr ${CANARY_NR} with errno ${f.canary}; taken off before comparing)`,
          );
        if (f.guard)
          additions.push(
            `${s.label} filter ${f.index}: sysfence run's exec guard (every execve and execveat answered as the policy's execve, but the launch's own)`,
          );
      }
  return additions;
}

/** One pair of stacks being compared, architecture by architecture. */
interface PairCompare {
  ex: Explorer;
  /** each side's exec guard filter index (-1: none) */
  guards: number[];
  limit: number;
  result: FilterDiff;
  archesSeen: Set<string>;
  raw: RawDiff[];
  guardHits: string[];
  archQueue: number[];
  archDone: Set<number>;
}

/** Explores every syscall number of an audit arch (and the numbers and arches the programs compare with). */
function exploreArch(pc: PairCompare, audit: number) {
  const { ex, limit, archQueue, archDone } = pc;
  const nrs = new Set<number>([0]);
  for (const arch of Object.values(ARCHES).filter((x) => x.audit === audit))
    for (const nr of Object.values(syscallTable(arch.name))) nrs.add(nr);
  const queue = [...nrs];
  const results = new Map<number, ReturnType<typeof exploreCall>>();
  const sampled = new Set<number>();
  while (queue.length) {
    const nr = queue.shift() as number;
    if (results.has(nr)) continue;
    ex.sampled.clear();
    const r = exploreCall(ex, audit, nr, limit);
    results.set(nr, r);
    if ([...ex.sampled].some((w) => w >= 2)) sampled.add(nr);
    for (const v of r.nrs)
      if (!nrs.has(v)) {
        nrs.add(v);
        queue.push(v);
      }
    for (const v of r.arches) if (!archDone.has(v)) archQueue.push(v);
  }
  return { results, sampled, nrList: [...nrs].sort((x, y) => x - y) };
}

/** The cells of an arch where the two stacks answer differently: the exec guard's, or raw differences. */
function differingCells(pc: PairCompare, audit: number, explored: ReturnType<typeof exploreArch>): void {
  const { result, guards } = pc;
  const { results, sampled, nrList } = explored;
  const { name: archText, info } = archName(audit);
  pc.archesSeen.add(info ? archText : "every other architecture value");
  for (const [nr, r] of results) {
    result.checked.numbers++;
    result.checked.cells += r.cells.length;
    const nrRange = rangeOf(nrList, nr);
    const call = () => `${archText} ${callName(audit, nrRange)}`;
    if (!r.complete) result.incomplete.push(call());
    if (sampled.has(nr) && !result.sampled.includes(call())) result.sampled.push(call());
    for (const c of r.cells) {
      if (c.stacks[0] === c.stacks[1]) continue;
      const dims: Range[] = [nrRange, [0, 0]];
      for (let w = 2; w < WORDS; w++) dims.push(rangeOf(r.sets[w], c.words[w]));
      if (isGuardCell(c, guards, callName(audit, nrRange))) {
        pc.guardHits.push(
          `${archText} ${callName(audit, nrRange)}(${argRanges(dims, info?.littleEndian ?? true).join(", ")}): ${text(c.stacks[0])} → ${text(c.stacks[1])}`,
        );
        continue;
      }
      pc.raw.push({ audit, dims, old: c.stacks[0], new: c.stacks[1] });
    }
  }
}

/** Compares stack sa with stack sb over every arch either reaches; adds their differences to the result. */
function comparePair(
  sa: FilterSide["stacks"][number],
  sb: FilterSide["stacks"][number],
  limit: number,
  result: FilterDiff,
  seenDiff: Set<string>,
  archesSeen: Set<string>,
): void {
  result.checked.pairs.push(`${sa.label} ↔ ${sb.label}`);
  const stack = (fs: SideFilter[]): Stack => (fs.length ? fs.map((f) => f.program) : [ALLOW_ALL]);
  const pc: PairCompare = {
    ex: new Explorer([stack(sa.filters), stack(sb.filters)]),
    guards: [sa.filters.findIndex((f) => f.guard), sb.filters.findIndex((f) => f.guard)],
    limit,
    result,
    archesSeen,
    raw: [],
    guardHits: [],
    archQueue: [0],
    archDone: new Set<number>(),
  };
  while (pc.archQueue.length) {
    const audit = pc.archQueue.shift() as number;
    if (pc.archDone.has(audit)) continue;
    pc.archDone.add(audit);
    differingCells(pc, audit, exploreArch(pc, audit));
  }
  for (const g of pc.guardHits) result.additions.push(`the exec guard's answer (not drift): ${g}`);
  for (const d of mergeAdjacent(pc.raw)) {
    const { name: archText, info } = archName(d.audit);
    const diff: Difference = {
      arch: archText,
      syscall: callName(d.audit, d.dims[0]),
      args: argRanges(d.dims, info?.littleEndian ?? true),
      old: text(d.old),
      new: text(d.new),
    };
    const key = JSON.stringify(diff);
    if (!seenDiff.has(key)) {
      seenDiff.add(key);
      result.differences.push(diff);
    }
  }
}

/** Compares two sides exhaustively (see the file's head). */
export function diffFilters(a: FilterSide, b: FilterSide, limit = 1 << 14): FilterDiff {
  const additions = sysfenceAdditions(a, b);
  if (a.stacks.length > 1 && b.stacks.length > 1)
    throw new SysfenceError(
      "E_USAGE",
      `both sides have several filter stacks (${a.stacks.length} and ${b.stacks.length}); compare one side with a policy or a single program.`,
    );
  const pairs: [number, number][] = [];
  for (let i = 0; i < a.stacks.length; i++) for (let j = 0; j < b.stacks.length; j++) pairs.push([i, j]);
  const result: FilterDiff = {
    differences: [],
    additions,
    checked: { pairs: [], arches: [], numbers: 0, cells: 0 },
    sampled: [],
    incomplete: [],
  };
  const seenDiff = new Set<string>();
  const archesSeen = new Set<string>();
  for (const [i, j] of pairs) comparePair(a.stacks[i], b.stacks[j], limit, result, seenDiff, archesSeen);
  result.checked.arches = [...archesSeen];
  return result;
}

/**
 * A difference the exec guard makes: its one allowed execve (the launch's exact pointers, where `run`'s main
 * filter allows execve), or one where, without the guard filter, the side's stack would decide as the other
 * side does (execveat, which the guard answers as the policy's execve).
 */
function isGuardCell(c: Cell, guards: number[], call: string): boolean {
  return guards.some((g, side) => {
    if (g < 0) return false;
    if (call === "execve" && c.filters[side][g] === SECCOMP_RET_ALLOW) return true;
    const rest = c.filters[side].filter((_, i) => i !== g);
    return (rest.length ? combine(rest) : SECCOMP_RET_ALLOW) === c.stacks[1 - side];
  });
}
