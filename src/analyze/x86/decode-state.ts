// The decoder's state: the instruction being read (st) and what it decodes to (insn), one object each, reused.

/** The decoded instruction. Operand kinds: 0 other, 1 register, 2 memory, 3 imm32/64, 4 a smaller imm. */
export const insn = {
  len: 0,
  sem: 0,
  o0k: 0,
  /** A register operand's family (0–15), 255 for a register that is not a general one. */
  o0r: 0,
  o0w: 0,
  o1k: 0,
  o1r: 0,
  o1w: 0,
  /** mov's immediate as iced's immediate(1) reads it: unsigned, 64-bit when sign-extended to 64. */
  imm: 0,
  /** Its low 32 bits. */
  imm32: 0,
  /** Memory: base family (0–15; 16 none, rip, or a 32-bit register), whether indexed, the displacement. */
  mbase: 16,
  mindex: false,
  mdisp: 0,
  /** The rip-relative address, else NaN; the branch target, else NaN. */
  ref: Number.NaN,
  target: Number.NaN,
};

export const st = {
  code: new Uint8Array(0) as Uint8Array,
  p: 0,
  /** Where reading stops: the code's end or 15 bytes on; `over` once a read went past it. */
  end: 0,
  over: false,
  rex: 0,
  w: false,
  o16: false,
  a32: false,
  lock: false,
  /** Mandatory prefix: 0 none, 1 66, 2 F3, 3 F2. */
  pfx: 0,
  modrm: -1,
  /** Whether ModRM.r/m names a register (mod = 3, or mov to/from a control register). */
  rmReg: false,
  vex: false,
  vvvv: 0,
  /** EVEX's third byte (z, L'L, b, V', aaa), 0 otherwise. */
  evex: 0,
  /** Invalid once decoded (a prefix VEX forbids, EVEX's fixed bits wrong): read to its end, then INVALID. */
  bad: false,
};

export function u8(): number {
  if (st.p >= st.end) {
    st.over = true;
    st.p++;
    return 0;
  }
  return st.code[st.p++];
}

export function readModrm(): number {
  if (st.modrm < 0) st.modrm = u8();
  return st.modrm;
}
