// The vocabulary of the x86_64 opcode tables (map0.ts, map0f.ts, map0f38.ts, vex.ts): what one opcode's
// entry says about its length (ModRM, immediate) and about the facts x86.ts keeps (flow control, the
// mnemonic's class, the first two operands).

// Flow control, numbered as iced-x86's FlowControl (the decoder this one replaced; its tests still compare).
export const FC_NEXT = 0;
export const FC_JMP = 1;
export const FC_IJMP = 2;
export const FC_JCC = 3;
export const FC_RET = 4;
export const FC_CALL = 5;
export const FC_ICALL = 6;
export const FC_INT = 7;
export const FC_XBEGIN = 8;
export const FC_EXC = 9;

// Mnemonic classes (bits above the flow control).
export const NOP = 1 << 4; // the Nop mnemonic (not "reserved nop", not pause)
export const MOV = 1 << 5;
export const XS = 1 << 6; // xor, sub: `xor r, r` zeroes
export const BOTH = 1 << 7; // xchg, xadd: both register operands written
export const NW = 1 << 8; // writes no operand (cmp, test, bt, push, prefetch, …)
export const SM = 1 << 9; // moves rsp (push, pop, pushfq, popfq, leave, enter)
export const STOP = 1 << 10; // ends a path (int3, ud0/1/2)
export const SYS = 1 << 11; // syscall
export const LOCK = 1 << 12; // accepts a lock prefix (with a memory operand)
export const LATE_BAD = 1 << 13; // invalid, but only once its operands are read (mov to a bad segment)
/** Registers written implicitly (rdx by cdq, rax and rdx by mul, …): a family mask, from bit 16. */
export const IMPL = 16;
export const imp = (...fams: number[]) => fams.reduce((m, f) => m | (1 << (f + IMPL)), 0);
export const INVALID = FC_EXC; // iced's INVALID: an exception, no operands

// Operands: where one comes from (low 4 bits) and its width (next 4 bits); a fixed register's family from bit 8.
export const O_NONE = 0; // none, an immediate, a branch target
export const O_E = 1; // ModRM r/m: a general register when mod = 3, else memory
export const O_G = 2; // ModRM reg: a general register
export const O_Z = 3; // the opcode's low 3 bits (+ REX.B): a general register
export const O_V = 4; // VEX.vvvv: a general register
export const O_FIX = 5; // a fixed general register (family << 8)
export const O_X = 6; // a register that is not a general one (xmm, mm, k, st, segment, control)
export const O_M = 7; // memory from ModRM (mod = 3 is invalid)
export const O_IM = 8; // implicit memory (string instructions, xlat, moffs)
export const O_I = 9; // an immediate (its class matters to mov)
export const O_EX = 10; // ModRM r/m: a register that is not a general one when mod = 3, else memory
export const W_B = 1 << 4; // 8
export const W_W = 2 << 4; // 16
export const W_D = 3 << 4; // 32
export const W_Q = 4 << 4; // 64
export const W_V = 5 << 4; // 16/32/64 by 66 and REX.W
export const W_Y = 6 << 4; // 32/64 by REX.W
export const W_D64 = 7 << 4; // 64, or 16 with 66 (push, pop)
export const fix = (fam: number, w: number) => O_FIX | w | (fam << 8);

// Immediates and other trailing bytes.
export const I_NONE = 0;
export const I_B = 1; // 1 byte
export const I_W = 2; // 2
export const I_Z = 3; // 2 with 66 (without REX.W), else 4
export const I_V = 4; // 8 with REX.W, 2 with 66, else 4 (mov r, imm)
export const I_ENTER = 5; // 3
export const I_J8 = 6; // rel8
export const I_J32 = 7; // rel32 (66 ignored, as Intel and iced do)
export const I_MOFFS = 8; // 8, or 4 with 67
export const I_BB = 9; // 2 (extrq/insertq ib, ib)
export const I_D = 10; // 4 (XOP map 10)

/** One opcode (or one ModRM.reg of a group): packed as [sem, op0, op1, modrm << 8 | imm]. */
export interface Entry {
  sem: number;
  op0: number;
  op1: number;
  /** Whether a ModRM byte follows; mod: r/m must be memory (M) or a register (R), is one whatever mod says (N), or either. */
  modrm: boolean;
  imm: number;
  mod: "" | "M" | "R" | "N";
}

export const BAD: Entry = { sem: INVALID, op0: 0, op1: 0, modrm: true, imm: 0, mod: "" };
export const BAD_NOMODRM: Entry = { sem: INVALID, op0: 0, op1: 0, modrm: false, imm: 0, mod: "" };

export function e(sem: number, op0 = 0, op1 = 0, imm = 0, modrm = true, mod: Entry["mod"] = ""): Entry {
  return { sem, op0, op1, modrm, imm, mod };
}
