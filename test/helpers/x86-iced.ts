// The x86_64 decoder sysfence used before src/analyze/x86/ (issue 28): iced-x86's WebAssembly build (pinned in
// package.json), kept for the differential tests that hold our decoder to the same OpStream, field by field.
import { createRequire } from "node:module";
import {
  ensureRoom,
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
  SLOT_MASK,
  SLOT0,
  SLOTS,
} from "../../src/analyze/ops.js";

type Iced = typeof import("iced-x86");
let iced: Iced | undefined;
function load(): Iced {
  iced ??= createRequire(import.meta.url)("iced-x86") as Iced;
  return iced;
}

// register families: rax 0, rcx 1, rdx 2, rbx 3, rsp 4, rbp 5, rsi 6, rdi 7, r8–r15 8–15
const RAX = 0;
const RCX = 1;
const RDX = 2;
const RBX = 3;
const RSP = 4;
const RBP = 5;
const RSI = 6;
const RDI = 7;
const bit = (...regs: number[]) => regs.reduce((m, r) => m | (1 << r), 0);

/** iced Register → its family (rax 0 … r15 15) for general-purpose registers (Register enum order), else NO_REG. */
function gprFamily(reg: number): number {
  if (reg >= 1 && reg <= 4) return reg - 1;
  if (reg >= 5 && reg <= 8) return reg - 5; // ah, ch, dh, bh
  if (reg >= 9 && reg <= 20) return reg - 5; // spl, bpl, sil, dil, r8b–r15b
  if (reg >= 21 && reg <= 36) return reg - 21;
  if (reg >= 37 && reg <= 52) return reg - 37;
  if (reg >= 53 && reg <= 68) return reg - 53;
  return NO_REG;
}

/** The width in bits of a general-purpose register (0 for any other): two numbers, not a tuple per call. */
function gprWidth(reg: number): number {
  if (reg >= 1 && reg <= 20) return 8;
  if (reg >= 21 && reg <= 36) return 16;
  if (reg >= 37 && reg <= 52) return 32;
  if (reg >= 53 && reg <= 68) return 64;
  return 0;
}

interface Tables {
  noWrite: Set<number>;
  implicit: Map<number, number>;
  both: Set<number>;
  syscall: number;
  nop: number;
  mov: number;
  xor: number;
  sub: number;
  stop: Set<number>;
  stackMoves: Set<number>;
}
let tables: Tables | undefined;
function mnemonicTables(I: Iced): Tables {
  if (tables) return tables;
  const M = I.Mnemonic as unknown as Record<string, number>;
  const set = (...names: string[]) => new Set(names.map((n) => M[n]).filter((v) => v !== undefined));
  const implicit = new Map<number, number>();
  const add = (mask: number, ...names: string[]) => {
    for (const n of names) if (M[n] !== undefined) implicit.set(M[n], (implicit.get(M[n]) ?? 0) | mask);
  };
  add(bit(RAX, RBX, RCX, RDX), "Cpuid");
  add(bit(RAX, RDX), "Rdtsc", "Mul", "Div", "Idiv", "Cmpxchg8b", "Cmpxchg16b", "Xgetbv", "Rdpkru", "Rdmsr");
  add(bit(RAX, RDX, RCX), "Rdtscp");
  add(bit(RDX), "Cdq", "Cqo", "Cwd");
  add(bit(RAX), "Cdqe", "Cwde", "Cbw", "Cmpxchg", "Lahf");
  add(bit(RAX, RSI, RCX), "Lodsb", "Lodsw", "Lodsd", "Lodsq");
  add(bit(RDI, RCX), "Stosb", "Stosw", "Stosd", "Stosq", "Scasb", "Scasw", "Scasd", "Scasq");
  add(bit(RDI, RSI, RCX), "Movsb", "Movsw", "Movsd", "Movsq", "Cmpsb", "Cmpsw", "Cmpsd", "Cmpsq");
  add(bit(RSP, RBP), "Leave", "Enter");
  add(bit(RCX), "Loop", "Loope", "Loopne");
  add(bit(RAX, RDX), "Imul"); // the one-operand form; two/three-operand forms also write op0 (below)
  tables = {
    noWrite: set(
      "Cmp",
      "Test",
      "Bt",
      "Push",
      "Nop",
      "Prefetchnta",
      "Prefetcht0",
      "Prefetcht1",
      "Prefetcht2",
      "Prefetchw",
      "Clflush",
      "Endbr64",
    ),
    implicit,
    both: set("Xchg", "Xadd"),
    syscall: M.Syscall,
    nop: M.Nop,
    mov: M.Mov,
    xor: M.Xor,
    sub: M.Sub,
    stop: set("Hlt", "Ud2", "Ud0", "Ud1", "Int3"),
    stackMoves: set("Push", "Pop", "Pushfq", "Popfq", "Leave", "Enter"),
  };
  return tables;
}

