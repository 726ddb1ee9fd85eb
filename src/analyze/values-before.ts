// What a register holds before an instruction, found by scanning back over the decoded code of one function
// and the jumps into it (facts.ts uses it for syscall numbers and wrapper arguments).
import {
  type IsaInfo,
  type JumpIndex,
  K_CALL,
  K_ICALL,
  K_IJMP,
  K_JMP,
  K_MOVI,
  K_MOVR,
  K_NOP,
  K_RET,
  K_SYSCALL,
  K_ZERO,
  type OpStream,
  SLOT0,
  SLOTS,
  STACK_PARAM,
} from "./ops.js";
import { X86_64, X86_64_GO } from "./x86.js";

/** Binary search: the index of the last element ≤ x, or -1. */
export function floorIndex(sorted: ArrayLike<number>, x: number, n = sorted.length): number {
  let lo = 0;
  let hi = n - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

const MAX_STEPS = 400;

// Scratch state of valuesBefore, reused across calls (it runs for every syscall site and every argument
// register of every import call, so per-call Sets and tuple arrays were most of an uncached analysis):
// the (instruction, register) pairs examined, an open-addressing set cleared by bumping a stamp; and the
// work stack as flat (instruction, register) pairs.
const SEEN_SIZE = 4096; // > 8 × (MAX_STEPS + 1): the table stays sparse
const seenKey = new Int32Array(SEEN_SIZE);
const seenStamp = new Uint32Array(SEEN_SIZE);
let stamp = 0;
let WORK = new Int32Array(256);

/** Empties the seen set. */
function clearSeen(): void {
  if (++stamp === 0xffffffff) {
    seenStamp.fill(0);
    stamp = 1;
  }
}

/** Adds a key to the seen set; whether it was new. */
function addSeen(key: number): boolean {
  let h = Math.imul(key, 0x9e3779b1) >>> 20; // 12 bits: SEEN_SIZE
  for (;;) {
    if (seenStamp[h] !== stamp) {
      seenStamp[h] = stamp;
      seenKey[h] = key;
      return true;
    }
    if (seenKey[h] === key) return false;
    h = (h + 1) & (SEEN_SIZE - 1);
  }
}

function growWork(need: number): Int32Array {
  const grown = new Int32Array(Math.max(need, WORK.length * 2));
  grown.set(WORK);
  WORK = grown;
  return grown;
}

/** The parameter a register holds at a function's entry: an argument register, or a stack slot above the return address. */
function paramOf(isa: IsaInfo, r: number): number {
  const k = isa.argRegs.indexOf(r);
  if (k >= 0) return k;
  if (isa === X86_64 || isa === X86_64_GO) {
    if (r > SLOT0 && r < SLOT0 + SLOTS) return STACK_PARAM + (r - SLOT0 - 1);
  }
  return -1;
}

/**
 * Where the caller has parameter k at the call: a register, or its [rsp+8(k-10)] — one slot higher at a
 * tail jump, which pushes no return address.
 */
export function argRegister(isa: IsaInfo, k: number, tail = false): number {
  return k >= STACK_PARAM ? SLOT0 + (k - STACK_PARAM) + (tail ? 1 : 0) : isa.argRegs[k];
}

/**
 * How much of the answer a caller needs. ALL: every value, even when some path is unknown (syscall sites).
 * UNLESS_UNKNOWN: nothing once a path is unknown — the scan stops there. ONE_CONSTANT: only whether it is one
 * constant — the scan stops, reporting unknown, at an unknown path, a parameter or a second value.
 */
export const ALL = 0;
export const UNLESS_UNKNOWN = 1;
export const ONE_CONSTANT = 2;

/** What valuesBefore found: constants, the parameters the value came in, and whether some path is unknown. */
export interface Values {
  values: Set<number>;
  params: Set<number>;
  unknown: boolean;
}

// valuesBefore's answer, reused: it runs hundreds of thousands of times per large library (every argument
// register of every import call), and two Sets per call were much of an uncached analysis's garbage
const RESULT: Values = { values: new Set(), params: new Set(), unknown: false };

/** RESULT, emptied (Set.prototype.clear allocates a new table even for an empty set: only when not empty). */
function emptyResult(): Values {
  if (RESULT.values.size > 0) RESULT.values.clear();
  if (RESULT.params.size > 0) RESULT.params.clear();
  return RESULT;
}

/**
 * The values register `reg` can hold just before instruction `at`, scanning back within the function that
 * starts at instruction `first`: constants, argument registers the value came in (params), or unknown.
 * The answer is one shared object, valid until the next call: read it before calling again.
 */
export function valuesBefore(
  s: OpStream,
  isa: IsaInfo,
  preds: JumpIndex,
  first: number,
  at: number,
  reg: number,
  need = ALL,
): Values {
  const { values, params } = emptyResult();
  let unknown = false;
  const { start, from } = preds;
  clearSeen();
  let work: Int32Array = WORK;
  let top = 0;
  work[top++] = at - 1;
  work[top++] = reg;
  let steps = 0;
  // an instruction index i is examined for register r; then its predecessors
  while (top > 0) {
    // a path just ended: stop when the caller's answer can no longer change
    if (need !== ALL && (unknown || (need === ONE_CONSTANT && (params.size > 0 || values.size > 1)))) {
      unknown = true;
      break;
    }
    let r = work[--top];
    let i = work[--top];
    for (;;) {
      if (i < first) {
        const k = paramOf(isa, r);
        if (k >= 0) params.add(k);
        else unknown = true;
        break;
      }
      if (!addSeen(i * 32 + r)) break;
      if (++steps > MAX_STEPS) {
        unknown = true;
        break;
      }
      const kind = s.kind[i];
      if (kind === K_MOVI && s.reg[i] === r) {
        values.add(s.val[i]);
        break;
      }
      if (kind === K_ZERO && s.reg[i] === r) {
        values.add(0);
        break;
      }
      if (kind === K_MOVR && s.reg[i] === r) r = s.reg2[i];
      else if (s.wmask[i] & (1 << r)) {
        unknown = true;
        break;
      } else if ((kind === K_CALL || kind === K_ICALL) && isa.callerSaved & (1 << r)) {
        unknown = true;
        break;
      } else if (kind === K_SYSCALL && isa.syscallClobbers & (1 << r)) {
        unknown = true;
        break;
      }
      // predecessors: jumps to here, and the fall-through from the instruction before
      const p0 = start[i];
      const p1 = start[i + 1];
      for (let p = p0; p < p1; p++) {
        const j = from[p];
        if (j < first) continue;
        if (top + 2 > work.length) work = growWork(top + 2);
        work[top++] = j;
        work[top++] = r;
      }
      if (i === first) {
        const k = paramOf(isa, r);
        if (k >= 0) params.add(k);
        else unknown = true;
        break;
      }
      const prev = s.kind[i - 1];
      if (prev === K_JMP || prev === K_RET || prev === K_IJMP) {
        // a block no jump we decoded leads to: alignment padding (dead), or a jump-table target whose
        // entry value is not known
        if (p0 === p1 && s.kind[i] !== K_NOP) unknown = true;
        break;
      }
      i--;
    }
  }
  RESULT.unknown = unknown;
  return RESULT;
}

// argConstants' answer, reused (one per import call was garbage unless some argument was a constant)
const ARGS: (number | null)[] = [];

/**
 * The constant in each argument register before a call (null when not one known constant). The answer is
 * one shared array, valid until the next call: copy it to keep it.
 */
export function argConstants(
  s: OpStream,
  isa: IsaInfo,
  preds: JumpIndex,
  first: number,
  at: number,
): (number | null)[] {
  const regs = isa.argRegs;
  ARGS.length = regs.length;
  for (let k = 0; k < regs.length; k++) {
    const v = valuesBefore(s, isa, preds, first, at, regs[k], ONE_CONSTANT);
    let c: number | null = null;
    if (!v.unknown && v.params.size === 0 && v.values.size === 1) for (const x of v.values) c = x;
    ARGS[k] = c;
  }
  return ARGS;
}
