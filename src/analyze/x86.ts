// x86_64 machine code → OpStream, decoded by our own table-driven decoder (src/analyze/x86/; it replaced
// iced-x86, whose per-instruction calls into WebAssembly were a large share of the analysis' time, and
// produces the same stream: test/analyze/x86-differential.test.ts). Only the effects the analysis needs are
// kept (ops.ts).
import {
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
  NO_REG,
  newStream,
  type OpStream,
  reserve,
  SLOT_MASK,
  SLOT0,
  SLOTS,
  x86Capacity,
} from "./ops.js";
import { decodeAt, insn } from "./x86/decode.js";
import {
  BOTH,
  FC_CALL,
  FC_ICALL,
  FC_IJMP,
  FC_JCC,
  FC_JMP,
  FC_NEXT,
  FC_RET,
  IMPL,
  MOV,
  NOP,
  NW,
  SM,
  STOP,
  SYS,
  XS,
} from "./x86/spec.js";

// register families: rax 0, rcx 1, rdx 2, rbx 3, rsp 4, rbp 5, rsi 6, rdi 7, r8–r15 8–15
const RAX = 0;
const RCX = 1;
const RDX = 2;
const RBX = 3;
const RSP = 4;
const RSI = 6;
const RDI = 7;
const R11 = 11;
const bit = (...regs: number[]) => regs.reduce((m, r) => m | (1 << r), 0);

export const X86_64: IsaInfo = {
  nrReg: RAX,
  argRegs: [RDI, RSI, RDX, RCX, 8, 9],
  callerSaved: bit(RAX, RCX, RDX, RSI, RDI, 8, 9, 10, 11),
  syscallClobbers: bit(RAX, RCX, R11),
};

/**
 * Go's register ABI (ABIInternal, Go ≥ 1.17): integer arguments in RAX, RBX, RCX, RDI, RSI, R8–R11; every
 * register but RSP, RBP and R14 (the goroutine) may change across a call. Go's assembly (ABI0) passes
 * arguments on the stack: syscall.Syscall reads the number from [rsp+8] (stack parameter 10).
 */
export const X86_64_GO: IsaInfo = {
  nrReg: RAX,
  argRegs: [RAX, RBX, RCX, RDI, RSI, 8, 9, 10, 11],
  callerSaved: bit(RAX, RBX, RCX, RDX, RSI, RDI, 8, 9, 10, 11, 12, 13, 15),
  syscallClobbers: bit(RAX, RCX, R11),
};

// Operand kinds in insn (decode-state.ts)
const REG = 1;
const MEM = 2;
const IMM32 = 3;

/** Decodes `code` (loaded at `base`) into `into`; returns the (possibly grown) stream. */
export function decodeX86(code: Uint8Array, base: number, into?: OpStream): OpStream {
  let s = into ?? newStream(x86Capacity(code.length));
  const n0 = s.n;
  for (let pos = 0; pos < code.length; ) {
    const len = decodeAt(code, pos, base + pos);
    // full: room for the rest of the code at the bytes per instruction seen so far (once there are enough
    // to tell), and an eighth more — one copy, where doubling copied and filled most of a large stream again
    if (s.n === s.addr.length) {
      const rest = code.length - pos;
      s = reserve(
        s,
        s.n + (pos < 4096 ? x86Capacity(rest) : 16 + Math.ceil(((rest * (s.n - n0)) / pos) * 1.125)),
      );
    }
    const i = s.n++;
    s.addr[i] = base + pos;
    const sem = insn.sem;
    if (sem & SYS) s.kind[i] = K_SYSCALL;
    else if ((sem & 15) === FC_NEXT) sequential(s, i, sem);
    else branch(s, i, sem);
    pos += len;
  }
  return s;
}

/** An instruction that falls through: a nop, a move the scan follows, or the registers it writes. */
function sequential(s: OpStream, i: number, sem: number): void {
  if (sem & NOP) {
    s.kind[i] = K_NOP;
    return;
  }
  if (!Number.isNaN(insn.ref)) s.ref[i] = insn.ref;
  let w = sem >>> IMPL;
  const k0 = insn.o0k;
  if (sem & MOV && (k0 === MEM || insn.o1k === MEM) && stackMove(s, i)) return;
  const r0 = insn.o0r;
  // anything that moves rsp (push, pop, sub/add/lea rsp, leave) shifts the slots
  if (sem & SM || (k0 === REG && r0 === RSP)) w |= SLOT_MASK;
  if (k0 === REG && !(sem & NW)) {
    const written = registerWrite(s, i, sem, r0);
    if (written === undefined) return;
    w |= written;
  }
  s.wmask[i] = w;
}

