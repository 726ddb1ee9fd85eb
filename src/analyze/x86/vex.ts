// VEX (C4, C5), EVEX (62) and XOP (8F) encoded instructions. Which opcodes exist, and which take an
// immediate, comes from vex-valid.ts (generated); every one has a ModRM byte but vzeroupper/vzeroall. What
// the analysis needs beyond the length is which write a general register (BMI, kmov, vmovd, vpextr*,
// vcvt*2si, …): the table below; the rest write vector or mask registers.
import { st, u8 } from "./decode-state.js";
import type { Slot } from "./map0.js";
import { pick } from "./pick.js";
import {
  BAD,
  BAD_NOMODRM,
  type Entry,
  e,
  FC_EXC,
  I_B,
  I_D,
  INVALID,
  LATE_BAD,
  O_E,
  O_EX,
  O_G,
  O_V,
  W_D,
  W_Y,
} from "./spec.js";
import { VEX_OPCODES } from "./vex-valid.js";

const Gy = O_G | W_Y;
const Ey = O_E | W_Y;
const Vy = O_V | W_Y;
const PLAIN: Slot[] = [];
for (const mod of ["", "R", "M"] as const)
  PLAIN.push(
    e(0, O_EX, 0, 0, true, mod),
    e(0, O_EX, 0, I_B, true, mod),
    e(0, O_EX, 0, I_D, true, mod),
    e(0, 0, 0, 0, false),
  );
// the same, but iced reads an 8-bit immediate (and no memory operand) of the ModRM form that does not exist
const BAD_IB = e(FC_EXC | LATE_BAD, 0, 0, I_B, true, "N");
for (let k = 0; k < 12; k++) {
  const ok = PLAIN[k] as Entry;
  PLAIN.push((m) => ((ok.mod === "R" ? m < 0xc0 : ok.mod === "M" && m >= 0xc0) ? BAD_IB : ok));
}
const byPfx =
  (none: Entry, p66: Entry, f3: Entry, f2: Entry): Slot =>
  (_m, pfx) =>
    [none, p66, f3, f2][pfx];
const reg = (m: number) => (m >> 3) & 7;

/** The opcodes whose first operand is a general register: "map opcode" → slot (VEX, EVEX and XOP alike). */
const GPR = new Map<string, Slot>();
const X = e(0, O_EX);
const cvt = byPfx(X, X, e(0, Gy), e(0, Gy));
GPR.set("1 50", e(0, Gy, 0, 0, true, "R"));
for (const op of ["2c", "2d", "78", "79"]) GPR.set(`1 ${op}`, cvt);
GPR.set("1 7e", byPfx(X, e(0, Ey), X, X));
GPR.set("1 c5", byPfx(X, e(0, O_G | W_D, 0, I_B, true, "R"), X, X));
GPR.set("1 d7", byPfx(X, e(0, Gy, 0, 0, true, "R"), X, X));
GPR.set("1 93", (m) => (m >= 0xc0 ? e(0, Gy) : BAD));
for (const op of ["f2", "f5", "f6", "f7"]) GPR.set(`2 ${op}`, e(0, Gy));
GPR.set("2 f3", (m) => (reg(m) >= 1 && reg(m) <= 3 ? e(0, Vy) : BAD));
for (const op of ["14", "15", "16", "17"]) GPR.set(`3 ${op}`, e(0, Ey, 0, I_B));
GPR.set("3 f0", e(0, Gy, 0, I_B));
const cvtH = byPfx(X, X, e(0, Gy), X);
for (const op of ["2c", "2d", "78", "79"]) GPR.set(`5 ${op}`, cvtH);
GPR.set("5 7e", byPfx(X, e(0, Ey), X, X));
GPR.set("9 1", e(0, Vy));
GPR.set("9 2", e(0, Vy));
GPR.set("9 12", e(0, Ey));
GPR.set("10 10", e(0, Gy, 0, I_D));
GPR.set("10 12", e(0, Vy, 0, I_D));

/** By space, map and pp (rowIndex) → per opcode: -1 none, PLAIN's index (vex-valid.ts' code); or a GPR slot. */
type Row = (Slot | number)[];
const SPACES = ["vex", "evex", "xop"];
/** lsel: the vector length (VEX L, EVEX L'L), or 4: any (EVEX rounding forms). */
const rowIndex = (space: number, map: number, pp: number, w: number, lsel: number) =>
  (((space * 32 + map) * 4 + pp) * 2 + w) * 5 + lsel;
