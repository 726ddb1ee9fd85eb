// What this host offers the bpf engine: whether it can run (root, BTF, a known architecture), how large
// its pid-keyed maps are, whether a program is a 32-bit (compat) one, which file a process runs.
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, readSync } from "node:fs";

/** Distinct (process, image, thread, syscall, phase, values) keys each count map holds (SYSFENCE_BPF_MAP_KEYS). */
export const MAP_KEYS = Number(process.env.SYSFENCE_BPF_MAP_KEYS) || 262_144;

/** Keys of the maps by pid (process state, image numbers): MAP_KEYS, or fewer when pid_max is lower. */
export function pidKeys(): number {
  try {
    const max = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8"));
    return Number.isInteger(max) && max > 0 ? Math.min(MAP_KEYS, max) : MAP_KEYS;
  } catch {
    return MAP_KEYS;
  }
}

/**
 * Whether the file is a 32-bit ELF program (EI_CLASS ELFCLASS32, elf.h): on a 64-bit kernel it makes
 * compat syscalls (ia32 on x86_64, AArch32 on arm64), numbered by another table than the native one.
 */
export function is32bit(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const h = Buffer.alloc(5);
    return readSync(fd, h, 0, 5, 0) === 5 && h.readUInt32BE(0) === 0x7f454c46 && h[4] === 1;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The program process pid runs (its /proc/PID/exe), "?" when it cannot be read. */
export function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return "?";
  }
}

/** Why the bpf engine cannot run here (null: it can): it needs root and the kernel's BTF. */
export function bpfUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "loading eBPF programs needs root";
  if (!existsSync("/sys/kernel/btf/vmlinux")) return "the kernel has no BTF (/sys/kernel/btf/vmlinux)";
  if (process.arch !== "x64" && process.arch !== "arm64")
    return `the bpf engine does not know ${process.arch}`;
  return null;
}

/** Whether the bpf engine can run here: root, BTF, x86_64 or arm64. */
export function bpfAvailable(): boolean {
  return bpfUnavailable() === null;
}
