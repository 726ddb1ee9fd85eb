// The one-byte opcode map (Intel SDM vol. 2, table A-2) in 64-bit mode.
import {
  BAD,
  BOTH,
  type Entry,
  e,
  FC_CALL,
  FC_EXC,
  FC_ICALL,
  FC_IJMP,
  FC_INT,
  FC_JCC,
  FC_JMP,
  FC_NEXT,
  FC_RET,
  FC_XBEGIN,
  fix,
  I_B,
  I_ENTER,
  I_J8,
  I_J32,
  I_MOFFS,
  I_V,
  I_W,
  I_Z,
  imp,
  LATE_BAD,
  LOCK,
  MOV,
  NW,
  O_E,
  O_EX,
  O_G,
  O_I,
  O_IM,
  O_M,
  O_X,
  O_Z,
  SM,
  STOP,
  W_B,
  W_D64,
  W_Q,
  W_V,
  W_W,
  XS,
} from "./spec.js";

/** A table slot: one entry, eight by ModRM.reg, or a choice the decoder makes from the ModRM byte. */
export type Slot = Entry | Entry[] | ((modrm: number, pfx: number) => Entry);
/** pfx: the mandatory prefix, 0 none, 1 66, 2 F3, 3 F2 (as iced picks it: the last F2/F3, else 66). */

const RAX = 0;
const RCX = 1;
const RDX = 2;
const RSP = 4;
const RBP = 5;
const RSI = 6;
const RDI = 7;
const Eb = O_E | W_B;
const Ev = O_E | W_V;
const Gb = O_G | W_B;
const Gv = O_G | W_V;
const nm = (sem: number, op0 = 0, op1 = 0, imm = 0) => e(sem, op0, op1, imm, false);

export const MAP0: Slot[] = new Array(256).fill(BAD);

// x87: no memory form of D9 /1, DB /4, DB /6, DD /5; iced reads one byte more after a few register forms
// that do not exist (D9 D7, DE D8, …), and fnstsw ax writes ax.
const X87_NO_MEM = [0xd9_1, 0xdb_4, 0xdb_6, 0xdd_5];
const X87_LONG = [0xd9d7, 0xd9e2, 0xd9e6, 0xd9e7, 0xdbe5, 0xdbfc, 0xddfc, 0xded8, 0xdeda, 0xdedc, 0xdedd];
X87_LONG.push(0xdede, 0xdfe1, 0xdfe2, 0xdffc);
const X87 = e(0, O_EX);
const X87_BAD3 = e(FC_EXC | LATE_BAD, 0, 0, I_B);
const FNSTSW = e(0, fix(0, W_W));
const x87 = (r: number) => (m: number) => {
  if (m < 0xc0) return X87_NO_MEM.includes(((0xd8 + r) << 4) | ((m >> 3) & 7)) ? BAD : X87;
  if (r === 7 && m === 0xe0) return FNSTSW;
  return X87_LONG.includes(((0xd8 + r) << 8) | m) ? X87_BAD3 : X87;
};

