// A Landlock section's lists as the kernel sees them once the launcher has opened them.
import { realpathSync } from "node:fs";
import type { LandlockSection } from "../policy/model.js";
import type { LandlockLists } from "./landlock-judge.js";

/** A section's lists as the kernel would see them: real paths (the launcher opens them), /proc/self kept. */
export function listsOf(section: LandlockSection): LandlockLists {
  const real = (p: string) => {
    if (p.startsWith("/proc/")) return p;
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  return {
    read: section.read.map((p) => real(p.path)),
    write: section.write.map((p) => real(p.path)),
    execute: section.execute.map((p) => real(p.path)),
    devices: section.devices.map((p) => real(p.path)),
  };
}