const ROWS: Row[] = [];
const RAW: { map: string; chars: string }[] = [];
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** An instruction that leaves vvvv unused: iced finds it invalid (once decoded) unless vvvv is 1111. */
const lateBad = new Map<Entry, Entry>();
function checkVvvv(slot: Slot): Slot {
  return (m, pfx) => {
    const ent = typeof slot === "function" ? slot(m, pfx) : (slot as Entry);
    if (ent.sem === INVALID || (st.vvvv === 0 && !(st.evex && !(st.evex & 8)))) return ent;
    let bad = lateBad.get(ent);
    if (!bad) {
      bad = { ...ent, sem: FC_EXC | LATE_BAD };
      lateBad.set(ent, bad);
    }
    return bad;
  };
}

// (vzeroupper, without a ModRM byte, is no different in the stream when invalid: left as it is)
const PLAIN_NOV = PLAIN.map((slot, k) => (k % 4 === 3 ? slot : checkVvvv(slot)));

function decodeRow(map: string, chars: string): Row {
  return [...chars].map((c, op) => {
    if (c === ".") return map === "1" && op === 0x77 ? 3 : -1; // vzeroupper's opcode reads no ModRM byte
    const key = `${map} ${op.toString(16)}`;
    const gpr = GPR.get(key);
    const v = ALPHABET.indexOf(c);
    if (gpr) return v >= 24 ? checkVvvv(gpr) : gpr;
    return v >= 24 ? PLAIN_NOV[v - 24] : v;
  });
}

for (const [key, rows] of Object.entries(VEX_OPCODES)) {
  const [space, map, pp] = key.split(" ");
  const all = rows.split("|");
  for (const [k, chars] of all.entries()) {
    const at = rowIndex(SPACES.indexOf(space), Number(map), Number(pp), Math.floor(k / (all.length / 2)), 0);
    RAW[at + (k % (all.length / 2))] = { map, chars };
  }
}

/** A row, decoded the first time it is used (building them all would cost every analysis ~20 ms at start). */
function rowAt(index: number): Row | undefined {
  let row = ROWS[index];
  if (!row && RAW[index]) {
    row = decodeRow(RAW[index].map, RAW[index].chars);
    ROWS[index] = row;
  }
  return row;
}

// VEX's shift-by-immediate groups (71–73): the ModRM.reg values that exist
const VEX_SHIFTS = [
  [2, 4, 6],
  [2, 4, 6],
  [2, 3, 6, 7],
];
const peek = () => (st.p < st.end ? st.code[st.p] : 0);

/** Reads a VEX/EVEX/XOP prefix and its opcode (and ModRM); returns the entry. */
export function vexEntry(lead: number): Entry {
  if (st.rex || st.pfx || st.lock) st.bad = true;
  st.vex = true;
  const b1 = u8();
  let map = 1;
  let rex = 0x40 | (~b1 & 0x80 ? 4 : 0);
  let b2 = b1;
  let space = 0;
  if (lead === 0xc5) {
    st.vvvv = (~b1 >> 3) & 15;
  } else {
    b2 = u8();
    map = b1 & (lead === 0x62 ? 7 : 0x1f);
    rex |= (~b1 >> 5) & 3;
    st.vvvv = (~b2 >> 3) & 15;
    if (b2 & 0x80) rex |= 8;
    if (lead === 0x62) {
      space = 1;
      st.evex = u8();
      if (b1 & 0x08 || !(b2 & 4)) {
        u8();
        return pick(BAD);
      }
    } else if (lead === 0x8f) space = 2;
  }
  st.rex = rex;
  st.w = (rex & 8) !== 0;
  st.pfx = b2 & 3;
  const op = u8();
  // EVEX: L'L is the rounding mode when b is set with a register operand
  const evexL = (st.evex >> 5) & 3;
  const rounding = space === 1 && st.evex & 0x10 && st.p < st.end && st.code[st.p] >= 0xc0;
  const lsel = rounding ? 4 : space === 1 ? evexL : (b2 >> 2) & 1;
  const row = rowAt(rowIndex(space, map, st.pfx, st.w ? 1 : 0, lsel));
  if (!row) return space === 1 || (space === 0 && map === 0) ? pick(BAD) : BAD_NOMODRM;
  const slot = row[op];
  if (typeof slot !== "number") return pick(slot);
  if (space === 0 && map === 1 && op >= 0x71 && op <= 0x73 && !VEX_SHIFTS[op - 0x71].includes(reg(peek())))
    return pick(BAD);
  return pick(slot < 0 ? BAD : PLAIN[slot]);
}