// add or adc sbb and sub xor cmp, in the six forms each
const ALU = [LOCK, LOCK, LOCK, LOCK, LOCK, XS | LOCK, XS | LOCK, NW];
for (let k = 0; k < 8; k++) {
  const s = ALU[k];
  const b = k * 8;
  MAP0[b] = e(s, Eb, Gb);
  MAP0[b + 1] = e(s, Ev, Gv);
  MAP0[b + 2] = e(s & ~LOCK, Gb, Eb);
  MAP0[b + 3] = e(s & ~LOCK, Gv, Ev);
  MAP0[b + 4] = nm(s & ~LOCK, fix(RAX, W_B), O_I, I_B);
  MAP0[b + 5] = nm(s & ~LOCK, fix(RAX, W_V), O_I, I_Z);
}
for (let r = 0; r < 8; r++) {
  MAP0[0x50 + r] = nm(NW | SM, O_Z | W_D64);
  MAP0[0x58 + r] = nm(SM, O_Z | W_D64);
  MAP0[0x70 + r] = nm(FC_JCC, 0, 0, I_J8);
  MAP0[0x78 + r] = nm(FC_JCC, 0, 0, I_J8);
  MAP0[0x90 + r] = nm(BOTH, O_Z | W_V, fix(RAX, W_V)); // 90 without REX.B is nop (decoder)
  MAP0[0xb0 + r] = nm(MOV, O_Z | W_B, O_I, I_B);
  MAP0[0xb8 + r] = nm(MOV, O_Z | W_V, O_I, I_V);
  MAP0[0xd8 + r] = x87(r);
}
MAP0[0x63] = e(0, Gv, O_E | (3 * 16));
MAP0[0x68] = nm(NW | SM, O_I, 0, I_Z);
MAP0[0x69] = e(imp(RAX, RDX), Gv, Ev, I_Z);
MAP0[0x6a] = nm(NW | SM, O_I, 0, I_B);
MAP0[0x6b] = e(imp(RAX, RDX), Gv, Ev, I_B);
MAP0[0x6c] = nm(0, O_IM);
MAP0[0x6d] = nm(0, O_IM);
MAP0[0x6e] = nm(0, fix(RDX, W_W));
MAP0[0x6f] = nm(0, fix(RDX, W_W));
MAP0[0x80] = ALU.map((s) => e(s, Eb, O_I, I_B));
MAP0[0x81] = ALU.map((s) => e(s, Ev, O_I, I_Z));
MAP0[0x82] = BAD;
MAP0[0x83] = ALU.map((s) => e(s, Ev, O_I, I_B));
MAP0[0x84] = e(NW, Eb, Gb);
MAP0[0x85] = e(NW, Ev, Gv);
MAP0[0x86] = e(BOTH | LOCK, Eb, Gb);
MAP0[0x87] = e(BOTH | LOCK, Ev, Gv);
MAP0[0x88] = e(MOV, Eb, Gb);
MAP0[0x89] = e(MOV, Ev, Gv);
MAP0[0x8a] = e(MOV, Gb, Eb);
MAP0[0x8b] = e(MOV, Gv, Ev);
const SEG_BAD = e(FC_EXC | LATE_BAD, Ev);
const MOV_EV_S = e(MOV, Ev, O_X);
const MOV_S_EW = e(MOV, O_X, O_E | W_W);
MAP0[0x8c] = (m) => (((m >> 3) & 7) < 6 ? MOV_EV_S : SEG_BAD);
MAP0[0x8d] = e(0, Gv, O_M, 0, true, "M");
MAP0[0x8e] = (m) => (((m >> 3) & 7) < 6 && ((m >> 3) & 7) !== 1 ? MOV_S_EW : SEG_BAD);
MAP0[0x8f] = [e(SM, O_E | W_D64), BAD, BAD, BAD, BAD, BAD, BAD, BAD];
MAP0[0x98] = nm(imp(RAX));
MAP0[0x99] = nm(imp(RDX));
MAP0[0x9b] = nm(0);
MAP0[0x9c] = nm(SM); // pushf (16-bit, with 66) is not pushfq: decoder
MAP0[0x9d] = nm(SM);
MAP0[0x9e] = nm(0);
MAP0[0x9f] = nm(imp(RAX));
MAP0[0xa0] = nm(MOV, fix(RAX, W_B), O_IM, I_MOFFS);
MAP0[0xa1] = nm(MOV, fix(RAX, W_V), O_IM, I_MOFFS);
MAP0[0xa2] = nm(MOV, O_IM, fix(RAX, W_B), I_MOFFS);
MAP0[0xa3] = nm(MOV, O_IM, fix(RAX, W_V), I_MOFFS);
MAP0[0xa4] = nm(imp(RDI, RSI, RCX), O_IM);
MAP0[0xa5] = nm(imp(RDI, RSI, RCX), O_IM);
MAP0[0xa6] = nm(imp(RDI, RSI, RCX), O_IM);
MAP0[0xa7] = nm(imp(RDI, RSI, RCX), O_IM);
MAP0[0xa8] = nm(NW, fix(RAX, W_B), O_I, I_B);
MAP0[0xa9] = nm(NW, fix(RAX, W_V), O_I, I_Z);
MAP0[0xaa] = nm(imp(RDI, RCX), O_IM);
MAP0[0xab] = nm(imp(RDI, RCX), O_IM);
MAP0[0xac] = nm(imp(RAX, RSI, RCX), fix(RAX, W_B));
MAP0[0xad] = nm(imp(RAX, RSI, RCX), fix(RAX, W_V));
MAP0[0xae] = nm(imp(RDI, RCX), fix(RAX, W_B));
MAP0[0xaf] = nm(imp(RDI, RCX), fix(RAX, W_V));
const SHIFT = (op0: number, imm: number) => [0, 0, 0, 0, 0, 0, 0, 0].map(() => e(0, op0, 0, imm));
MAP0[0xc0] = SHIFT(Eb, I_B);
MAP0[0xc1] = SHIFT(Ev, I_B);
MAP0[0xd0] = SHIFT(Eb, 0);
MAP0[0xd1] = SHIFT(Ev, 0);
MAP0[0xd2] = SHIFT(Eb, 0);
MAP0[0xd3] = SHIFT(Ev, 0);
MAP0[0xc2] = nm(FC_RET, 0, 0, I_W);
MAP0[0xc3] = nm(FC_RET);
const MOV_EB_IB = e(MOV, Eb, O_I, I_B);
const XABORT = e(FC_NEXT, O_I, 0, I_B);
const MOV_EV_IZ = e(MOV, Ev, O_I, I_Z);
const XBEGIN = e(FC_XBEGIN, 0, 0, I_J32);
MAP0[0xc6] = (m) => (((m >> 3) & 7) === 0 ? MOV_EB_IB : m === 0xf8 ? XABORT : BAD);
MAP0[0xc7] = (m) => (((m >> 3) & 7) === 0 ? MOV_EV_IZ : m === 0xf8 ? XBEGIN : BAD);
MAP0[0xc8] = nm(SM | imp(RSP, RBP), O_I, 0, I_ENTER);
MAP0[0xc9] = nm(SM | imp(RSP, RBP));
MAP0[0xca] = nm(FC_RET, 0, 0, I_W);
MAP0[0xcb] = nm(FC_RET);
MAP0[0xcc] = nm(FC_INT | STOP);
MAP0[0xcd] = nm(FC_INT, O_I, 0, I_B);
MAP0[0xcf] = nm(FC_RET);
MAP0[0xd7] = nm(0, O_IM);
MAP0[0xe0] = nm(FC_JCC | imp(RCX), 0, 0, I_J8);
MAP0[0xe1] = nm(FC_JCC | imp(RCX), 0, 0, I_J8);
MAP0[0xe2] = nm(FC_JCC | imp(RCX), 0, 0, I_J8);
MAP0[0xe3] = nm(FC_JCC, 0, 0, I_J8);
MAP0[0xe4] = nm(0, fix(RAX, W_B), O_I, I_B);
MAP0[0xe5] = nm(0, fix(RAX, W_V), O_I, I_B); // in eax/ax: never rax (decoder)
MAP0[0xe6] = nm(0, O_I, 0, I_B);
MAP0[0xe7] = nm(0, O_I, 0, I_B);
MAP0[0xe8] = nm(FC_CALL, 0, 0, I_J32);
MAP0[0xe9] = nm(FC_JMP, 0, 0, I_J32);
MAP0[0xeb] = nm(FC_JMP, 0, 0, I_J8);
MAP0[0xec] = nm(0, fix(RAX, W_B));
MAP0[0xed] = nm(0, fix(RAX, W_V));
MAP0[0xee] = nm(0, fix(RDX, W_W));
MAP0[0xef] = nm(0, fix(RDX, W_W));
MAP0[0xf1] = nm(FC_INT);
for (const b of [0xf4, 0xf5, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd]) MAP0[b] = nm(0);
const MULDIV = imp(RAX, RDX);
const grp3 = (op0: number, imm: number) => [
  e(NW, op0, O_I, imm),
  e(NW, op0, O_I, imm),
  e(LOCK, op0),
  e(LOCK, op0),
  e(MULDIV, op0),
  e(MULDIV, op0),
  e(MULDIV, op0),
  e(MULDIV, op0),
];
MAP0[0xf6] = grp3(Eb, I_B);
MAP0[0xf7] = grp3(Ev, I_Z);
MAP0[0xfe] = [e(LOCK, Eb), e(LOCK, Eb), BAD, BAD, BAD, BAD, BAD, BAD];
MAP0[0xff] = [
  e(LOCK, Ev),
  e(LOCK, Ev),
  e(FC_ICALL, O_E | W_Q),
  e(FC_ICALL, O_M, 0, 0, true, "M"),
  e(FC_IJMP, O_E | W_Q),
  e(FC_IJMP, O_M, 0, 0, true, "M"),
  e(NW | SM, O_E | W_D64),
  BAD,
];
