// One x86_64 instruction: its length and the facts x86.ts keeps, read from the tables (map0.ts, map0f.ts,
// vex.ts). Lengths and invalid encodings follow iced-x86 (the decoder this one replaced): an instruction that
// runs past 15 bytes or past the code is invalid and as long as what is left (at most 15 bytes).
import { insn, st, u8 } from "./decode-state.js";
import { MAP0 } from "./map0.js";
import { MAP0F, MAP0F3A, MAP0F38 } from "./map0f.js";
import { operands } from "./operands.js";
import { pick } from "./pick.js";
import { BAD_NOMODRM, type Entry, e, FC_EXC, I_B, INVALID, LATE_BAD, NOP } from "./spec.js";
import { vexEntry } from "./vex.js";

export { insn };

/** Decodes the instruction at `pos` (address `ip`) into `insn`; returns its length. */
export function decodeAt(code: Uint8Array, pos: number, ip: number): number {
  st.code = code;
  st.p = pos;
  st.end = Math.min(code.length, pos + 15);
  st.over = false;
  st.rex = 0;
  st.w = false;
  st.o16 = false;
  st.a32 = false;
  st.lock = false;
  st.pfx = 0;
  st.modrm = -1;
  st.rmReg = false;
  st.vex = false;
  st.vvvv = 0;
  st.evex = 0;
  st.bad = false;
  insn.o0k = insn.o1k = 0;
  insn.o0r = insn.o1r = 255;
  insn.mbase = 16;
  insn.mindex = false;
  insn.mdisp = 0;
  insn.ref = insn.target = Number.NaN;
  const ent = prefixesAndEntry();
  insn.sem = ent.sem;
  let ok = ent.sem !== INVALID && operands(ent, ip, pos, opByte) && !(ent.sem & LATE_BAD);
  if (ok && opByte === 0x0f && ent.imm === I_B && st.modrm >= 0 && !NOW3D.has(insn.imm32)) ok = false;
  let len = st.p - pos;
  if (st.over) len = Math.min(15, code.length - pos);
  if (!ok || st.over || st.bad) {
    insn.sem = FC_EXC;
    insn.o0k = insn.o1k = 0;
    insn.ref = insn.target = Number.NaN;
  }
  insn.len = len;
  return len;
}

let opByte = 0;
/** The 3DNow! opcodes (0F 0F's trailing byte). */
const NOW3D = new Set([
  0x0c, 0x0d, 0x1c, 0x1d, 0x86, 0x87, 0x8a, 0x8e, 0x90, 0x94, 0x96, 0x97, 0x9a, 0x9e, 0xa0, 0xa4, 0xa6, 0xa7,
  0xaa, 0xae, 0xb0, 0xb4, 0xb6, 0xb7, 0xbb, 0xbf,
]);

/** Reads the prefixes and the opcode; returns the table entry (the ModRM byte read when it needs one). */
function prefixesAndEntry(): Entry {
  for (;;) {
    const b = u8();
    if (st.over) return BAD_NOMODRM;
    if (b >= 0x40 && b <= 0x4f) {
      st.rex = b;
      st.w = (b & 8) !== 0;
      continue;
    }
    if (b === 0x66) {
      st.o16 = true;
      if (st.pfx === 0) st.pfx = 1;
    } else if (b === 0x67) st.a32 = true;
    else if (b === 0xf0) st.lock = true;
    else if (b === 0xf2) st.pfx = 3;
    else if (b === 0xf3) st.pfx = 2;
    else if (b !== 0x26 && b !== 0x2e && b !== 0x36 && b !== 0x3e && b !== 0x64 && b !== 0x65) {
      opByte = b;
      return opcode(b);
    }
    st.rex = 0;
    st.w = false;
  }
}

function opcode(b: number): Entry {
  if (b === 0x0f) {
    const b2 = u8();
    opByte = b2;
    if (b2 === 0x38) return pick(MAP0F38[u8()]);
    if (b2 === 0x3a) return pick(MAP0F3A[u8()]);
    return pick(MAP0F[b2]);
  }
  if (b === 0xc4 || b === 0xc5 || b === 0x62) return vexEntry(b);
  if (b === 0x8f && st.p < st.end && (st.code[st.p] & 0x1f) >= 8) return vexEntry(b);
  if (b === 0x90 && st.pfx === 2) return PAUSE;
  if (b === 0x90 && !(st.rex & 1)) return NOP90;
  if ((b === 0x9c || b === 0x9d) && st.o16 && !st.w) return PUSHF16;
  return pick(MAP0[b]);
}

const NOP90 = e(NOP, 0, 0, 0, false);
const PAUSE = e(0, 0, 0, 0, false);
const PUSHF16 = e(0, 0, 0, 0, false);
