// aarch64 machine code → OpStream. No maintained aarch64 decoder is published for Node, and the analysis
// needs few forms (Arm ARM, "A64 instruction set encoding"): SVC, MOVZ/MOVN/MOVK, MOV (ORR Xd, XZR, Xm),
// B/BL/B.cond/CBZ/CBNZ/TBZ/TBNZ, BR/BLR/RET, ADR/ADRP and the ADD/LDR that complete an ADRP address.
// Everything else is classified conservatively: a data-processing or load instruction is taken to
// overwrite its destination register with an unknown value, so a constant is never read through it.
import {
  ensureRoom,
  type IsaInfo,
  K_CALL,
  K_ICALL,
  K_IJMP,
  K_JCC,
  K_JMP,
  K_MOVI,
  K_MOVR,
  K_NOP,
  K_RET,
  K_SYSCALL,
  K_ZERO,
  newStream,
  type OpStream,
} from "./ops.js";

const bits = (from: number, to: number) => {
  let m = 0;
  for (let r = from; r <= to; r++) m |= 1 << r;
  return m >>> 0;
};

export const AARCH64: IsaInfo = {
  nrReg: 8,
  argRegs: [0, 1, 2, 3, 4, 5],
  callerSaved: (bits(0, 18) | (1 << 30)) >>> 0,
  syscallClobbers: 1, // x0 holds the result
};

const signExtend = (v: number, width: number) => (v << (32 - width)) >> (32 - width);

/** Decodes little-endian A64 `code` loaded at `base` into `into`. */
export function decodeAarch64(code: Uint8Array, base: number, into?: OpStream): OpStream {
  let s = into ?? newStream(Math.max(16, code.length >> 2));
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  // the page an ADRP put in each register, to complete ADRP + ADD/LDR pairs (reset at control flow)
  const page = new Float64Array(32).fill(Number.NaN);
  for (let off = 0; off + 4 <= code.length; off += 4) {
    const w = view.getUint32(off, true);
    const pc = base + off;
    s = ensureRoom(s, 1);
    const i = s.n++;
    s.addr[i] = pc;
    const rd = w & 31;
    const rn = (w >>> 5) & 31;
    if (w === 0xd503201f) {
      s.kind[i] = K_NOP;
    } else if (w === 0xd4000001) {
      s.kind[i] = K_SYSCALL; // svc #0
    } else if ((w & 0xfc000000) >>> 0 === 0x94000000) {
      s.kind[i] = K_CALL; // bl
      s.val[i] = pc + signExtend(w & 0x3ffffff, 26) * 4;
      page.fill(Number.NaN);
    } else if ((w & 0xfc000000) >>> 0 === 0x14000000) {
      s.kind[i] = K_JMP; // b
      s.val[i] = pc + signExtend(w & 0x3ffffff, 26) * 4;
      page.fill(Number.NaN);
    } else if ((w & 0xff000010) >>> 0 === 0x54000000 || (w & 0x7e000000) >>> 0 === 0x34000000) {
      s.kind[i] = K_JCC; // b.cond, cbz/cbnz
      s.val[i] = pc + signExtend((w >>> 5) & 0x7ffff, 19) * 4;
    } else if ((w & 0x7e000000) >>> 0 === 0x36000000) {
      s.kind[i] = K_JCC; // tbz/tbnz
      s.val[i] = pc + signExtend((w >>> 5) & 0x3fff, 14) * 4;
    } else if ((w & 0xfffffc1f) >>> 0 === 0xd65f0000) {
      s.kind[i] = K_RET;
      page.fill(Number.NaN);
    } else if ((w & 0xfffffc1f) >>> 0 === 0xd61f0000) {
      s.kind[i] = K_IJMP; // br
      page.fill(Number.NaN);
    } else if ((w & 0xfffffc1f) >>> 0 === 0xd63f0000) {
      s.kind[i] = K_ICALL; // blr
      page.fill(Number.NaN);
    } else if (w === 0xd4200000 || (w & 0xffe0001f) >>> 0 === 0xd4200000 || w === 0) {
      s.kind[i] = K_RET; // brk / udf: the path ends
    } else if ((w & 0x1f800000) >>> 0 === 0x12800000) {
      moveWide(s, i, w);
    } else if ((w & 0x7fe0ffe0) >>> 0 === 0x2a0003e0 && ((w >>> 10) & 63) === 0) {
      moveRegister(s, i, w); // ORR Wd/Xd, WZR/XZR, Wm (LSL #0): MOV
    } else if ((w & 0x1f000000) >>> 0 === 0x10000000) {
      adr(s, i, w, pc, page); // ADR / ADRP
      continue;
    } else if ((w & 0xff800000) >>> 0 === 0x91000000) {
      // ADD Xd, Xn, #imm12 (LSL 0 or 12)
      const imm = ((w >>> 10) & 0xfff) * ((w >>> 22) & 1 ? 4096 : 1);
      if (!Number.isNaN(page[rn])) s.ref[i] = page[rn] + imm;
      s.wmask[i] = rd === 31 ? 0 : 1 << rd;
      if (rd !== 31) page[rd] = Number.NaN;
      continue;
    } else if ((w & 0xffc00000) >>> 0 === 0xf9400000) {
      // LDR Xt, [Xn, #imm12*8]
      const imm = ((w >>> 10) & 0xfff) * 8;
      if (!Number.isNaN(page[rn])) s.ref[i] = page[rn] + imm;
      s.wmask[i] = 1 << rd;
      page[rd] = Number.NaN;
      continue;
    } else {
      otherWrites(s, i, w);
    }
    if (s.wmask[i] || s.kind[i] === K_MOVI || s.kind[i] === K_MOVR || s.kind[i] === K_ZERO)
      page[rd] = Number.NaN;
  }
  return s;
}

