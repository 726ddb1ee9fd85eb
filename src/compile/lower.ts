import * as O from "../abi/opcodes.js";
import { argOffsets } from "../abi/seccomp-data.js";
import type { Assembler, Label } from "../bpf/assembler.js";
import type { ResolvedCondition } from "../policy/resolve.js";

const SIGN_FLIP = 0x80000000;

/**
 * Emits code that jumps to `pass` when the condition holds and to `fail` otherwise.
 * 64-bit arguments compare both 32-bit halves (high first); narrower arguments compare only the bits the
 * kernel reads, so 0x1_00005412 is TIOCSTI to an `unsigned int cmd` rule, as it is to the kernel.
 * Signed 32-bit ordered comparisons flip the sign bit on both sides to use BPF's unsigned jumps.
 */
export function lowerCondition(
  asm: Assembler,
  c: ResolvedCondition,
  littleEndian: boolean,
  pass: Label,
  fail: Label,
  holding?: number,
): number | undefined {
  const { lo, hi } = argOffsets(c.arg, littleEndian);
  const loOf = (v: bigint) => Number(v & 0xffffffffn);
  const hiOf = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
  if (c.bits < 64) {
    // A still holds this word when the previous rule compared the same argument without changing A.
    if (holding !== lo || c.bits === 16) asm.load(lo);
    if (c.bits === 16) asm.alu(O.BPF_AND, 0xffff);
    if (c.op === "&==") {
      const mask = loOf(c.mask) & (c.bits === 16 ? 0xffff : 0xffffffff);
      const value = loOf(c.value);
      lowerMaskedWord(asm, mask, value, pass, fail);
      // A is unchanged only when no AND was needed (JSET for == 0, or a full mask)
      return c.bits === 32 && ((value === 0 && mask !== 0) || mask === 0xffffffff) ? lo : undefined;
    }
    let v = loOf(c.value);
    if (c.signed && c.op !== "==" && c.op !== "!=") {
      asm.alu(O.BPF_XOR, SIGN_FLIP);
      v = (v ^ SIGN_FLIP) >>> 0;
      lowerWordCompare(asm, c.op, v, pass, fail);
      return undefined;
    }
    lowerWordCompare(asm, c.op, v, pass, fail);
    return c.bits === 32 ? lo : undefined;
  }
  const vh = hiOf(c.value);
  const vl = loOf(c.value);
  const next = asm.newLabel("lo");
  switch (c.op) {
    case "==":
      asm.load(hi).jump(O.BPF_JEQ, vh, next, fail).label(next);
      asm.load(lo).jump(O.BPF_JEQ, vl, pass, fail);
      return undefined;
    case "!=":
      asm.load(hi).jump(O.BPF_JEQ, vh, next, pass).label(next);
      asm.load(lo).jump(O.BPF_JEQ, vl, fail, pass);
      return undefined;
    case ">":
    case ">=":
    case "<":
    case "<=": {
      // a > v  ⇔  hi(a) > hi(v) ∨ (hi(a) = hi(v) ∧ lo(a) > lo(v)); a < v ⇔ ¬(a ≥ v), a ≤ v ⇔ ¬(a > v).
      const strict = c.op === ">" || c.op === "<=";
      const [t, f] = c.op === ">" || c.op === ">=" ? [pass, fail] : [fail, pass];
      const eqHi = asm.newLabel("eqhi");
      asm.load(hi).jump(O.BPF_JGT, vh, t, eqHi).label(eqHi);
      asm.jump(O.BPF_JEQ, vh, next, f).label(next);
      asm.load(lo).jump(strict ? O.BPF_JGT : O.BPF_JGE, vl, t, f);
      return undefined;
    }
    case "&==": {
      const mh = hiOf(c.mask);
      const ml = loOf(c.mask);
      if (mh === 0) {
        if (vh !== 0) {
          asm.ja(fail);
          return undefined;
        }
      } else {
        asm.load(hi);
        lowerMaskedWord(asm, mh, vh, next, fail);
        asm.label(next);
      }
      asm.load(lo);
      lowerMaskedWord(asm, ml, vl, pass, fail);
      return undefined;
    }
  }
}

/** A holds a word: (A & mask) == value. */
function lowerMaskedWord(asm: Assembler, mask: number, value: number, pass: Label, fail: Label): void {
  if ((value & ~mask) !== 0) {
    asm.ja(fail); // bits outside the mask can never be equal
    return;
  }
  if (value === 0) {
    if (mask === 0) asm.ja(pass);
    else asm.jump(O.BPF_JSET, mask, fail, pass); // one instruction: any masked bit set → fail
    return;
  }
  if (mask !== 0xffffffff) asm.alu(O.BPF_AND, mask);
  asm.jump(O.BPF_JEQ, value, pass, fail);
}

/** A holds the (possibly sign-flipped) word; compare unsigned. */
function lowerWordCompare(asm: Assembler, op: string, v: number, pass: Label, fail: Label): void {
  switch (op) {
    case "==":
      asm.jump(O.BPF_JEQ, v, pass, fail);
      return;
    case "!=":
      asm.jump(O.BPF_JEQ, v, fail, pass);
      return;
    case ">":
      asm.jump(O.BPF_JGT, v, pass, fail);
      return;
    case ">=":
      asm.jump(O.BPF_JGE, v, pass, fail);
      return;
    case "<":
      asm.jump(O.BPF_JGE, v, fail, pass);
      return;
    case "<=":
      asm.jump(O.BPF_JGT, v, fail, pass);
      return;
  }
}
