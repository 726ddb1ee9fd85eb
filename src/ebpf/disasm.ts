// eBPF bytes back to text, one line per instruction, in the verifier's notation ("r1 = *(u64 *)(r10 - 8)",
// "if r0 == 0x0 goto +3", "call map_lookup_elem"). Pure; for error messages and tests.
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_FUNC_NAMES,
  BPF_IMM,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MOV,
  BPF_NEG,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  BPF_ST,
  BPF_STX,
  BPF_TO_BE,
  BPF_X,
} from "../abi/ebpf.js";
import { ALU_OPS, JMP_OPS, type MemSize, SIZE_CODES } from "./asm.js";

const ALU_TEXT: Record<string, string> = {
  add: "+=",
  sub: "-=",
  mul: "*=",
  div: "/=",
  or: "|=",
  and: "&=",
  lsh: "<<=",
  rsh: ">>=",
  arsh: "s>>=",
  xor: "^=",
  mod: "%=",
};
const JMP_TEXT: Record<string, string> = {
  eq: "==",
  ne: "!=",
  gt: ">",
  ge: ">=",
  lt: "<",
  le: "<=",
  sgt: "s>",
  sge: "s>=",
  slt: "s<",
  sle: "s<=",
  set: "&",
};
const aluByCode = new Map(Object.entries(ALU_OPS).map(([name, code]) => [code, ALU_TEXT[name]]));
const jmpByCode = new Map(Object.entries(JMP_OPS).map(([name, code]) => [code, JMP_TEXT[name]]));
const sizeByCode = new Map(
  Object.entries(SIZE_CODES).map(([bytes, code]) => [code, Number(bytes) as MemSize]),
);

const hex = (n: number | bigint): string =>
  n < 0 ? `-0x${(-BigInt(n)).toString(16)}` : `0x${n.toString(16)}`;
const mem = (size: MemSize, reg: number, off: number): string =>
  `*(u${size * 8} *)(r${reg} ${off < 0 ? "-" : "+"} ${Math.abs(off)})`;
const rel = (off: number): string => (off < 0 ? `${off}` : `+${off}`);

/** One line per instruction; ld_imm64 takes one line for its two slots. Unknown opcodes print as such. */
export function disassembleEbpf(code: Buffer): string[] {
  const lines: string[] = [];
  for (let p = 0; p + 8 <= code.length; p += 8) {
    const op = code[p];
    const dst = code[p + 1] & 0x0f;
    const src = code[p + 1] >> 4;
    const off = code.readInt16LE(p + 2);
    const imm = code.readInt32LE(p + 4);
    const cls = op & 0x07;
    let text: string | undefined;
    if (cls === BPF_ALU64 || cls === BPF_ALU) {
      const r = cls === BPF_ALU64 ? "r" : "w";
      const operation = op & 0xf0;
      const operand = op & BPF_X ? `${r}${src}` : hex(imm);
      if (operation === BPF_MOV) text = `${r}${dst} = ${operand}`;
      else if (operation === BPF_NEG) text = `${r}${dst} = -${r}${dst}`;
      else if (operation === BPF_END) text = `r${dst} = ${op & BPF_TO_BE ? "be" : "le"}${imm} r${dst}`;
      else {
        const t = aluByCode.get(operation);
        if (t) text = `${r}${dst} ${t} ${operand}`;
      }
    } else if (cls === BPF_JMP || cls === BPF_JMP32) {
      const operation = op & 0xf0;
      if (cls === BPF_JMP && operation === BPF_JA) text = `goto ${rel(off)}`;
      else if (cls === BPF_JMP && operation === BPF_CALL)
        text = src === BPF_PSEUDO_CALL ? `call pc${rel(imm)}` : `call ${BPF_FUNC_NAMES[imm] ?? `#${imm}`}`;
      else if (cls === BPF_JMP && operation === BPF_EXIT) text = "exit";
      else {
        const t = jmpByCode.get(operation);
        const r = cls === BPF_JMP ? "r" : "w";
        if (t) text = `if ${r}${dst} ${t} ${op & BPF_X ? `${r}${src}` : hex(imm)} goto ${rel(off)}`;
      }
    } else if (cls === BPF_LD && op === (BPF_LD | BPF_DW | BPF_IMM) && p + 16 <= code.length) {
      const hi = code.readUInt32LE(p + 12);
      if (src === BPF_PSEUDO_MAP_FD) text = `r${dst} = map[fd:${imm}]`;
      else if (src === BPF_PSEUDO_MAP_VALUE) text = `r${dst} = map_value[fd:${imm}] + ${hi}`;
      else text = `r${dst} = ${hex((BigInt(hi) << 32n) | BigInt(imm >>> 0))} ll`;
      p += 8;
    } else {
      const size = sizeByCode.get(op & 0x18);
      const mode = op & 0xe0;
      if (size && cls === BPF_LDX && mode === BPF_MEM) text = `r${dst} = ${mem(size, src, off)}`;
      else if (size && cls === BPF_STX && mode === BPF_MEM) text = `${mem(size, dst, off)} = r${src}`;
      else if (size && cls === BPF_ST && mode === BPF_MEM) text = `${mem(size, dst, off)} = ${hex(imm)}`;
      else if (size && cls === BPF_STX && mode === BPF_ATOMIC) {
        const t = aluByCode.get(imm & 0xf0);
        if (t && t !== "-=" && (imm & ~(0xf0 | BPF_FETCH)) === 0)
          text = `lock ${mem(size, dst, off)} ${t} r${src}${imm & BPF_FETCH ? " (fetch)" : ""}`;
      }
    }
    lines.push(
      text ?? `.insn 0x${op.toString(16).padStart(2, "0")} dst=r${dst} src=r${src} off=${off} imm=${imm}`,
    );
  }
  return lines;
}

/** The disassembly numbered by slot ("  0: r6 = r1"), as the verifier's log numbers instructions. */
export function listEbpf(code: Buffer): string {
  const lines = disassembleEbpf(code);
  const out: string[] = [];
  let slot = 0;
  for (const line of lines) {
    out.push(`${String(slot).padStart(4)}: ${line}`);
    slot += line.endsWith(" ll") || line.includes("map[") || line.includes("map_value[") ? 2 : 1;
  }
  return out.join("\n");
}
