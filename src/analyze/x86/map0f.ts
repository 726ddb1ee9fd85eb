// The two- and three-byte opcode maps 0F, 0F 38 and 0F 3A (Intel SDM vol. 2, tables) in 64-bit
// mode. SSE forms are valid only with the mandatory prefixes their mask lists (bit 0 none, 1 66, 2 F3, 3 F2);
// with another prefix they are invalid after the ModRM byte (as iced-x86 decodes them).
import { st } from "./decode-state.js";
import type { Slot } from "./map0.js";
import {
  BAD,
  BOTH,
  type Entry,
  e,
  FC_CALL,
  FC_EXC,
  FC_JCC,
  FC_RET,
  I_B,
  I_BB,
  imp,
  LATE_BAD,
  LOCK,
  MOV,
  NOP,
  NW,
  O_E,
  O_EX,
  O_G,
  O_I,
  O_M,
  O_X,
  O_Z,
  SM,
  STOP,
  SYS,
  W_B,
  W_D,
  W_Q,
  W_V,
  W_W,
  W_Y,
} from "./spec.js";

const Ev = O_E | W_V;
const Gv = O_G | W_V;
const Ey = O_E | W_Y;
const Gy = O_G | W_Y;
const nm = (sem: number, op0 = 0, op1 = 0) => e(sem, op0, op1, 0, false);
const NP = 1;
const P66 = 2;
const F3 = 4;
const F2 = 8;
const ALL = 15;

/** An SSE/MMX form: valid with the prefixes in `mask`; a non-general register or memory first. */
function sse(mask: number, imm = 0, mod: Entry["mod"] = "", op0 = O_EX): Slot {
  const ok = e(0, op0, 0, imm, true, mod);
  return (_m, pfx) => ((mask >> pfx) & 1 ? ok : BAD);
}
/** By mandatory prefix: [none, 66, F3, F2]. */
const byPfx =
  (none: Entry, p66: Entry, f3: Entry, f2: Entry): Slot =>
  (_m, pfx) =>
    [none, p66, f3, f2][pfx];
const reg = (m: number) => (m >> 3) & 7;

