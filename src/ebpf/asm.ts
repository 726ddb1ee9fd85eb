// An eBPF program builder: one method per instruction form, jumps to named labels, map fds as ld_imm64
// pseudo loads. Pure: assemble() gives the bytes bpf(BPF_PROG_LOAD) takes (struct bpf_insn, 8 bytes each,
// little-endian; ld_imm64 takes two). Encoding: include/uapi/linux/bpf.h and the ISA document
// (docs.kernel.org/bpf/standardization/instruction-set.html).
import {
  BPF_ADD,
  BPF_ALU,
  BPF_ALU64,
  BPF_AND,
  BPF_ARSH,
  BPF_ATOMIC,
  BPF_B,
  BPF_CALL,
  BPF_DIV,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FUNC,
  BPF_H,
  BPF_IMM,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JLE,
  BPF_JLT,
  BPF_JMP,
  BPF_JMP32,
  BPF_JNE,
  BPF_JSET,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MEM,
  BPF_MOD,
  BPF_MOV,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_PSEUDO_MAP_FD,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_TO_BE,
  BPF_TO_LE,
  BPF_W,
  BPF_X,
  BPF_XOR,
  type HelperName,
} from "../abi/ebpf.js";
import { SysfenceError } from "../errors.js";

export const R0 = 0;
export const R1 = 1;
export const R2 = 2;
export const R3 = 3;
export const R4 = 4;
export const R5 = 5;
export const R6 = 6;
export const R7 = 7;
export const R8 = 8;
export const R9 = 9;
/** The read-only frame pointer: the stack is r10 - 512 … r10 - 1. */
export const R10 = 10;

export type AluOp = "add" | "sub" | "mul" | "div" | "or" | "and" | "lsh" | "rsh" | "arsh" | "xor" | "mod";
export type JmpOp = "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "sgt" | "sge" | "slt" | "sle" | "set";
export type MemSize = 1 | 2 | 4 | 8;

export const ALU_OPS: Record<AluOp, number> = {
  add: BPF_ADD,
  sub: BPF_SUB,
  mul: BPF_MUL,
  div: BPF_DIV,
  or: BPF_OR,
  and: BPF_AND,
  lsh: BPF_LSH,
  rsh: BPF_RSH,
  arsh: BPF_ARSH,
  xor: BPF_XOR,
  mod: BPF_MOD,
};

export const JMP_OPS: Record<JmpOp, number> = {
  eq: BPF_JEQ,
  ne: BPF_JNE,
  gt: BPF_JGT,
  ge: BPF_JGE,
  lt: BPF_JLT,
  le: BPF_JLE,
  sgt: BPF_JSGT,
  sge: BPF_JSGE,
  slt: BPF_JSLT,
  sle: BPF_JSLE,
  set: BPF_JSET,
};

/** BPF_W/H/B/DW by byte count. */
export const SIZE_CODES: Record<MemSize, number> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };

/** One instruction before labels are resolved; `wide` marks ld_imm64 (its second slot holds imm >> 32). */
interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** ld_imm64's upper 32 bits. */
  hi?: number;
  /** A jump's target, resolved into off by assemble(). */
  target?: string;
}

const fail = (message: string): never => {
  throw new SysfenceError("E_EBPF", message);
};

function checkReg(r: number, what: string): number {
  if (!Number.isInteger(r) || r < 0 || r > 10) fail(`eBPF register ${what} is ${r}; registers are 0 … 10.`);
  return r;
}

function checkImm(imm: number, what: string): number {
  if (!Number.isInteger(imm) || imm < -0x80000000 || imm > 0xffffffff)
    fail(`eBPF ${what} immediate ${imm} does not fit in 32 bits; use ldImm64 for wider values.`);
  return imm | 0;
}

function checkOff(off: number, what: string): number {
  if (!Number.isInteger(off) || off < -32768 || off > 32767)
    fail(`eBPF ${what} offset ${off} does not fit in 16 signed bits (-32768 … 32767).`);
  return off;
}

function checkSize(size: number): MemSize {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8)
    fail(`eBPF memory size ${size} is not 1, 2, 4 or 8.`);
  return size as MemSize;
}

/** A program under construction. Methods return this, so they chain. */
export class EbpfAsm {
  private readonly insns: Insn[] = [];
  /** label → index into insns. */
  private readonly labels = new Map<string, number>();

  /** Instructions emitted so far, in 8-byte slots (ld_imm64 counts 2). */
  get length(): number {
    let n = 0;
    for (const i of this.insns) n += i.hi === undefined ? 1 : 2;
    return n;
  }

  private emit(insn: Insn): this {
    this.insns.push(insn);
    return this;
  }

  /** Places label `name` at the next instruction. */
  label(name: string): this {
    if (this.labels.has(name)) fail(`eBPF label "${name}" is defined twice.`);
    this.labels.set(name, this.insns.length);
    return this;
  }

