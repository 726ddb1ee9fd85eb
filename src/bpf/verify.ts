import * as O from "../abi/opcodes.js";
import { SECCOMP_DATA_SIZE } from "../abi/seccomp-data.js";
import type { Insn } from "./insn.js";

/**
 * Checks a program the way the kernel does before accepting it as a seccomp filter
 * (kernel/bpf/core.c bpf_check_classic + kernel/seccomp.c seccomp_check_filter).
 * Returns every problem found; an empty list means the kernel would accept it.
 */
export function verifyProgram(program: readonly Insn[]): string[] {
  const problems: string[] = [];
  const n = program.length;
  if (n === 0) return ["program is empty."];
  if (n > O.BPF_MAXINSNS)
    problems.push(`too many BPF instructions: ${n}; the kernel's limit is ${O.BPF_MAXINSNS}.`);
  program.forEach((ins, pc) => {
    const at = `instruction ${pc}`;
    const c = ins.code;
    switch (O.cls(c)) {
      case O.BPF_LD:
        if (c === (O.BPF_LD | O.BPF_W | O.BPF_ABS)) {
          if (ins.k % 4 !== 0 || ins.k >= SECCOMP_DATA_SIZE)
            problems.push(`${at}: load from offset ${ins.k} is outside struct seccomp_data or unaligned.`);
        } else if (c === (O.BPF_LD | O.BPF_W | O.BPF_LEN) || c === (O.BPF_LD | O.BPF_IMM)) {
          // allowed
        } else if (c === (O.BPF_LD | O.BPF_MEM)) {
          if (ins.k >= O.BPF_MEMWORDS) problems.push(`${at}: scratch slot ${ins.k} is out of range.`);
        } else problems.push(`${at}: load opcode 0x${c.toString(16)} is not allowed in seccomp filters.`);
        break;
      case O.BPF_LDX:
        if (c === (O.BPF_LDX | O.BPF_IMM) || c === (O.BPF_LDX | O.BPF_W | O.BPF_LEN)) break;
        if (c === (O.BPF_LDX | O.BPF_MEM)) {
          if (ins.k >= O.BPF_MEMWORDS) problems.push(`${at}: scratch slot ${ins.k} is out of range.`);
          break;
        }
        problems.push(`${at}: opcode 0x${c.toString(16)} is not allowed in seccomp filters.`);
        break;
      case O.BPF_ST:
      case O.BPF_STX:
        if (c !== O.BPF_ST && c !== O.BPF_STX) problems.push(`${at}: bad store opcode 0x${c.toString(16)}.`);
        else if (ins.k >= O.BPF_MEMWORDS) problems.push(`${at}: scratch slot ${ins.k} is out of range.`);
        break;
      case O.BPF_ALU:
        aluProblems(ins, at, problems);
        break;
      case O.BPF_JMP: {
        const jop = O.op(c);
        if (jop === O.BPF_JA) {
          if (c !== (O.BPF_JMP | O.BPF_JA)) problems.push(`${at}: bad jump opcode 0x${c.toString(16)}.`);
          else if (ins.k >= n - pc - 1) problems.push(`${at}: ja +${ins.k} jumps past the end.`);
        } else if ([O.BPF_JEQ, O.BPF_JGT, O.BPF_JGE, O.BPF_JSET].includes(jop)) {
          if (pc + 1 + ins.jt >= n || pc + 1 + ins.jf >= n)
            problems.push(`${at}: conditional jump past the end.`);
        } else problems.push(`${at}: jump opcode 0x${c.toString(16)} is unknown.`);
        break;
      }
      case O.BPF_RET:
        if (c !== (O.BPF_RET | O.BPF_K) && c !== (O.BPF_RET | O.BPF_A))
          problems.push(`${at}: return opcode 0x${c.toString(16)} is not allowed.`);
        break;
      case O.BPF_MISC:
        if (c !== (O.BPF_MISC | O.BPF_TAX) && c !== (O.BPF_MISC | O.BPF_TXA))
          problems.push(`${at}: misc opcode 0x${c.toString(16)} is unknown.`);
        break;
    }
  });
  const last = program[n - 1];
  if (O.cls(last.code) !== O.BPF_RET) problems.push(`the last instruction (${n - 1}) must be a return.`);
  problems.push(...checkScratchInitialised(program));
  return problems;
}

/** The ALU operations a seccomp filter may use (kernel/bpf/core.c bpf_check_classic). */
const ALU_OPS = [
  O.BPF_ADD,
  O.BPF_SUB,
  O.BPF_MUL,
  O.BPF_DIV,
  O.BPF_AND,
  O.BPF_OR,
  O.BPF_XOR,
  O.BPF_LSH,
  O.BPF_RSH,
  O.BPF_NEG,
];

/** An ALU instruction's problems: an operation not allowed, a division by constant zero, a shift by 32 or more. */
function aluProblems(ins: Insn, at: string, problems: string[]): void {
  const c = ins.code;
  const aop = O.op(c);
  if (!ALU_OPS.includes(aop))
    problems.push(`${at}: ALU operation 0x${aop.toString(16)} is not allowed in seccomp filters.`);
  if (aop === O.BPF_DIV && O.src(c) === O.BPF_K && ins.k === 0)
    problems.push(`${at}: division by constant zero.`);
  if ((aop === O.BPF_LSH || aop === O.BPF_RSH) && O.src(c) === O.BPF_K && ins.k >= 32)
    problems.push(`${at}: shift by ${ins.k}.`);
}

/** The kernel rejects a program that may read a scratch slot before writing it (check_load_and_stores). */
function checkScratchInitialised(program: readonly Insn[]): string[] {
  const n = program.length;
  const ALL = 0xffff;
  const masks = new Array<number>(n).fill(ALL);
  masks[0] = 0;
  const problems: string[] = [];
  for (let pc = 0; pc < n; pc++) {
    let m = masks[pc];
    const ins = program[pc];
    const c = ins.code;
    if (c === O.BPF_ST || c === O.BPF_STX) m |= 1 << ins.k;
    if ((c === (O.BPF_LD | O.BPF_MEM) || c === (O.BPF_LDX | O.BPF_MEM)) && !(m & (1 << ins.k))) {
      problems.push(`instruction ${pc}: reads scratch slot ${ins.k} before any store.`);
    }
    if (O.cls(c) === O.BPF_JMP) {
      if (O.op(c) === O.BPF_JA) {
        const t = pc + 1 + ins.k;
        if (t < n) masks[t] &= m;
      } else {
        if (pc + 1 + ins.jt < n) masks[pc + 1 + ins.jt] &= m;
        if (pc + 1 + ins.jf < n) masks[pc + 1 + ins.jf] &= m;
      }
    } else if (O.cls(c) !== O.BPF_RET && pc + 1 < n) {
      masks[pc + 1] &= m;
    }
  }
  return problems;
}
