// The bytes after the opcode: the memory operand (SIB, displacement), the immediate, and the first two
// operands resolved to registers (family 0–15, 255 for one that is not general) or memory.
import { insn, st, u8 } from "./decode-state.js";
import {
  BOTH,
  type Entry,
  FC_XBEGIN,
  I_B,
  I_BB,
  I_D,
  I_ENTER,
  I_J8,
  I_J32,
  I_MOFFS,
  I_V,
  I_W,
  I_Z,
  LOCK,
  MOV,
  O_E,
  O_EX,
  O_FIX,
  O_G,
  O_I,
  O_IM,
  O_M,
  O_V,
  O_Z,
  W_B,
  W_D,
  W_D64,
  W_Q,
  W_V,
  W_W,
  W_Y,
  XS,
} from "./spec.js";

const TWO32 = 4294967296;
const TWO64 = 2 ** 64;

/** A signed little-endian value of n bytes (1, 2, 3, 4 or 8). */
function sread(n: number): number {
  const c = st.code;
  const p = st.p;
  if (p + n <= st.end) {
    if (n === 1) {
      st.p = p + 1;
      return (c[p] << 24) >> 24;
    }
    if (n === 4) {
      st.p = p + 4;
      return c[p] | (c[p + 1] << 8) | (c[p + 2] << 16) | (c[p + 3] << 24);
    }
  }
  if (n === 8) {
    const lo = sread(4) >>> 0;
    return lo + sread(4) * TWO32;
  }
  let v = 0;
  for (let k = 0; k < n; k++) v += u8() * 2 ** (8 * k);
  const top = 2 ** (8 * n);
  return v >= top / 2 ? v - top : v;
}

/** Reads what follows the opcode (and ModRM) and fills insn; false when the encoding is invalid. */
export function operands(ent: Entry, ip: number, pos: number, opByte: number): boolean {
  const m = st.modrm;
  const mod = m >> 6;
  let rip = false;
  if (ent.modrm) {
    if (mod !== 3 && ent.mod === "R") return false;
    if (mod === 3 && ent.mod === "M") return false;
    if (mod !== 3 && ent.mod !== "N") rip = memory(m);
    st.rmReg = mod === 3 || ent.mod === "N";
  }
  const immKind = ent.imm;
  let imm = 0;
  let rel = Number.NaN;
  if (immKind === I_J8) rel = sread(1);
  else if (immKind === I_J32) rel = sread((ent.sem & 15) === FC_XBEGIN && st.o16 ? 2 : 4);
  else if (immKind !== 0) {
    insn.imm32 = -1;
    imm = immediate(immKind);
    if (insn.imm32 < 0) insn.imm32 = imm >>> 0;
  }
  if (st.over) return true;
  if (st.lock && (!(ent.sem & LOCK) || mod === 3 || !ent.modrm)) return false;
  const next = ip + (st.p - pos);
  if (rip) insn.ref = st.a32 ? (((next + insn.mdisp) % TWO32) + TWO32) % TWO32 : wrap64(next + insn.mdisp);
  if (!Number.isNaN(rel)) insn.target = wrap64(next + rel);
  const w = st.w;
  resolve(ent.op0, m, opByte, w, 0);
  // the second operand matters only to mov, xor/sub (zeroing) and xchg/xadd
  if (ent.sem & (MOV | XS | BOTH)) resolve(ent.op1, m, opByte, w, 1);
  if (insn.o1k === 9) {
    const wide = immKind === I_V || immKind === I_Z ? w || !st.o16 : false;
    insn.o1k = wide ? 3 : 4;
    insn.imm = imm;
  }
  return true;
}

const wrap64 = (v: number) => (v < 0 ? v + TWO64 : v);

/** The immediate's bytes; mov's value as iced reads it unsigned (64-bit when sign-extended to 64). */
function immediate(kind: number): number {
  switch (kind) {
    case I_B:
      return u8();
    case I_W:
    case I_BB:
      return sread(2);
    case I_ENTER:
      return sread(3);
    case I_D:
      return sread(4);
    case I_Z:
      if (!st.w && st.o16) return sread(2);
      if (st.w) {
        const v = sread(4);
        insn.imm32 = v >>> 0;
        return wrap64(v);
      }
      return sread(4) >>> 0;
    case I_V: {
      if (st.w) {
        const lo = sread(4) >>> 0;
        insn.imm32 = lo;
        return lo + (sread(4) >>> 0) * TWO32;
      }
      return st.o16 ? sread(2) : sread(4) >>> 0;
    }
    case I_MOFFS:
      return st.a32 ? sread(4) : sread(8);
    default:
      return 0;
  }
}

/** The memory operand after a ModRM byte (mod ≠ 3); true when it is rip-relative. */
function memory(m: number): boolean {
  const mod = m >> 6;
  const rm = m & 7;
  const rex = st.rex;
  let base = -1;
  let rip = false;
  let disp = 0;
  if (rm === 4) {
    const sib = u8();
    const b = sib & 7;
    insn.mindex = (((sib >> 3) & 7) | ((rex & 2) << 2)) !== 4;
    if (b === 5 && mod === 0) disp = sread(4);
    else base = b | ((rex & 1) << 3);
  } else if (rm === 5 && mod === 0) {
    rip = true;
    disp = sread(4);
  } else base = rm | ((rex & 1) << 3);
  if (mod === 1) disp = sread(1);
  else if (mod === 2) disp = sread(4);
  insn.mbase = base < 0 || st.a32 ? 16 : base;
  insn.mdisp = disp;
  return rip;
}

function width(wc: number, w: boolean): number {
  switch (wc) {
    case W_B:
      return 8;
    case W_W:
      return 16;
    case W_D:
      return 32;
    case W_Q:
      return 64;
    case W_V:
      return w ? 64 : st.o16 ? 16 : 32;
    case W_Y:
      return w ? 64 : 32;
    case W_D64:
      return st.o16 && !w ? 16 : 64;
    default:
      return 0;
  }
}

/** Fills operand `k` (0 or 1) of insn from its table code. */
function resolve(code: number, m: number, opByte: number, w: boolean, k: number): void {
  const where = code & 15;
  let kind = 0;
  let reg = 255;
  let n = -1;
  switch (where) {
    case O_E:
    case O_EX:
      if (st.rmReg) {
        kind = 1;
        if (where === O_E) n = (m & 7) | ((st.rex & 1) << 3);
      } else kind = 2;
      break;
    case O_G:
      kind = 1;
      n = ((m >> 3) & 7) | ((st.rex & 4) << 1);
      break;
    case O_Z:
      kind = 1;
      n = (opByte & 7) | ((st.rex & 1) << 3);
      break;
    case O_V:
      kind = 1;
      n = st.vvvv;
      break;
    case O_FIX:
      kind = 1;
      reg = (code >> 8) & 15;
      break;
    case 6:
      kind = 1;
      break;
    case O_M:
    case O_IM:
      kind = 2;
      break;
    case O_I:
      kind = 9;
      break;
  }
  const wd = width(code & 0xf0, w);
  if (n >= 0) reg = wd === 8 && st.rex === 0 && !st.vex && n >= 4 && n < 8 ? n - 4 : n;
  if (k === 0) {
    insn.o0k = kind;
    insn.o0r = reg;
    insn.o0w = wd;
  } else {
    insn.o1k = kind;
    insn.o1r = reg;
    insn.o1w = wd;
  }
}