/** MOVN (opc 00), MOVZ (10), MOVK (11): a constant into Rd, or (MOVK) an unknown one. */
function moveWide(s: OpStream, i: number, w: number): void {
  const rd = w & 31;
  const opc = (w >>> 29) & 3;
  const sf = w >>> 31;
  const hw = (w >>> 21) & 3;
  const imm = ((w >>> 5) & 0xffff) * 2 ** (16 * hw);
  if (opc === 2) {
    s.kind[i] = K_MOVI;
    s.reg[i] = rd;
    s.val[i] = imm;
  } else if (opc === 0) {
    s.kind[i] = K_MOVI;
    s.reg[i] = rd;
    s.val[i] = sf ? -imm - 1 : (~imm >>> 0) & 0xffffffff;
  } else s.wmask[i] = 1 << rd; // movk: the value depends on the old one
  if (rd === 31) s.kind[i] = 0;
}

/** ORR Wd/Xd, WZR/XZR, Wm: MOV Rd, Rm (or zero). */
function moveRegister(s: OpStream, i: number, w: number): void {
  const rd = w & 31;
  const rm = (w >>> 16) & 31;
  if (rm === 31) {
    s.kind[i] = K_ZERO;
    s.reg[i] = rd;
  } else {
    s.kind[i] = K_MOVR;
    s.reg[i] = rd;
    s.reg2[i] = rm;
  }
}

/** ADR (an address into Rd, a reference) or ADRP (a page into Rd, for the ADD/LDR that completes it). */
function adr(s: OpStream, i: number, w: number, pc: number, page: Float64Array): void {
  const rd = w & 31;
  const imm = signExtend((((w >>> 5) & 0x7ffff) << 2) | ((w >>> 29) & 3), 21);
  const isPage = w >>> 31 === 1;
  const value = isPage ? Math.floor(pc / 4096) * 4096 + imm * 4096 : pc + imm;
  s.wmask[i] = 1 << rd;
  if (isPage) page[rd] = value;
  else s.ref[i] = value;
}

/** Any other instruction: the registers it may overwrite (loads, written-back bases, data processing, SIMD/FP moves). */
function otherWrites(s: OpStream, i: number, w: number): void {
  const rd = w & 31;
  const rn = (w >>> 5) & 31;
  const op0 = (w >>> 25) & 0xf;
  const loadStore = (op0 & 0b0101) === 0b0100;
  const dataProc = (op0 & 0b1110) === 0b1000 || (op0 & 0b0111) === 0b0101;
  if (loadStore) {
    // loads write Rt (and Rt2 for pairs); stores write nothing but a written-back base
    const load = ((w >>> 22) & 1) === 1;
    if (load && rd !== 31) s.wmask[i] = 1 << rd;
    if (load && (w & 0x3a000000) >>> 0 === 0x28000000) s.wmask[i] |= 1 << ((w >>> 10) & 31);
    if ((w & 0x3b200c00) >>> 0 === 0x38000c00 || (w & 0x3b800000) >>> 0 === 0x28800000) s.wmask[i] |= 1 << rn;
  } else if (dataProc && rd !== 31) s.wmask[i] = 1 << rd;
  else if ((op0 & 0b0111) === 0b0111 && rd !== 31) s.wmask[i] = 1 << rd; // SIMD/FP (FMOV Xd, Dn)
}