export const MAP0F: Slot[] = new Array(256).fill(BAD);
const M = MAP0F;
M[0x00] = (m, pfx) => (reg(m) < 6 || (reg(m) === 6 && pfx === 3) ? e(0, Ev) : BAD);
const VMCALL = e(FC_CALL);
const SKINIT = e(FC_RET);
// 0F 01's register forms iced counts as calls (vmcall, vmrun, tdcall, …) or returns (skinit, erets, uiret)
const CALLS01 = [[0xc1, 0xc2, 0xc3], [0xcc, 0xcd, 0xcf], [], []];
const RETS01 = [[], [], [0xca, 0xec], [0xca]];
M[0x01] = (m, pfx) => {
  if (m < 0xc0) return reg(m) === 5 && pfx !== 2 ? BAD : e(0, O_M);
  if (m === 0xd8 || m === 0xd9 || CALLS01[pfx].includes(m)) return VMCALL;
  if (m === 0xde || RETS01[pfx].includes(m)) return SKINIT;
  if (m === 0xf9) return e(imp(0, 1, 2));
  if (pfx === 0 && (m === 0xd0 || m === 0xee)) return e(imp(0, 2));
  if (reg(m) === 4 || reg(m) === 6) return e(0, Ev);
  return e(0);
};
M[0x02] = e(0, Gv, O_E | W_W);
M[0x03] = e(0, Gv, O_E | W_W);
M[0x05] = nm(SYS);
M[0x06] = nm(0);
M[0x07] = nm(FC_RET);
M[0x08] = nm(0);
M[0x09] = nm(0);
M[0x0b] = nm(FC_EXC | STOP);
M[0x0d] = (m) => (m >= 0xc0 ? e(0, Ev, Gv) : e(reg(m) === 1 ? NW : 0, O_M));
M[0x0e] = nm(0);
M[0x0f] = e(0, O_EX, 0, I_B); // 3DNow!: the immediate is the opcode (decode.ts checks it)
// iced names the SSE scalar-double forms as the string instructions (Movsd, Cmpsd): the same implicit writes
const STRING = imp(7, 6, 1);
const movsd = e(STRING, O_EX);
M[0x10] = byPfx(e(0, O_EX), e(0, O_EX), e(0, O_EX), movsd);
M[0x11] = M[0x10];
M[0x12] = sse(ALL);
M[0x13] = sse(NP | P66, 0, "M");
M[0x14] = sse(NP | P66);
M[0x15] = sse(NP | P66);
M[0x16] = sse(NP | P66 | F3);
M[0x17] = sse(NP | P66, 0, "M");
// reserved nops (iced: Reservednop, which writes its first operand), prefetches, endbr64, nop r/m
const RNOP = e(0, Ev, Gv);
const PREFETCH = e(NW, O_M);
const MEM_ONLY = e(0, O_M);
const ENDBR = e(NW);
const NOP_EV = e(NOP, Ev);
M[0x18] = (m) => (m >= 0xc0 ? RNOP : reg(m) < 4 ? PREFETCH : MEM_ONLY);
for (let b = 0x19; b <= 0x1f; b++) M[b] = RNOP;
M[0x1e] = (m, pfx) => (pfx === 2 && (m === 0xfa || m === 0xfb) ? ENDBR : RNOP);
M[0x1f] = (m) => (reg(m) === 0 ? NOP_EV : RNOP);
const MOV_CR = e(MOV, O_E | W_Q, O_X, 0, true, "N");
const CR_BAD = e(FC_EXC | LATE_BAD, 0, 0, 0, true, "N");
M[0x20] = (m) => ([0, 2, 3, 4, 8].includes(reg(m) | ((st.rex & 4) << 1)) ? MOV_CR : CR_BAD);
const MOV_DR = e(MOV, O_E | W_Q, O_X, 0, true, "N");
M[0x21] = () => (st.rex & 4 ? CR_BAD : MOV_DR);
M[0x22] = e(MOV, O_X, O_E | W_Q, 0, true, "N");
M[0x23] = e(MOV, O_X, O_E | W_Q, 0, true, "N");
M[0x28] = sse(NP | P66);
M[0x29] = sse(NP | P66);
M[0x2a] = sse(ALL);
M[0x2b] = sse(ALL, 0, "M");
const cvt2si = byPfx(e(0, O_X), e(0, O_X), e(0, Gy), e(0, Gy));
M[0x2c] = cvt2si;
M[0x2d] = cvt2si;
M[0x2e] = sse(NP | P66);
M[0x2f] = sse(NP | P66);
M[0x30] = nm(0);
M[0x31] = nm(imp(0, 2));
M[0x32] = nm(imp(0, 2));
M[0x33] = nm(0);
M[0x34] = nm(FC_CALL);
M[0x35] = nm(FC_RET);
M[0x37] = nm(0);
for (let b = 0x40; b <= 0x4f; b++) M[b] = e(0, Gv, Ev);
M[0x50] = sse(NP | P66, 0, "R", Gy);
M[0x51] = sse(ALL);
M[0x52] = sse(NP | F3);
M[0x53] = sse(NP | F3);
for (let b = 0x54; b <= 0x57; b++) M[b] = sse(NP | P66);
for (const b of [0x58, 0x59, 0x5a, 0x5c, 0x5d, 0x5e, 0x5f]) M[b] = sse(ALL);
M[0x5b] = sse(NP | P66 | F3);
for (let b = 0x60; b <= 0x6b; b++) M[b] = sse(NP | P66);
M[0x6c] = sse(P66);
M[0x6d] = sse(P66);
M[0x6e] = sse(NP | P66);
M[0x6f] = sse(NP | P66 | F3);
M[0x70] = sse(ALL, I_B);
/** Invalid once its immediate is read (iced reads no memory operand for it). */
const BAD_IB = e(FC_EXC | LATE_BAD, 0, 0, I_B, true, "N");
const shiftImm = (ok: number[]) => (m: number, pfx: number) =>
  pfx < 2 && ok.includes(reg(m)) && (pfx === 1 || (reg(m) !== 3 && reg(m) !== 7))
    ? m >= 0xc0
      ? SHIFT_IMM
      : BAD_IB
    : BAD;
const SHIFT_IMM = e(0, O_EX, 0, I_B);
M[0x71] = shiftImm([2, 4, 6]);
M[0x72] = shiftImm([2, 4, 6]);
M[0x73] = shiftImm([2, 3, 6, 7]);
for (let b = 0x74; b <= 0x76; b++) M[b] = sse(NP | P66);
M[0x77] = nm(0);
// extrq/insertq (AMD SSE4a): register forms only; iced reads their two immediates before finding memory invalid
const BAD_IBB = e(FC_EXC | LATE_BAD, 0, 0, I_BB, true, "N");
const SSE4A = e(0, O_EX, 0, I_BB);
M[0x78] = (m, pfx) =>
  pfx === 0 ? e(0, Ey, Gy) : pfx === 2 || (pfx === 1 && reg(m) !== 0) ? BAD : m < 0xc0 ? BAD_IBB : SSE4A;