/** The slot k of a memory operand [rsp+8k] (k < SLOTS, no index register), or -1. */
function stackSlot(ins: InstanceType<Iced["Instruction"]>, I: Iced): number {
  if (ins.memoryBase !== I.Register.RSP || ins.memoryIndex !== I.Register.None) return -1;
  const d = Number(ins.memoryDisplacement);
  return d >= 0 && d % 8 === 0 && d / 8 < SLOTS ? d / 8 : -1;
}

/** Decodes `code` (loaded at `base`) into `into`; returns the (possibly grown) stream. */
export function decodeX86Iced(code: Uint8Array, base: number, into?: OpStream): OpStream {
  const I = load();
  const T = mnemonicTables(I);
  let s = into ?? newStream(Math.max(16, code.length >> 2));
  const dec = new I.Decoder(64, code, I.DecoderOptions.None);
  dec.ip = BigInt(base);
  const ins = new I.Instruction();
  try {
    while (dec.canDecode) {
      const pos = dec.position;
      dec.decodeOut(ins);
      s = ensureRoom(s, 1);
      const i = s.n++;
      s.addr[i] = base + pos;
      // each getter is a call into WebAssembly: read once, passed on
      const m = ins.mnemonic;
      if (m === T.syscall) s.kind[i] = K_SYSCALL;
      else if (ins.flowControl === I.FlowControl.Next) sequential(s, i, ins, I, T, m);
      else branch(s, i, ins, I, T);
    }
  } finally {
    ins.free();
    dec.free();
  }
  return s;
}

type X86Insn = InstanceType<Iced["Instruction"]>;

/** An instruction that falls through: a nop, a move the scan follows, or the registers it writes. */
function sequential(s: OpStream, i: number, ins: X86Insn, I: Iced, T: Tables, m: number): void {
  const OK = I.OpKind;
  if (m === T.nop) {
    s.kind[i] = K_NOP;
    return;
  }
  const ipRel = ins.isIpRelMemoryOperand;
  if (ipRel) s.ref[i] = Number(ins.ipRelMemoryAddress);
  let w = T.implicit.get(m) ?? 0;
  const count = ins.opCount;
  const k0 = count > 0 ? ins.op0Kind : -1;
  if (m === T.mov && count === 2 && (k0 === OK.Memory || ins.op1Kind === OK.Memory)) {
    if (stackMove(s, i, ins, I)) return;
  }
  const r0 = k0 === OK.Register ? ins.op0Register : -1;
  // anything that moves rsp (push, pop, sub/add/lea rsp, leave) shifts the slots
  if (T.stackMoves.has(m) || (k0 === OK.Register && gprFamily(r0) === RSP)) w |= SLOT_MASK;
  if (k0 === OK.Register && !T.noWrite.has(m)) {
    const written = registerWrite(s, i, ins, I, T, m, r0, count);
    if (written === undefined) return;
    w |= written;
  }
  s.wmask[i] = w;
}

/**
 * Stack slots: mov [rsp+8k], reg|imm and mov reg, [rsp+8k] move values through the frame. True when the
 * instruction was recorded as such (or as a store the scan cannot follow).
 */
