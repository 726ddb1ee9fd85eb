import * as O from "../abi/opcodes.js";
import { SysfenceError } from "../errors.js";
import { type Insn, insn } from "./insn.js";

/** A jump target: a label name. */
export type Label = string;

type Item =
  | { kind: "label"; name: Label }
  | { kind: "insn"; insn: Insn }
  | { kind: "ja"; target: Label }
  | { kind: "jcc"; code: number; k: number; jt: Label; jf: Label; farT: boolean; farF: boolean };

/**
 * Builds a BPF program with symbolic labels. Conditional jumps reach at most 255 instructions ahead;
 * a farther target gets a trampoline right after the jump: a copy of the target's `ret` when it is
 * one (no extra instruction executed), else a `ja` (32-bit offset).
 */
export class Assembler {
  private readonly items: Item[] = [];
  private labelCount = 0;

  /** A fresh, unique label name. */
  newLabel(hint = "L"): Label {
    return `${hint}${this.labelCount++}`;
  }

  /** Places a label at the current position. */
  label(name: Label): this {
    this.items.push({ kind: "label", name });
    return this;
  }

  /** Appends a plain (non-jump) instruction. */
  emit(code: number, k = 0): this {
    this.items.push({ kind: "insn", insn: insn(code, k) });
    return this;
  }

  /** A = seccomp_data word at byte offset k. */
  load(offset: number): this {
    return this.emit(O.BPF_LD | O.BPF_W | O.BPF_ABS, offset);
  }

  /** A = A <op> k. */
  alu(aluOp: number, k: number): this {
    return this.emit(O.BPF_ALU | aluOp | O.BPF_K, k);
  }

  /** return k. */
  ret(k: number): this {
    return this.emit(O.BPF_RET | O.BPF_K, k);
  }

  /** Unconditional jump. */
  ja(target: Label): this {
    this.items.push({ kind: "ja", target });
    return this;
  }

  /** if (A <jop> k) goto jt else goto jf. */
  jump(jop: number, k: number, jt: Label, jf: Label): this {
    this.items.push({
      kind: "jcc",
      code: O.BPF_JMP | jop | O.BPF_K,
      k: k >>> 0,
      jt,
      jf,
      farT: false,
      farF: false,
    });
    return this;
  }

  /** Resolves labels and long jumps; the result is ready for the kernel. */
  assemble(): Insn[] {
    const { items } = this;
    const retAt = this.retAtLabel();
    for (let round = 0; round < 64; round++) {
      const pos = this.layout();
      let changed = false;
      items.forEach((it, idx) => {
        if (it.kind !== "jcc") return;
        const p = pos.at[idx];
        if (!it.farT && this.target(pos, it.jt) - (p + 1) > 255) {
          it.farT = true;
          changed = true;
        }
        if (!it.farF && this.target(pos, it.jf) - (p + 1) > 255) {
          it.farF = true;
          changed = true;
        }
      });
      if (!changed) return this.emitResolved(pos, retAt);
    }
    throw new SysfenceError("E_BPF_INVALID", "assembler: long-jump layout did not converge.");
  }

  private retAtLabel(): Map<Label, number> {
    const out = new Map<Label, number>();
    const pending: Label[] = [];
    for (const it of this.items) {
      if (it.kind === "label") pending.push(it.name);
      else {
        if (it.kind === "insn" && it.insn.code === (O.BPF_RET | O.BPF_K))
          for (const l of pending) out.set(l, it.insn.k);
        pending.length = 0;
      }
    }
    return out;
  }

  private layout(): { at: number[]; labels: Map<Label, number>; length: number } {
    const at: number[] = [];
    const labels = new Map<Label, number>();
    let p = 0;
    for (const it of this.items) {
      at.push(p);
      if (it.kind === "label") {
        if (labels.has(it.name))
          throw new SysfenceError("E_BPF_INVALID", `assembler: label ${it.name} defined twice.`);
        labels.set(it.name, p);
      } else if (it.kind === "jcc") p += 1 + (it.farT ? 1 : 0) + (it.farF ? 1 : 0);
      else p += 1;
    }
    return { at, labels, length: p };
  }

  private target(pos: { labels: Map<Label, number> }, l: Label): number {
    const t = pos.labels.get(l);
    if (t === undefined) throw new SysfenceError("E_BPF_INVALID", `assembler: label ${l} is never defined.`);
    return t;
  }

  private emitResolved(
    pos: { at: number[]; labels: Map<Label, number>; length: number },
    retAt: Map<Label, number>,
  ): Insn[] {
    const out: Insn[] = [];
    const far = (l: Label, at: number): Insn => {
      const k = retAt.get(l);
      if (k !== undefined) return insn(O.BPF_RET | O.BPF_K, k);
      return insn(O.BPF_JMP | O.BPF_JA, this.target(pos, l) - (at + 1));
    };
    this.items.forEach((it, idx) => {
      const p = pos.at[idx];
      if (it.kind === "label") return;
      if (it.kind === "insn") out.push({ ...it.insn });
      else if (it.kind === "ja") {
        const off = this.target(pos, it.target) - (p + 1);
        if (off < 0) throw new SysfenceError("E_BPF_INVALID", `assembler: backward jump to ${it.target}.`);
        out.push(insn(O.BPF_JMP | O.BPF_JA, off));
      } else {
        let slot = p + 1;
        const tPos = it.farT ? slot++ : this.target(pos, it.jt);
        const fPos = it.farF ? slot++ : this.target(pos, it.jf);
        const jt = tPos - (p + 1);
        const jf = fPos - (p + 1);
        if (jt < 0 || jf < 0 || jt > 255 || jf > 255)
          throw new SysfenceError("E_BPF_INVALID", "assembler: jump out of range after layout.");
        out.push({ code: it.code, jt, jf, k: it.k });
        if (it.farT) out.push(far(it.jt, p + 1));
        if (it.farF) out.push(far(it.jf, p + 1 + (it.farT ? 1 : 0)));
      }
    });
    return out;
  }
}
