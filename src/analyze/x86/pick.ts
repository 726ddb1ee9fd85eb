import { readModrm, st } from "./decode-state.js";
import type { Slot } from "./map0.js";
import type { Entry } from "./spec.js";

/** The entry of a table slot, reading the ModRM byte when the slot needs one. */
export function pick(slot: Slot): Entry {
  if (typeof slot === "function") return slot(readModrm(), st.pfx);
  if (Array.isArray(slot)) return slot[(readModrm() >> 3) & 7];
  if (slot.modrm) readModrm();
  return slot;
}
