// The ISA-neutral view of machine code the analysis works on: one entry per instruction, in address
// order, saying only what matters for "which syscall numbers can reach a syscall instruction": control
// flow, constants moved into registers, registers overwritten, and addresses referenced. The x86 decoder
// (x86.ts, x86/) and the aarch64 decoder both produce it.

export const K_OTHER = 0;
export const K_SYSCALL = 1;
export const K_CALL = 2;
export const K_JMP = 3;
export const K_JCC = 4;
export const K_RET = 5; // no fall-through: ret, hlt, ud2
export const K_ICALL = 6;
export const K_IJMP = 7;
export const K_MOVI = 8; // reg = imm
export const K_MOVR = 9; // reg = reg2
export const K_ZERO = 10; // reg = 0
export const K_NOP = 11; // padding

/** Register numbers: x86 families 0–15 (rax…r15), aarch64 x0–x30; 255: none. */
export const NO_REG = 255;

export interface OpStream {
  n: number;
  addr: Float64Array;
  kind: Uint8Array;
  reg: Uint8Array;
  reg2: Uint8Array;
  /** Immediate (MOVI) or branch target (CALL, JMP, JCC); NaN when none. */
  val: Float64Array;
  /** An address the instruction references (rip/pc-relative memory operand, lea, adrp+add); NaN when none. */
  ref: Float64Array;
  /** Registers written with an unknown value (bit per register). */
  wmask: Uint32Array;
}

/**
 * Jumps by target instruction, as two flat lists (a Map from address to a list per target, and a lookup by
 * address at every step of every backward scan, were much of an uncached analysis): the jumps (and
 * branches) to instruction t are from[start[t]] … from[start[t + 1] - 1], in stream order. A jump whose
 * target is no instruction's address is in no list (no scan steps onto it).
 */
export interface JumpIndex {
  start: Int32Array;
  from: Int32Array;
}

/**
 * x86_64 stack slots as pseudo-registers: [rsp+8k] for k = 0…15 is register SLOT0 + k. At a function's
 * entry [rsp] holds the return address, so [rsp+8] is the first stack argument (Go's ABI0 passes every
 * argument there). Anything that moves rsp forgets them.
 */
export const SLOT0 = 16;
export const SLOTS = 16;
export const SLOT_MASK = 0xffff0000; // bits SLOT0 … SLOT0 + SLOTS - 1
/** Parameter numbers from 10 on are stack arguments: 10 is [rsp+8] at entry, 11 [rsp+16], … */
export const STACK_PARAM = 10;

/** What an ISA tells the analysis. */
export interface IsaInfo {
  /** The register holding the syscall number. */
  nrReg: number;
  /** Argument registers in order. */
  argRegs: number[];
  /** Registers a call may change. */
  callerSaved: number;
  /** Registers the syscall instruction changes. */
  syscallClobbers: number;
}

/**
 * Room for the instructions of `bytes` bytes of x86_64 code: about 3.5 bytes each (libraries average 3.7–4.4
 * bytes an instruction), so a stream sized by it is seldom grown.
 */
export function x86Capacity(bytes: number): number {
  return 16 + Math.ceil(bytes / 3.5);
}

export function newStream(capacity: number): OpStream {
  return withCapacity(capacity, 0);
}

// One stream kept between objects by the thread building their facts (objectFacts: decodeCode takes it,
// objectFacts gives it back when done): a large library's stream is tens of megabytes, and allocating a
// new one per object — zeroed pages faulted in, then filled — was ~6% of an uncached analysis
let spare: OpStream | undefined;
/** How many of the spare's entries were written (from the start): emptied when it is taken again. */
let spareUsed = 0;

/**
 * An empty stream with room for at least `capacity` entries: the one given back last when it is large
 * enough (its written entries emptied), else a new one. Its taker owns it until giving it back.
 */
export function takeStream(capacity: number): OpStream {
  const s = spare;
  // too small: twice as large at least (objects come in no order of size — analyzeAsync's own thread takes
  // the smallest waiting first — and one new stream per larger object was most of what keeping one saved)
  if (!s) return newStream(capacity);
  if (s.addr.length < capacity) return newStream(Math.max(capacity, 2 * s.addr.length));
  spare = undefined;
  const used = spareUsed;
  s.n = 0;
  s.kind.fill(0, 0, used);
  s.reg.fill(NO_REG, 0, used);
  s.reg2.fill(NO_REG, 0, used);
  s.val.fill(Number.NaN, 0, used);
  s.ref.fill(Number.NaN, 0, used);
  s.wmask.fill(0, 0, used);
  return s;
}

/** Gives a stream back for takeStream (kept when it is the largest seen); its taker no longer reads it. */
export function giveBackStream(s: OpStream): void {
  if (spare && spare.addr.length >= s.addr.length) return;
  spare = s;
  spareUsed = s.n;
}

/** Drops the kept stream (an analysis ends: its memory is not held past it). */
export function dropSpareStream(): void {
  spare = undefined;
}

/** A stream of `capacity` entries whose entries from `from` on are empty (the ones before are to be copied in). */
function withCapacity(capacity: number, from: number): OpStream {
  return {
    n: 0,
    addr: new Float64Array(capacity),
    kind: new Uint8Array(capacity),
    reg: new Uint8Array(capacity).fill(NO_REG, from),
    reg2: new Uint8Array(capacity).fill(NO_REG, from),
    val: new Float64Array(capacity).fill(Number.NaN, from),
    ref: new Float64Array(capacity).fill(Number.NaN, from),
    wmask: new Uint32Array(capacity),
  };
}

/** A stream with room for `extra` more instructions (copying when full). */
export function ensureRoom(s: OpStream, extra: number): OpStream {
  if (s.n + extra <= s.addr.length) return s;
  return reserve(s, Math.max(s.addr.length * 2, s.n + extra));
}

/**
 * A stream of exactly `capacity` entries holding s's instructions (s itself when it has that many or more).
 * Only the new entries are filled empty: the copied ones are overwritten.
 */
export function reserve(s: OpStream, capacity: number): OpStream {
  if (capacity <= s.addr.length) return s;
  const grown = withCapacity(capacity, s.n);
  grown.n = s.n;
  grown.addr.set(s.addr.subarray(0, s.n));
  grown.kind.set(s.kind.subarray(0, s.n));
  grown.reg.set(s.reg.subarray(0, s.n));
  grown.reg2.set(s.reg2.subarray(0, s.n));
  grown.val.set(s.val.subarray(0, s.n));
  grown.ref.set(s.ref.subarray(0, s.n));
  grown.wmask.set(s.wmask.subarray(0, s.n));
  return grown;
}
