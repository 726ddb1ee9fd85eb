import { Emulator } from "../bpf/emulator.js";
import type { Insn } from "../bpf/insn.js";
import type { ResolvedPolicy } from "../policy/resolve.js";
import { ARCHES, type ArchName } from "../syscalls/arches.js";
import { syscallTable } from "../syscalls/table.js";

/** Cost figures for a program. */
export interface CompileStats {
  /** Instructions in the program. */
  length: number;
  /** Per arch: instructions executed per known syscall (all arguments zero). */
  perArch: { arch: ArchName; min: number; median: number; max: number; syscalls: number }[];
  /** Syscalls whose decision loads arguments (they have argument rules). */
  argumentChecked: number;
  /** Syscalls decided from arch and number alone: the kernel's action cache can skip the filter for them. */
  cacheable: number;
}

/** Emulates every known syscall of every arch in the policy to measure the program. */
export function computeStats(program: readonly Insn[], resolved: ResolvedPolicy): CompileStats {
  const emu = new Emulator(program);
  const perArch: CompileStats["perArch"] = [];
  let argumentChecked = 0;
  let cacheable = 0;
  for (const f of resolved.arches) {
    const info = ARCHES[f.arch];
    const counts: number[] = [];
    for (const nr of Object.values(syscallTable(f.arch))) {
      const r = emu.run({ nr, arch: info.audit }, { littleEndian: info.littleEndian });
      counts.push(r.executed);
      if (r.readArgs) argumentChecked++;
      else cacheable++;
    }
    counts.sort((a, b) => a - b);
    perArch.push({
      arch: f.arch,
      min: counts[0],
      median: counts[counts.length >> 1],
      max: counts[counts.length - 1],
      syscalls: counts.length,
    });
  }
  return { length: program.length, perArch, argumentChecked, cacheable };
}