M[0x79] = byPfx(e(0, Gy, Ey), e(0, O_EX, 0, 0, true, "R"), BAD, e(0, O_EX, 0, 0, true, "R"));
M[0x7c] = sse(P66 | F2);
M[0x7d] = sse(P66 | F2);
M[0x7e] = byPfx(e(0, Ey), e(0, Ey), e(0, O_X), BAD);
M[0x7f] = sse(NP | P66 | F3);
for (let b = 0x80; b <= 0x8f; b++) M[b] = e(FC_JCC, 0, 0, 7, false);
for (let b = 0x90; b <= 0x9f; b++) M[b] = e(0, O_E | W_B);
M[0xa0] = nm(NW | SM);
M[0xa1] = nm(SM, O_X);
M[0xa2] = nm(imp(0, 1, 2, 3));
M[0xa3] = e(NW, Ev, Gv);
M[0xa4] = e(0, Ev, Gv, I_B);
M[0xa5] = e(0, Ev, Gv);
M[0xa8] = nm(NW | SM);
M[0xa9] = nm(SM, O_X);
M[0xaa] = nm(FC_RET);
M[0xab] = e(LOCK, Ev, Gv);
M[0xac] = e(0, Ev, Gv, I_B);
M[0xad] = e(0, Ev, Gv);
M[0xae] = (m, pfx) => {
  if (m < 0xc0) {
    const ok = pfx === 0 || (pfx === 1 && reg(m) >= 6) || (pfx === 2 && (reg(m) === 4 || reg(m) === 6));
    return !ok ? BAD : reg(m) === 7 && pfx === 0 ? e(NW, O_M) : e(0, O_M);
  }
  if (pfx === 0) return reg(m) >= 5 ? e(0) : BAD;
  if (pfx === 2) return reg(m) <= 6 ? e(0, Ey) : BAD;
  return reg(m) === 6 ? e(0, Ey) : BAD;
};
M[0xaf] = e(imp(0, 2), Gv, Ev);
M[0xb0] = e(LOCK | imp(0), O_E | W_B, O_G | W_B);
M[0xb1] = e(LOCK | imp(0), Ev, Gv);
M[0xb2] = e(0, Gv, O_M, 0, true, "M");
M[0xb3] = e(LOCK, Ev, Gv);
M[0xb4] = e(0, Gv, O_M, 0, true, "M");
M[0xb5] = e(0, Gv, O_M, 0, true, "M");
M[0xb6] = e(0, Gv, O_E | W_B);
M[0xb7] = e(0, Gv, O_E | W_W);
M[0xb8] = byPfx(BAD, BAD, e(0, Gv, Ev), BAD);
M[0xb9] = e(FC_EXC | STOP, Gv, Ev);
M[0xba] = [
  BAD,
  BAD,
  BAD,
  BAD,
  e(NW, Ev, O_I, I_B),
  e(LOCK, Ev, O_I, I_B),
  e(LOCK, Ev, O_I, I_B),
  e(LOCK, Ev, O_I, I_B),
];
M[0xbb] = e(LOCK, Ev, Gv);
M[0xbc] = e(0, Gv, Ev);
M[0xbd] = e(0, Gv, Ev);
M[0xbe] = e(0, Gv, O_E | W_B);
M[0xbf] = e(0, Gv, O_E | W_W);
M[0xc0] = e(BOTH | LOCK, O_E | W_B, O_G | W_B);
M[0xc1] = e(BOTH | LOCK, Ev, Gv);
M[0xc2] = byPfx(e(0, O_EX, 0, I_B), e(0, O_EX, 0, I_B), e(0, O_EX, 0, I_B), e(STRING, O_EX, 0, I_B));
M[0xc3] = byPfx(e(0, O_M, Gy, 0, true, "M"), BAD, BAD, BAD);
M[0xc4] = sse(NP | P66, I_B);
const PEXTRW = e(0, O_G | W_Y, 0, I_B);
M[0xc5] = (m, pfx) => (pfx > 1 ? BAD : m < 0xc0 ? (pfx === 0 ? BAD_IB : BAD) : PEXTRW);
M[0xc6] = sse(NP | P66, I_B);
const CMPXCHG8B = e(LOCK | imp(0, 2), O_M);
M[0xc7] = (m, pfx) => {
  const r = reg(m);
  if (m < 0xc0)
    return r === 1 ? CMPXCHG8B : (pfx === 0 && r >= 3) || (pfx !== 3 && r === 6) ? e(0, O_M) : BAD;
  if (pfx === 2) return r >= 6 ? e(0, O_E | W_Q) : BAD;
  return r >= 6 && pfx < 2 ? e(0, Ev) : BAD;
};
for (let b = 0xc8; b <= 0xcf; b++) M[b] = nm(0, O_Z | W_Y);
M[0xd0] = sse(P66 | F2);
for (let b = 0xd1; b <= 0xd5; b++) M[b] = sse(NP | P66);
M[0xd6] = (m, pfx) => (pfx === 1 || (pfx > 1 && m >= 0xc0) ? e(0, O_EX) : BAD);
M[0xd7] = sse(NP | P66, 0, "R", O_G | W_Y);
for (let b = 0xd8; b <= 0xe5; b++) M[b] = sse(NP | P66);
M[0xe6] = sse(P66 | F3 | F2);
M[0xe7] = sse(NP | P66, 0, "M");
for (let b = 0xe8; b <= 0xef; b++) M[b] = sse(NP | P66);
M[0xf0] = sse(F2, 0, "M");
for (let b = 0xf1; b <= 0xfe; b++) M[b] = sse(NP | P66);
M[0xf7] = sse(NP | P66, 0, "R");
M[0xff] = e(FC_EXC | STOP, Gv, Ev);
for (const b of [0x04, 0x0a, 0x0c, 0x24, 0x25, 0x26, 0x27, 0x36]) M[b] = BAD;
M[0x39] = BAD;

