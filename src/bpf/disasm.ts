import { decodeActionValue } from "../abi/action.js";
import * as O from "../abi/opcodes.js";
import { OFF_ARCH, OFF_ARGS, OFF_IP, OFF_NR } from "../abi/seccomp-data.js";
import { formatAction } from "../policy/actions.js";
import { type ArchName, archByAudit, X32_SYSCALL_BIT } from "../syscalls/arches.js";
import { syscallName } from "../syscalls/table.js";
import type { Insn } from "./insn.js";

/** What the accumulator holds at an instruction, as far as a forward pass can tell. */
type AState = { what: "nr" | "arch" | "arg" | "other"; arch?: ArchName | "?" };

const ALU_NAMES: Record<number, string> = {
  [O.BPF_ADD]: "add",
  [O.BPF_SUB]: "sub",
  [O.BPF_MUL]: "mul",
  [O.BPF_DIV]: "div",
  [O.BPF_OR]: "or",
  [O.BPF_AND]: "and",
  [O.BPF_LSH]: "lsh",
  [O.BPF_RSH]: "rsh",
  [O.BPF_NEG]: "neg",
  [O.BPF_MOD]: "mod",
  [O.BPF_XOR]: "xor",
};
const JMP_NAMES: Record<number, string> = {
  [O.BPF_JEQ]: "jeq",
  [O.BPF_JGT]: "jgt",
  [O.BPF_JGE]: "jge",
  [O.BPF_JSET]: "jset",
};

/** One line of a listing. */
export interface DisasmLine {
  pc: number;
  insn: Insn;
  text: string;
  comment: string;
}

/** Names a seccomp_data offset. */
function fieldName(k: number): string {
  if (k === OFF_NR) return "nr";
  if (k === OFF_ARCH) return "arch";
  if (k === OFF_IP) return "ip.lo";
  if (k === OFF_IP + 4) return "ip.hi";
  if (k >= OFF_ARGS && k < OFF_ARGS + 48) {
    const i = (k - OFF_ARGS) >> 3;
    return `args[${i}].${(k - OFF_ARGS) % 8 === 0 ? "w0" : "w1"}`;
  }
  return `data[${k}]`;
}

const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, "0")}`;

type Merge = (t: number, s: AState, arch: ArchName | "?" | undefined) => void;

/** A non-jump instruction's text and comment, and what A holds after it (`st`: what it held before). */
function plainInsn(ins: Insn, st: AState): { text: string; comment: string; next: AState } {
  const c = ins.code;
  let text = `unknown 0x${c.toString(16)}`;
  let comment = "";
  let next: AState = { what: "other" };
  switch (O.cls(c)) {
    case O.BPF_LD:
      if (O.mode(c) === O.BPF_ABS) {
        text = `ld  $data[${ins.k}]`;
        comment = fieldName(ins.k);
        next = {
          what: ins.k === OFF_NR ? "nr" : ins.k === OFF_ARCH ? "arch" : ins.k >= OFF_ARGS ? "arg" : "other",
        };
      } else if (O.mode(c) === O.BPF_IMM) text = `ld  #${hex(ins.k)}`;
      else if (O.mode(c) === O.BPF_MEM) text = `ld  M[${ins.k}]`;
      else if (O.mode(c) === O.BPF_LEN) text = "ld  #len";
      break;
    case O.BPF_LDX:
      text =
        O.mode(c) === O.BPF_MEM
          ? `ldx M[${ins.k}]`
          : O.mode(c) === O.BPF_LEN
            ? "ldx #len"
            : `ldx #${hex(ins.k)}`;
      next = st;
      break;
    case O.BPF_ST:
      text = `st  M[${ins.k}]`;
      next = st;
      break;
    case O.BPF_STX:
      text = `stx M[${ins.k}]`;
      next = st;
      break;
    case O.BPF_ALU:
      text = `${ALU_NAMES[O.op(c)] ?? "alu?"} ${O.src(c) === O.BPF_X ? "X" : `#${hex(ins.k)}`}`;
      break;
    case O.BPF_MISC:
      text = O.miscop(c) === O.BPF_TAX ? "tax" : "txa";
      next = O.miscop(c) === O.BPF_TAX ? st : { what: "other" };
      break;
    case O.BPF_RET: {
      if (O.rval(c) === O.BPF_A) text = "ret A";
      else {
        text = `ret #${hex(ins.k)}`;
        comment = formatAction(decodeActionValue(ins.k));
      }
      break;
    }
  }
  return { text, comment, next };
}

