import * as O from "../abi/opcodes.js";
import { OFF_IP, SECCOMP_DATA_SIZE } from "../abi/seccomp-data.js";
import { SysfenceError } from "../errors.js";
import type { Insn } from "./insn.js";

/** The input a seccomp filter sees: struct seccomp_data, with 64-bit values as bigints. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args?: readonly bigint[];
}

/** What a filter decided, and what it cost. */
export interface EmulationResult {
  /** The 32-bit return value (action | data). */
  value: number;
  /** Instructions executed, the return included. */
  executed: number;
  /** True when the run loaded anything beyond nr and arch (the kernel then cannot cache the decision). */
  readArgs: boolean;
  /** Program counters visited, in order (only with trace: true). */
  trace?: number[];
}

/** Packs seccomp_data into the 64-byte layout the filter reads; 64-bit fields follow the arch's byte order. */
export function packSeccompData(data: SeccompData, littleEndian = true): Uint32Array {
  const words = new Uint32Array(SECCOMP_DATA_SIZE / 4);
  words[0] = data.nr >>> 0;
  words[1] = data.arch >>> 0;
  const put64 = (wordIndex: number, v: bigint) => {
    const u = BigInt.asUintN(64, v);
    const lo = Number(u & 0xffffffffn);
    const hi = Number(u >> 32n);
    words[wordIndex] = littleEndian ? lo : hi;
    words[wordIndex + 1] = littleEndian ? hi : lo;
  };
  put64(OFF_IP / 4, data.instructionPointer ?? 0n);
  const args = data.args ?? [];
  for (let i = 0; i < 6; i++) put64(4 + 2 * i, args[i] ?? 0n);
  return words;
}

/** Whether a conditional jump (BPF_JMP, not BPF_JA) is taken for A and its operand (k or X). */
function jumpTaken(c: number, A: number, operand: number, pc: number): boolean {
  switch (c & 0xf0) {
    case O.BPF_JEQ:
      return A === operand;
    case O.BPF_JGT:
      return A > operand;
    case O.BPF_JGE:
      return A >= operand;
    case O.BPF_JSET:
      return (A & operand) !== 0;
    default:
      throw new SysfenceError("E_BPF_INVALID", `instruction ${pc}: unknown jump 0x${c.toString(16)}.`);
  }
}

/** A after an ALU instruction on A and its operand (k or X), as an unsigned 32-bit value; undefined for a
 * division or remainder by zero, which ends the program with 0 (as the kernel's interpreter does). */
function aluResult(c: number, A: number, operand: number, pc: number): number | undefined {
  switch (c & 0xf0) {
    case O.BPF_ADD:
      return (A + operand) >>> 0;
    case O.BPF_SUB:
      return (A - operand) >>> 0;
    case O.BPF_MUL:
      return Math.imul(A, operand) >>> 0;
    case O.BPF_DIV:
      return operand === 0 ? undefined : Math.floor(A / operand) >>> 0;
    case O.BPF_MOD:
      return operand === 0 ? undefined : (A % operand) >>> 0;
    case O.BPF_AND:
      return (A & operand) >>> 0;
    case O.BPF_OR:
      return (A | operand) >>> 0;
    case O.BPF_XOR:
      return (A ^ operand) >>> 0;
    case O.BPF_LSH:
      return operand >= 32 ? 0 : (A << operand) >>> 0;
    case O.BPF_RSH:
      return operand >= 32 ? 0 : A >>> operand;
    case O.BPF_NEG:
      return -A >>> 0;
    default:
      throw new SysfenceError("E_BPF_INVALID", `instruction ${pc}: unknown ALU op 0x${c.toString(16)}.`);
  }
}

/** A program prepared for fast repeated emulation. */
export class Emulator {
  private readonly code: Uint16Array;
  private readonly jt: Uint8Array;
  private readonly jf: Uint8Array;
  private readonly k: Uint32Array;