export const MAP0F38: Slot[] = new Array(256).fill(BAD);
const T = MAP0F38;
for (let b = 0x00; b <= 0x0b; b++) T[b] = sse(NP | P66);
for (const b of [0x1c, 0x1d, 0x1e]) T[b] = sse(NP | P66);
for (const b of [0x10, 0x14, 0x15, 0x17, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x28, 0x29, 0x2a, 0x2b, 0xcf])
  T[b] = sse(P66);
for (let b = 0x30; b <= 0x41; b++) if (b !== 0x36) T[b] = sse(P66);
for (let b = 0xdb; b <= 0xdf; b++) T[b] = sse(P66);
for (let b = 0xc8; b <= 0xcd; b++) T[b] = sse(NP);
for (const b of [0x80, 0x81, 0x82]) T[b] = byPfx(BAD, e(0, O_G | W_Q, O_M, 0, true, "M"), BAD, BAD);
const movbe = e(0, Gv, O_M, 0, true, "M");
T[0xf0] = byPfx(movbe, movbe, BAD, e(0, O_G | W_Y, O_E | W_B));
T[0xf1] = byPfx(e(0, O_M, Gv, 0, true, "M"), e(0, O_M, Gv, 0, true, "M"), BAD, e(0, Gy, Ev));
T[0xf5] = byPfx(BAD, e(0, O_M, Gy, 0, true, "M"), BAD, BAD);
T[0xf6] = byPfx(e(0, O_M, Gy, 0, true, "M"), e(0, Gy, Ey), e(0, Gy, Ey), BAD);
T[0xf8] = byPfx(
  BAD,
  e(0, O_G | W_Q, O_M, 0, true, "M"),
  e(0, O_G | W_Q, O_M, 0, true, "M"),
  e(0, O_G | W_Q, O_M, 0, true, "M"),
);
// Key Locker
for (const b of [0xdc, 0xdd, 0xde, 0xdf]) T[b] = byPfx(BAD, e(0, O_EX), e(0, O_EX), BAD);
T[0xd8] = (m, pfx) => (pfx === 2 && m < 0xc0 && reg(m) < 4 ? e(0, O_M) : BAD);
for (const b of [0xfa, 0xfb]) T[b] = byPfx(BAD, BAD, e(0, O_G | W_D, 0, 0, true, "R"), BAD);
T[0xf9] = byPfx(e(0, O_M, Gy, 0, true, "M"), BAD, BAD, BAD);
const AADD = e(0, O_M, Gy, 0, true, "M");
T[0xfc] = byPfx(AADD, AADD, AADD, AADD);

export const MAP0F3A: Slot[] = new Array(256).fill(BAD);
const A = MAP0F3A;
A[0x0f] = sse(NP | P66, I_B);
for (const b of [0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x20, 0x21, 0x22, 0x40, 0x41, 0x42, 0x44])
  A[b] = sse(P66, I_B);
for (const b of [0x60, 0x61, 0x62, 0x63, 0xce, 0xcf, 0xdf]) A[b] = sse(P66, I_B);
A[0xcc] = sse(NP, I_B);
A[0xf0] = (m, pfx) => (pfx === 2 && m === 0xc0 ? e(0, 0, 0, I_B) : BAD); // hreset
A[0x14] = sse(P66, I_B, "", O_E | W_D);
A[0x15] = sse(P66, I_B, "", O_E | W_D);
A[0x16] = sse(P66, I_B, "", Ey);
A[0x17] = sse(P66, I_B, "", O_E | W_D);
