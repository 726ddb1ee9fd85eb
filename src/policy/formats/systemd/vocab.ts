// systemd's seccomp vocabulary, written once for both directions: its architecture names (seccomp-util.c
// seccomp_arch_to_string), the settings sysfence reads and writes, and its errno limit. The reader is
// read.ts; the unit-file export (src/export/systemd.ts) writes the same words.
import type { ArchName } from "../../../syscalls/arches.js";

/** systemd's name of each architecture (SystemCallArchitectures=). */
export const SYSTEMD_ARCH: Record<ArchName, string> = {
  x86_64: "x86-64",
  i386: "x86",
  x32: "x32",
  aarch64: "arm64",
  arm: "arm",
  riscv64: "riscv64",
  ppc64le: "ppc64-le",
  s390x: "s390x",
};

/** The architecture a systemd name means, or undefined when it is not one of SYSTEMD_ARCH's. */
export function archOfSystemdName(name: string): ArchName | undefined {
  return (Object.keys(SYSTEMD_ARCH) as ArchName[]).find((a) => SYSTEMD_ARCH[a] === name);
}

/** The settings that make a seccomp filter (systemd.exec(5)). */
export const SYSTEMD_SETTINGS = [
  "SystemCallFilter",
  "SystemCallErrorNumber",
  "SystemCallArchitectures",
  "SystemCallLog",
] as const;

/** systemd's ERRNO_MAX: parse_errno() takes 0..4095 or a name. */
export const ERRNO_MAX = 4095;