/** A jump's text and comment (the arch a JEQ on arch matches, the syscall a JEQ on nr names); its state
 * flows to its targets through `merge`. */
function jumpInsn(
  ins: Insn,
  pc: number,
  st: AState,
  arch: ArchName | "?",
  merge: Merge,
): { text: string; comment: string } {
  const c = ins.code;
  let text: string;
  let comment = "";
  if (O.op(c) === O.BPF_JA) {
    text = `ja  ${pc + 1 + ins.k}`;
    merge(pc + 1 + ins.k, st, arch);
  } else {
    const name = JMP_NAMES[O.op(c)] ?? "j?";
    const operand = O.src(c) === O.BPF_X ? "X" : hex(ins.k);
    text = `${name} ${operand}, ${pc + 1 + ins.jt}, ${pc + 1 + ins.jf}`;
    let trueArch = arch;
    if (st.what === "arch" && O.op(c) === O.BPF_JEQ) {
      const a = archByAudit(ins.k);
      comment = a ? `arch == ${a.name}` : "arch";
      trueArch = a?.name ?? "?";
    } else if (st.what === "nr" && O.src(c) === O.BPF_K) {
      comment = nrComment(ins.k, arch);
    }
    merge(pc + 1 + ins.jt, st, trueArch);
    merge(pc + 1 + ins.jf, st, arch);
  }
  return { text, comment };
}

/**
 * Disassembles a seccomp program into a listing with syscall names, architectures and actions.
 * A forward data-flow pass tracks which arch a path has matched and whether A holds nr or arch.
 * `arch` is assumed when the program never checks the architecture.
 */
export function disassemble(program: readonly Insn[], options: { arch?: ArchName } = {}): DisasmLine[] {
  const n = program.length;
  const states: (AState | undefined)[] = new Array(n).fill(undefined);
  const archAt: (ArchName | "?" | undefined)[] = new Array(n).fill(undefined);
  states[0] = { what: "other" };
  archAt[0] = options.arch ?? "?";
  const merge = (t: number, s: AState, arch: ArchName | "?" | undefined) => {
    if (t >= n) return;
    const prev = states[t];
    states[t] = prev === undefined ? s : prev.what === s.what ? prev : { what: "other" };
    const pa = archAt[t];
    archAt[t] = pa === undefined ? arch : pa === arch ? pa : "?";
  };
  const lines: DisasmLine[] = [];
  for (let pc = 0; pc < n; pc++) {
    const ins = program[pc];
    const st = states[pc] ?? { what: "other" };
    const arch = archAt[pc] ?? "?";
    if (O.cls(ins.code) === O.BPF_JMP) {
      const { text, comment } = jumpInsn(ins, pc, st, arch, merge);
      lines.push({ pc, insn: ins, text, comment });
      continue;
    }
    const { text, comment, next } = plainInsn(ins, st);
    if (O.cls(ins.code) !== O.BPF_RET) merge(pc + 1, next, arch);
    lines.push({ pc, insn: ins, text, comment });
  }
  return lines;
}

function nrComment(k: number, arch: ArchName | "?"): string {
  if (arch === "?") return `nr ${k}`;
  if (arch === "x86_64" && k >= X32_SYSCALL_BIT) {
    const x = syscallName("x32", k);
    return x ? `x32 ${x}` : k === X32_SYSCALL_BIT ? "x32 bit" : `nr ${k}`;
  }
  const name = syscallName(arch, k);
  return name ? `${name}` : `nr ${k}`;
}

/** Renders a listing as text, one instruction per line. */
export function formatListing(lines: readonly DisasmLine[]): string {
  const width = String(Math.max(0, lines.length - 1)).length;
  return lines
    .map((l) => {
      const raw = `${String(l.pc).padStart(width, "0")}: ${hex(l.insn.code).slice(6)} ${String(l.insn.jt).padStart(3)} ${String(l.insn.jf).padStart(3)} ${hex(l.insn.k)}`;
      return `${raw}   ${l.text.padEnd(28)}${l.comment ? `; ${l.comment}` : ""}`.trimEnd();
    })
    .join("\n");
}
