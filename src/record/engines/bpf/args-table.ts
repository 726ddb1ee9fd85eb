// sys_exit's and sys_enter's syscall table (`args`, ARG layout) for one recording: the registers counted by
// value (script.ts VALUE_ARGS), the open family's path and flags registers (PATH_USES), and the call that
// starts the work phase (--after first:SYSCALL). kernel.ts puts it in the `args` map.
import type { ArchName } from "../../../syscalls/arches.js";
import { syscallNumber, syscallTable } from "../../../syscalls/table.js";
import type { PhaseSpec } from "../../builder.js";
import { PATH_USES } from "../../path-access.js";
import { SYSCALLS } from "./layout.js";
import { ARG, ARG_BITS } from "./programs.js";
import { VALUE_ARGS } from "./script.js";

/** The calls whose path the engine reads (at sys_exit): the open family. */
export const PATH_CALLS = ["open", "openat", "openat2", "creat"] as const;

/**
 * The syscall table `args` by syscall number (ARG layout): which registers are counted by value
 * (VALUE_ARGS, at most three), which register holds the path and the open flags, and the call that
 * starts the work phase (--after first:SYSCALL).
 */
export function argsTable(arch: ArchName, regs: readonly number[], phase: PhaseSpec): Buffer {
  const t = Buffer.alloc(SYSCALLS * ARG.size);
  const entry = (name: string) => {
    const nr = syscallNumber(arch, name);
    return nr === undefined || nr >= SYSCALLS ? undefined : nr * ARG.size;
  };
  for (const [name, idx] of VALUE_ARGS) {
    const at = entry(name);
    if (at === undefined || idx.length === 0) continue;
    const picked = idx.slice(0, 3);
    t[at + ARG.count] = picked.length;
    picked.forEach((i, k) => {
      t[at + ARG.value + k] = regs[i];
    });
  }
  for (const name of PATH_CALLS) {
    const at = entry(name);
    const use = PATH_USES[name]?.[0];
    if (at === undefined || !use) continue;
    t[at + ARG.path] = regs[use.arg] + 1;
    if (use.flags >= 0 && !use.how) t[at + ARG.flags] = regs[use.flags] + 1;
    t[at + ARG.bits] |= ARG_BITS.path;
  }
  if (phase.kind === "first") {
    const p = phase.syscall;
    for (const name of Object.keys(syscallTable(arch)))
      if (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p) {
        const at = entry(name);
        if (at !== undefined) t[at + ARG.bits] |= ARG_BITS.first;
      }
  }
  return t;
}
