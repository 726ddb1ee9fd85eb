// Classic BPF opcode fields, from include/uapi/linux/bpf_common.h and include/uapi/linux/filter.h. An
// opcode is the OR of a class and the fields that class reads; the functions below take a field back out.

/** Instruction class: load into the accumulator A. */
export const BPF_LD = 0x00;
/** Instruction class: load into the index register X. */
export const BPF_LDX = 0x01;
/** Instruction class: store A into scratch memory M[k]. */
export const BPF_ST = 0x02;
/** Instruction class: store X into scratch memory M[k]. */
export const BPF_STX = 0x03;
/** Instruction class: arithmetic or logic on A (with k or X). */
export const BPF_ALU = 0x04;
/** Instruction class: jump (unconditional, or comparing A with k or X). */
export const BPF_JMP = 0x05;
/** Instruction class: return a value (for seccomp, the action). */
export const BPF_RET = 0x06;
/** Instruction class: register transfer (TAX, TXA). */
export const BPF_MISC = 0x07;

/** Load size: a 32-bit word. */
export const BPF_W = 0x00;
/** Load size: a 16-bit half word. */
export const BPF_H = 0x08;
/** Load size: a byte. */
export const BPF_B = 0x10;

/** Load mode: the constant k. */
export const BPF_IMM = 0x00;
/** Load mode: the packet (for seccomp, struct seccomp_data) at offset k. */
export const BPF_ABS = 0x20;
/** Load mode: the packet at offset X + k. */
export const BPF_IND = 0x40;
/** Load mode: scratch memory M[k]. */
export const BPF_MEM = 0x60;
/** Load mode: the packet length (for seccomp, sizeof(struct seccomp_data)). */
export const BPF_LEN = 0x80;

/** ALU operation: A + operand. */
export const BPF_ADD = 0x00;
/** ALU operation: A - operand. */
export const BPF_SUB = 0x10;
/** ALU operation: A * operand. */
export const BPF_MUL = 0x20;
/** ALU operation: A / operand (unsigned; division by zero ends the program with 0). */
export const BPF_DIV = 0x30;
/** ALU operation: A | operand. */
export const BPF_OR = 0x40;
/** ALU operation: A & operand. */
export const BPF_AND = 0x50;
/** ALU operation: A << operand. */
export const BPF_LSH = 0x60;
/** ALU operation: A >> operand (logical). */
export const BPF_RSH = 0x70;
/** ALU operation: -A (no operand). */
export const BPF_NEG = 0x80;
/** ALU operation: A % operand (unsigned). */
export const BPF_MOD = 0x90;
/** ALU operation: A ^ operand. */
export const BPF_XOR = 0xa0;

/** Jump: always, k instructions forward. */
export const BPF_JA = 0x00;
/** Jump: to jt when A == operand, else to jf. */
export const BPF_JEQ = 0x10;
/** Jump: to jt when A > operand (unsigned), else to jf. */
export const BPF_JGT = 0x20;
/** Jump: to jt when A >= operand (unsigned), else to jf. */
export const BPF_JGE = 0x30;
/** Jump: to jt when A & operand is not 0, else to jf. */
export const BPF_JSET = 0x40;

/** Operand source: the constant k. */
export const BPF_K = 0x00;
/** Operand source: the index register X. */
export const BPF_X = 0x08;
/** Return value source: the accumulator A (BPF_RET only). */
export const BPF_A = 0x10;

/** Misc operation: copy A into X. */
export const BPF_TAX = 0x00;
/** Misc operation: copy X into A. */
export const BPF_TXA = 0x80;

/** BPF_MAXINSNS from include/uapi/linux/bpf_common.h: the kernel refuses longer programs. */
export const BPF_MAXINSNS = 4096;
/** MAX_INSNS_PER_PATH from kernel/seccomp.c: the kernel refuses a filter when the stack it joins passes this. */
export const MAX_INSNS_PER_PATH = 32768;
/** BPF_MEMWORDS: scratch memory slots. */
export const BPF_MEMWORDS = 16;

/** The instruction class (BPF_LD … BPF_MISC). */
export const cls = (code: number) => code & 0x07;
/** A load's size (BPF_W, BPF_H, BPF_B). */
export const size = (code: number) => code & 0x18;
/** A load's mode (BPF_IMM … BPF_LEN). */
export const mode = (code: number) => code & 0xe0;
/** An ALU or jump operation (BPF_ADD …, BPF_JA …). */
export const op = (code: number) => code & 0xf0;
/** An ALU or jump operand's source (BPF_K or BPF_X). */
export const src = (code: number) => code & 0x08;
/** A return's value source (BPF_K, BPF_X or BPF_A). */
export const rval = (code: number) => code & 0x18;
/** A BPF_MISC instruction's operation (BPF_TAX or BPF_TXA). */
export const miscop = (code: number) => code & 0xf8;