function stackMove(s: OpStream, i: number, ins: X86Insn, I: Iced): boolean {
  const OK = I.OpKind;
  const slot = stackSlot(ins, I);
  if (slot >= 0 && ins.op0Kind === OK.Memory) {
    const k1 = ins.op1Kind;
    if (k1 === OK.Register) {
      const r1 = ins.op1Register;
      const src = gprFamily(r1);
      if (src !== NO_REG && gprWidth(r1) >= 32) {
        s.kind[i] = K_MOVR;
        s.reg[i] = SLOT0 + slot;
        s.reg2[i] = src;
        return true;
      }
    } else if (k1 === OK.Immediate32 || k1 === OK.Immediate32to64) {
      s.kind[i] = K_MOVI;
      s.reg[i] = SLOT0 + slot;
      s.val[i] = Number(BigInt.asUintN(32, ins.immediate(1)));
      return true;
    }
    s.wmask[i] = 1 << (SLOT0 + slot);
    return true;
  }
  if (slot >= 0 && ins.op0Kind === OK.Register) {
    const r0 = ins.op0Register;
    const dst = gprFamily(r0);
    if (dst !== NO_REG && gprWidth(r0) >= 32) {
      s.kind[i] = K_MOVR;
      s.reg[i] = dst;
      s.reg2[i] = SLOT0 + slot;
      return true;
    }
  }
  return false;
}

/**
 * An instruction that writes its first operand, a register: a register move, a constant load or a zeroing
 * is recorded as such (undefined returned); otherwise the register bits it writes.
 */
function registerWrite(
  s: OpStream,
  i: number,
  ins: X86Insn,
  I: Iced,
  T: Tables,
  m: number,
  r0: number,
  count: number,
): number | undefined {
  const OK = I.OpKind;
  const fam = gprFamily(r0);
  if (fam === NO_REG) return 0;
  const width = gprWidth(r0);
  const k1 = count > 1 ? ins.op1Kind : -1;
  if (m === T.mov && width >= 32 && k1 === OK.Register) {
    const r1 = ins.op1Register;
    const src = gprFamily(r1);
    if (src !== NO_REG && gprWidth(r1) === width) {
      s.kind[i] = K_MOVR;
      s.reg[i] = fam;
      s.reg2[i] = src;
      return undefined;
    }
  }
  if (
    m === T.mov &&
    width >= 32 &&
    (k1 === OK.Immediate32 || k1 === OK.Immediate64 || k1 === OK.Immediate32to64)
  ) {
    const v = ins.immediate(1);
    s.kind[i] = K_MOVI;
    s.reg[i] = fam;
    s.val[i] = width === 32 ? Number(BigInt.asUintN(32, v)) : Number(BigInt.asUintN(64, v));
    return undefined;
  }
  if ((m === T.xor || m === T.sub) && width >= 32 && k1 === OK.Register && ins.op1Register === r0) {
    s.kind[i] = K_ZERO;
    s.reg[i] = fam;
    return undefined;
  }
  let w = 1 << fam;
  if (T.both.has(m) && k1 === OK.Register) {
    const f2 = gprFamily(ins.op1Register);
    if (f2 !== NO_REG) w |= 1 << f2;
  }
  return w;
}

/** A call, jump, branch or return (or an instruction that ends a path). */
function branch(s: OpStream, i: number, ins: X86Insn, I: Iced, T: Tables): void {
  const FC = I.FlowControl;
  const OK = I.OpKind;
  switch (ins.flowControl) {
    case FC.Call:
      s.kind[i] = K_CALL;
      s.val[i] = Number(ins.nearBranchTarget);
      break;
    case FC.IndirectCall:
      s.kind[i] = K_ICALL;
      if (ins.isIpRelMemoryOperand) s.ref[i] = Number(ins.ipRelMemoryAddress);
      break;
    case FC.UnconditionalBranch:
      if (ins.op0Kind === OK.NearBranch64 || ins.op0Kind === OK.NearBranch32) {
        s.kind[i] = K_JMP;
        s.val[i] = Number(ins.nearBranchTarget);
      } else s.kind[i] = K_IJMP;
      break;
    case FC.IndirectBranch:
      s.kind[i] = K_IJMP;
      if (ins.isIpRelMemoryOperand) s.ref[i] = Number(ins.ipRelMemoryAddress);
      break;
    case FC.ConditionalBranch:
      s.kind[i] = K_JCC;
      s.val[i] = Number(ins.nearBranchTarget);
      s.wmask[i] = T.implicit.get(ins.mnemonic) ?? 0;
      break;
    case FC.Return:
      s.kind[i] = K_RET;
      break;
    default:
      // interrupts and exceptions: int3/ud2/hlt end a path (int 0x80 is i386's ABI, not x86_64's)
      if (T.stop.has(ins.mnemonic)) s.kind[i] = K_RET;
  }
}