/** The slot k of a memory operand [rsp+8k] (k < SLOTS, no index register), or -1. */
function stackSlot(): number {
  if (insn.mbase !== RSP || insn.mindex) return -1;
  const d = insn.mdisp;
  return d >= 0 && d % 8 === 0 && d / 8 < SLOTS ? d / 8 : -1;
}

/**
 * Stack slots: mov [rsp+8k], reg|imm and mov reg, [rsp+8k] move values through the frame. True when the
 * instruction was recorded as such (or as a store the scan cannot follow).
 */
function stackMove(s: OpStream, i: number): boolean {
  const slot = stackSlot();
  if (slot >= 0 && insn.o0k === MEM) {
    const k1 = insn.o1k;
    if (k1 === REG && insn.o1r !== NO_REG && insn.o1w >= 32) {
      s.kind[i] = K_MOVR;
      s.reg[i] = SLOT0 + slot;
      s.reg2[i] = insn.o1r;
    } else if (k1 === IMM32) {
      s.kind[i] = K_MOVI;
      s.reg[i] = SLOT0 + slot;
      s.val[i] = insn.imm32;
    } else s.wmask[i] = 1 << (SLOT0 + slot);
    return true;
  }
  if (slot >= 0 && insn.o0k === REG && insn.o0r !== NO_REG && insn.o0w >= 32) {
    s.kind[i] = K_MOVR;
    s.reg[i] = insn.o0r;
    s.reg2[i] = SLOT0 + slot;
    return true;
  }
  return false;
}

/**
 * An instruction that writes its first operand, a register: a register move, a constant load or a zeroing
 * is recorded as such (undefined returned); otherwise the register bits it writes.
 */
function registerWrite(s: OpStream, i: number, sem: number, fam: number): number | undefined {
  if (fam === NO_REG) return 0;
  const width = insn.o0w;
  const k1 = insn.o1k;
  if (sem & MOV && width >= 32 && k1 === REG && insn.o1r !== NO_REG && insn.o1w === width) {
    s.kind[i] = K_MOVR;
    s.reg[i] = fam;
    s.reg2[i] = insn.o1r;
    return undefined;
  }
  if (sem & MOV && width >= 32 && k1 === IMM32) {
    s.kind[i] = K_MOVI;
    s.reg[i] = fam;
    s.val[i] = width === 32 ? insn.imm32 : insn.imm;
    return undefined;
  }
  if (sem & XS && width >= 32 && k1 === REG && insn.o1r === fam && insn.o1w === width) {
    s.kind[i] = K_ZERO;
    s.reg[i] = fam;
    return undefined;
  }
  let w = 1 << fam;
  if (sem & BOTH && k1 === REG && insn.o1r !== NO_REG) w |= 1 << insn.o1r;
  return w;
}

/** A call, jump, branch or return (or an instruction that ends a path). */
function branch(s: OpStream, i: number, sem: number): void {
  switch (sem & 15) {
    case FC_CALL:
      s.kind[i] = K_CALL;
      s.val[i] = Number.isNaN(insn.target) ? 0 : insn.target;
      break;
    case FC_ICALL:
      s.kind[i] = K_ICALL;
      if (!Number.isNaN(insn.ref)) s.ref[i] = insn.ref;
      break;
    case FC_JMP:
      s.kind[i] = K_JMP;
      s.val[i] = insn.target;
      break;
    case FC_IJMP:
      s.kind[i] = K_IJMP;
      if (!Number.isNaN(insn.ref)) s.ref[i] = insn.ref;
      break;
    case FC_JCC:
      s.kind[i] = K_JCC;
      s.val[i] = insn.target;
      s.wmask[i] = sem >>> IMPL;
      break;
    case FC_RET:
      s.kind[i] = K_RET;
      break;
    default:
      // interrupts and exceptions: int3/ud2 end a path (int 0x80 is i386's ABI, not x86_64's)
      if (sem & STOP) s.kind[i] = K_RET;
  }
}