  mov64Imm(dst: number, imm: number): this {
    return this.emit({
      code: BPF_ALU64 | BPF_MOV | BPF_K,
      dst: checkReg(dst, "dst"),
      src: 0,
      off: 0,
      imm: checkImm(imm, "mov"),
    });
  }
  mov64Reg(dst: number, src: number): this {
    return this.emit({
      code: BPF_ALU64 | BPF_MOV | BPF_X,
      dst: checkReg(dst, "dst"),
      src: checkReg(src, "src"),
      off: 0,
      imm: 0,
    });
  }
  mov32Imm(dst: number, imm: number): this {
    return this.emit({
      code: BPF_ALU | BPF_MOV | BPF_K,
      dst: checkReg(dst, "dst"),
      src: 0,
      off: 0,
      imm: checkImm(imm, "mov"),
    });
  }
  mov32Reg(dst: number, src: number): this {
    return this.emit({
      code: BPF_ALU | BPF_MOV | BPF_X,
      dst: checkReg(dst, "dst"),
      src: checkReg(src, "src"),
      off: 0,
      imm: 0,
    });
  }
  alu64Imm(op: AluOp, dst: number, imm: number): this {
    return this.alu(BPF_ALU64, op, dst, 0, imm, BPF_K);
  }
  alu64Reg(op: AluOp, dst: number, src: number): this {
    return this.alu(BPF_ALU64, op, dst, src, 0, BPF_X);
  }
  alu32Imm(op: AluOp, dst: number, imm: number): this {
    return this.alu(BPF_ALU, op, dst, 0, imm, BPF_K);
  }
  alu32Reg(op: AluOp, dst: number, src: number): this {
    return this.alu(BPF_ALU, op, dst, src, 0, BPF_X);
  }
  private alu(cls: number, op: AluOp, dst: number, src: number, imm: number, source: number): this {
    const code = ALU_OPS[op];
    if (code === undefined)
      fail(`eBPF ALU operation "${op}" is unknown; use one of ${Object.keys(ALU_OPS).join(", ")}.`);
    return this.emit({
      code: cls | code | source,
      dst: checkReg(dst, "dst"),
      src: checkReg(src, "src"),
      off: 0,
      imm: checkImm(imm, op),
    });
  }
  /** dst = -dst (64 bits). */
  neg64(dst: number): this {
    return this.emit({ code: BPF_ALU64 | BPF_NEG, dst: checkReg(dst, "dst"), src: 0, off: 0, imm: 0 });
  }
  /** Byte swap of the low `bits` (16, 32, 64) of dst to big- or little-endian. */
  endian(to: "be" | "le", dst: number, bits: 16 | 32 | 64): this {
    if (bits !== 16 && bits !== 32 && bits !== 64) fail(`eBPF byte swap width ${bits} is not 16, 32 or 64.`);
    return this.emit({
      code: BPF_ALU | BPF_END | (to === "be" ? BPF_TO_BE : BPF_TO_LE),
      dst: checkReg(dst, "dst"),
      src: 0,
      off: 0,
      imm: bits,
    });
  }
  /** dst = a 64-bit constant (ld_imm64, two slots). */
  ldImm64(dst: number, value: bigint): this {
    const v = BigInt.asUintN(64, value);
    return this.emit({
      code: BPF_LD | BPF_DW | BPF_IMM,
      dst: checkReg(dst, "dst"),
      src: 0,
      off: 0,
      imm: Number(v & 0xffffffffn) | 0,
      hi: Number(v >> 32n) | 0,
    });
  }
  /** dst = the address of the map whose fd is `fd` (ld_imm64 with BPF_PSEUDO_MAP_FD; the kernel rewrites it). */
  ldMapFd(dst: number, fd: number): this {
    if (!Number.isInteger(fd) || fd < 0) fail(`eBPF map fd ${fd} is not a file descriptor.`);
    return this.emit({
      code: BPF_LD | BPF_DW | BPF_IMM,
      dst: checkReg(dst, "dst"),
      src: BPF_PSEUDO_MAP_FD,
      off: 0,
      imm: fd,
      hi: 0,
    });
  }
  /** dst = *(size *)(src + off). */
  ldxMem(size: MemSize, dst: number, src: number, off: number): this {
    return this.emit({
      code: BPF_LDX | BPF_MEM | SIZE_CODES[checkSize(size)],
      dst: checkReg(dst, "dst"),
      src: checkReg(src, "src"),
      off: checkOff(off, "load"),
      imm: 0,
    });
  }
  /** *(size *)(dst + off) = src. */
  stxMem(size: MemSize, dst: number, src: number, off: number): this {
    return this.emit({
      code: BPF_STX | BPF_MEM | SIZE_CODES[checkSize(size)],
      dst: checkReg(dst, "dst"),
      src: checkReg(src, "src"),
      off: checkOff(off, "store"),
      imm: 0,
    });
  }
  /** *(size *)(dst + off) = imm (sign-extended to 8 bytes when size is 8). */
  stMem(size: MemSize, dst: number, off: number, imm: number): this {
    return this.emit({
      code: BPF_ST | BPF_MEM | SIZE_CODES[checkSize(size)],
      dst: checkReg(dst, "dst"),
      src: 0,
      off: checkOff(off, "store"),
      imm: checkImm(imm, "store"),
    });
  }
  /** lock *(size *)(dst + off) += src (BPF_ATOMIC with BPF_ADD; size 4 or 8). */
  atomicAdd(size: 4 | 8, dst: number, src: number, off: number): this {
    if (size !== 4 && size !== 8) fail(`eBPF atomic add size ${size} is not 4 or 8.`);
    return this.emit({
      code: BPF_STX | BPF_ATOMIC | SIZE_CODES[size],
      dst: checkReg(dst, "dst"),
      src: checkReg(src, "src"),
      off: checkOff(off, "atomic"),
      imm: BPF_ADD,
    });
  }
  /** if (dst op imm) goto label (64-bit compare). */
  jmpImm(op: JmpOp, dst: number, imm: number, label: string): this {
    return this.jmp(BPF_JMP, op, dst, 0, imm, BPF_K, label);
  }
  /** if (dst op src) goto label (64-bit compare). */
  jmpReg(op: JmpOp, dst: number, src: number, label: string): this {
    return this.jmp(BPF_JMP, op, dst, src, 0, BPF_X, label);
  }
  /** if ((u32)dst op imm) goto label. */
  jmp32Imm(op: JmpOp, dst: number, imm: number, label: string): this {
    return this.jmp(BPF_JMP32, op, dst, 0, imm, BPF_K, label);
  }
  /** if ((u32)dst op (u32)src) goto label. */
  jmp32Reg(op: JmpOp, dst: number, src: number, label: string): this {
    return this.jmp(BPF_JMP32, op, dst, src, 0, BPF_X, label);
  }
  private jmp(
    cls: number,
    op: JmpOp,
    dst: number,
    src: number,
    imm: number,
    source: number,
    label: string,
  ): this {
    const code = JMP_OPS[op];
    if (code === undefined)
      fail(`eBPF jump "${op}" is unknown; use one of ${Object.keys(JMP_OPS).join(", ")}.`);
    return this.emit({
      code: cls | code | source,
      dst: checkReg(dst, "dst"),
      src: checkReg(src, "src"),
      off: 0,
      imm: checkImm(imm, `jump ${op}`),
      target: label,
    });
  }
  /** goto label. */
  ja(label: string): this {
    return this.emit({ code: BPF_JMP | BPF_JA, dst: 0, src: 0, off: 0, imm: 0, target: label });
  }
  /** Calls a helper by name or id (arguments in r1 … r5, result in r0; r1 … r5 are clobbered). */
  call(helper: HelperName | number): this {
    const id = typeof helper === "number" ? helper : BPF_FUNC[helper];
    if (id === undefined || !Number.isInteger(id) || id <= 0) fail(`eBPF helper "${helper}" is unknown.`);
    return this.emit({ code: BPF_JMP | BPF_CALL, dst: 0, src: 0, off: 0, imm: id });
  }
  /** Returns r0. */
  exit(): this {
    return this.emit({ code: BPF_JMP | BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  }

  /** The program's bytes, labels resolved. Throws E_EBPF naming a label that is undefined or out of reach. */
  assemble(): Buffer {
    const slotOf: number[] = [];
    let slot = 0;
    for (const i of this.insns) {
      slotOf.push(slot);
      slot += i.hi === undefined ? 1 : 2;
    }
    slotOf.push(slot);
    const out = Buffer.alloc(slot * 8);
    this.insns.forEach((insn, index) => {
      let off = insn.off;
      if (insn.target !== undefined) {
        const at = this.labels.get(insn.target);
        if (at === undefined)
          fail(
            `eBPF jump at instruction ${slotOf[index]} goes to label "${insn.target}", which is not defined.`,
          );
        off = slotOf[at!] - (slotOf[index] + 1);
        if (off < -32768 || off > 32767)
          fail(
            `eBPF jump at instruction ${slotOf[index]} to label "${insn.target}" is ${off} instructions away; a jump reaches -32768 … 32767.`,
          );
      }
      const p = slotOf[index] * 8;
      out[p] = insn.code;
      out[p + 1] = (insn.src << 4) | insn.dst;
      out.writeInt16LE(off, p + 2);
      out.writeInt32LE(insn.imm, p + 4);
      if (insn.hi !== undefined) out.writeInt32LE(insn.hi, p + 12);
    });
    return out;
  }
}
