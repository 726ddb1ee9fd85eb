// VEX (C4, C5), EVEX (62) and XOP (8F) encoded instructions: every one has a ModRM byte; map 3 (and a few
// map-1 opcodes) an 8-bit immediate, XOP map 10 a 32-bit one. What the analysis needs from them is which
// write a general register (BMI, kmov, vmovd, vpextr*, vcvt*2si, …); the rest write vector registers.
import { pick } from "./pick.js";
import { st, u8 } from "./decode-state.js";
import type { Slot } from "./map0.js";
import { BAD, e, type Entry, I_B, I_D, O_E, O_EX, O_G, O_V, W_D, W_Y } from "./spec.js";

const Gy = O_G | W_Y;
const Ey = O_E | W_Y;
const Vy = O_V | W_Y;
const X = e(0, O_EX);
const XI = e(0, O_EX, 0, I_B);
const NOMODRM = e(0, 0, 0, 0, false);

/** Opcode → slot, for VEX/EVEX maps 1–3, 5, 6 and XOP maps 8–10 (index: map). */
const MAPS: Slot[][] = [];
for (const map of [1, 2, 3, 5, 6, 8, 9, 10]) MAPS[map] = new Array(256).fill(map === 3 || map === 8 ? XI : X);
const byPfx =
  (none: Entry, p66: Entry, f3: Entry, f2: Entry): Slot =>
  (_m, pfx) =>
    [none, p66, f3, f2][pfx];
const reg = (m: number) => (m >> 3) & 7;
for (const b of [0x70, 0x71, 0x72, 0x73, 0xc2, 0xc4, 0xc5, 0xc6]) MAPS[1][b] = XI;
MAPS[1][0x50] = byPfx(e(0, Gy, 0, 0, true, "R"), e(0, Gy, 0, 0, true, "R"), BAD, BAD);
MAPS[1][0x2c] = byPfx(X, X, e(0, Gy), e(0, Gy));
MAPS[1][0x2d] = MAPS[1][0x2c];
MAPS[1][0x78] = byPfx(X, X, e(0, Gy), e(0, Gy));
MAPS[1][0x79] = MAPS[1][0x78];
MAPS[1][0x7e] = byPfx(X, e(0, Ey), X, X);
MAPS[1][0xc5] = byPfx(XI, e(0, O_G | W_D, 0, I_B, true, "R"), XI, XI);
MAPS[1][0xd7] = byPfx(X, e(0, Gy, 0, 0, true, "R"), X, X);
MAPS[1][0x93] = (m) => (m >= 0xc0 ? e(0, Gy) : BAD);
MAPS[1][0x77] = NOMODRM;
MAPS[2][0xf2] = e(0, Gy);
MAPS[2][0xf3] = (m) => (reg(m) >= 1 && reg(m) <= 3 ? e(0, Vy) : BAD);
MAPS[2][0xf5] = e(0, Gy);
MAPS[2][0xf6] = e(0, Gy);
MAPS[2][0xf7] = e(0, Gy);
for (const b of [0x14, 0x15, 0x16, 0x17]) MAPS[3][b] = e(0, Ey, 0, I_B);
MAPS[3][0xf0] = e(0, Gy, 0, I_B);
MAPS[5][0x2c] = byPfx(X, X, e(0, Gy), X);
MAPS[5][0x2d] = MAPS[5][0x2c];
MAPS[5][0x78] = MAPS[5][0x2c];
MAPS[5][0x79] = MAPS[5][0x2c];
MAPS[5][0x7e] = byPfx(X, e(0, Ey), X, X);
// XOP (AMD): only the opcodes AMD defines; the others are invalid after their ModRM byte
const XOP8 = [0x85, 0x86, 0x87, 0x8e, 0x8f, 0x95, 0x96, 0x97, 0x9e, 0x9f, 0xa2, 0xa3, 0xa6, 0xb6];
const XOP9 = [0x80, 0x81, 0x82, 0x83, 0xc1, 0xc2, 0xc3, 0xc6, 0xc7, 0xcb, 0xd1, 0xd2, 0xd3, 0xd6, 0xd7, 0xdb];
for (let b = 0; b < 256; b++) {
  const x8 = XOP8.includes(b) || (b >= 0xc0 && b <= 0xc3) || (b >= 0xcc && b <= 0xcf) || b >= 0xec;
  if (!x8 || b > 0xef) MAPS[8][b] = BAD;
  if (!XOP9.includes(b) && !(b >= 0x90 && b <= 0x9b) && !(b >= 0xe1 && b <= 0xe3)) MAPS[9][b] = BAD;
}
MAPS[9][0x01] = e(0, Vy);
MAPS[9][0x02] = e(0, Vy);
MAPS[9][0x12] = e(0, Ey);
MAPS[10] = new Array(256).fill(BAD);
MAPS[10][0x10] = e(0, Gy, 0, I_D);
MAPS[10][0x12] = e(0, Vy, 0, I_D);

/** Reads a VEX/EVEX/XOP prefix and its opcode (and ModRM); returns the entry. */
export function vexEntry(lead: number): Entry {
  if (st.rex || st.pfx || st.lock) st.bad = true;
  st.vex = true;
  const b1 = u8();
  let map = 1;
  let rex = 0x40 | (~b1 & 0x80 ? 4 : 0);
  let b2 = b1;
  if (lead === 0xc5) {
    st.vvvv = (~b1 >> 3) & 15;
  } else {
    b2 = u8();
    map = b1 & (lead === 0x62 ? 7 : 0x1f);
    rex |= (~b1 >> 5) & 3;
    st.vvvv = (~b2 >> 3) & 15;
    if (b2 & 0x80) rex |= 8;
    if (lead === 0x62) {
      const p2 = u8();
      if (b1 & 0x08 || !(b2 & 4)) {
        u8();
        return pick(BAD);
      }
      st.evex = p2;
    }
  }
  st.rex = rex;
  st.w = (rex & 8) !== 0;
  st.pfx = b2 & 3;
  const table = MAPS[map];
  const op = u8();
  if (!table || (lead === 0x8f ? map < 8 : map > 6)) return pick(BAD);
  return pick(table[op]);
}
