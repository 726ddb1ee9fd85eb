import type { ArchName } from "./arches.js";
import { ARCHES } from "./arches.js";
import { ARG_CLASSES } from "./generated/arg-classes.js";

/** How the kernel reads one argument: its width in bits and whether ordered comparisons are signed. */
export interface ArgWidth {
  bits: 16 | 32 | 64;
  signed: boolean;
  /** The C-level class from the kernel prototype: i32, u32, u16, u64, s64, ptr, or unknown. */
  kind: string;
}

/**
 * Width of argument `index` of `syscall` on `arch`.
 * The kernel's syscall wrappers truncate `int`/`unsigned int` parameters to their low 32 bits, so a filter
 * must compare only those bits (include/linux/syscalls.h, __SC_CAST); a signed `long` on a 32-bit arch is a
 * 32-bit int. 64-bit values compare unsigned, as libseccomp does.
 */
export function argWidth(syscall: string, index: number, arch: ArchName): ArgWidth {
  const kind = ARG_CLASSES[syscall]?.[index] ?? "unknown";
  const is32Arch = ARCHES[arch].bits === 32;
  switch (kind) {
    case "i32":
      return { bits: 32, signed: true, kind };
    case "u32":
      return { bits: 32, signed: false, kind };
    case "u16":
      return { bits: 16, signed: false, kind };
    case "s64":
      return is32Arch ? { bits: 32, signed: true, kind } : { bits: 64, signed: false, kind };
    default:
      // Unsigned longs and pointers: on 32-bit arches the kernel zero-extends the register into
      // seccomp_data's 64-bit slot, so comparing all 64 bits is exact there too.
      return { bits: 64, signed: false, kind };
  }
}

/** Number of arguments the kernel prototype declares; undefined when sysfence has no prototype. */
export function argCount(syscall: string): number | undefined {
  return ARG_CLASSES[syscall]?.length;
}

/** True when argument `index` is a pointer: a filter sees the address, never what it points to. */
export function isPointerArg(syscall: string, index: number): boolean {
  return ARG_CLASSES[syscall]?.[index] === "ptr";
}