  constructor(program: readonly Insn[]) {
    if (program.length === 0) throw new SysfenceError("E_BPF_INVALID", "cannot emulate an empty program.");
    this.code = Uint16Array.from(program, (i) => i.code);
    this.jt = Uint8Array.from(program, (i) => i.jt);
    this.jf = Uint8Array.from(program, (i) => i.jf);
    this.k = Uint32Array.from(program, (i) => i.k >>> 0);
  }

  /** Runs the filter on packed seccomp_data words; the semantics follow the kernel's classic BPF interpreter. */
  runWords(data: Uint32Array, trace = false): EmulationResult {
    const { code, jt, jf, k } = this;
    const n = code.length;
    const mem = new Uint32Array(O.BPF_MEMWORDS);
    const visited: number[] | undefined = trace ? [] : undefined;
    let A = 0;
    let X = 0;
    let pc = 0;
    let executed = 0;
    let readArgs = false;
    while (pc < n) {
      const c = code[pc];
      const kk = k[pc];
      visited?.push(pc);
      executed++;
      switch (c) {
        case O.BPF_LD | O.BPF_W | O.BPF_ABS:
          if (kk % 4 !== 0 || kk >= SECCOMP_DATA_SIZE)
            throw new SysfenceError("E_BPF_INVALID", `instruction ${pc}: bad load offset ${kk}.`);
          if (kk >= OFF_IP) readArgs = true;
          A = data[kk >>> 2];
          break;
        case O.BPF_LD | O.BPF_W | O.BPF_LEN:
          A = SECCOMP_DATA_SIZE;
          break;
        case O.BPF_LDX | O.BPF_W | O.BPF_LEN:
          X = SECCOMP_DATA_SIZE;
          break;
        case O.BPF_LD | O.BPF_IMM:
          A = kk;
          break;
        case O.BPF_LDX | O.BPF_IMM:
          X = kk;
          break;
        case O.BPF_LD | O.BPF_MEM:
          A = mem[kk];
          break;
        case O.BPF_LDX | O.BPF_MEM:
          X = mem[kk];
          break;
        case O.BPF_ST:
          mem[kk] = A;
          break;
        case O.BPF_STX:
          mem[kk] = X;
          break;
        case O.BPF_MISC | O.BPF_TAX:
          X = A;
          break;
        case O.BPF_MISC | O.BPF_TXA:
          A = X;
          break;
        case O.BPF_RET | O.BPF_K:
          return { value: kk, executed, readArgs, trace: visited };
        case O.BPF_RET | O.BPF_A:
          return { value: A >>> 0, executed, readArgs, trace: visited };
        case O.BPF_JMP | O.BPF_JA:
          pc += 1 + kk;
          continue;
        default: {
          const klass = c & 0x07;
          const operand = (c & O.BPF_X) === O.BPF_X ? X : kk;
          if (klass === O.BPF_JMP) {
            pc += 1 + (jumpTaken(c, A, operand, pc) ? jt[pc] : jf[pc]);
            continue;
          }
          if (klass !== O.BPF_ALU)
            throw new SysfenceError(
              "E_BPF_INVALID",
              `instruction ${pc}: opcode 0x${c.toString(16)} is not valid in a seccomp filter.`,
            );
          const result = aluResult(c, A, operand, pc);
          if (result === undefined) return { value: 0, executed, readArgs, trace: visited };
          A = result;
        }
      }
      pc++;
    }
    throw new SysfenceError("E_BPF_INVALID", "program ran off its end without returning.");
  }

  /** Runs the filter on seccomp_data. */
  run(data: SeccompData, options: { littleEndian?: boolean; trace?: boolean } = {}): EmulationResult {
    return this.runWords(packSeccompData(data, options.littleEndian ?? true), options.trace ?? false);
  }
}

/** One-shot emulation. */
export function emulate(
  program: readonly Insn[],
  data: SeccompData,
  options: { littleEndian?: boolean; trace?: boolean } = {},
) {
  return new Emulator(program).run(data, options);
}
