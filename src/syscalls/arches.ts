import { SysfenceError } from "../errors.js";

/** Architectures sysfence has syscall tables for. */
export type ArchName = "x86_64" | "i386" | "x32" | "aarch64" | "arm" | "riscv64" | "ppc64le" | "s390x";

/** What the compiler needs to know about one architecture. */
export interface ArchInfo {
  name: ArchName;
  /** AUDIT_ARCH_* value the kernel puts in seccomp_data.arch (include/uapi/linux/audit.h). */
  audit: number;
  /** Register width: on 32-bit arches every argument is 32 bits wide. */
  bits: 32 | 64;
  littleEndian: boolean;
  /** x32 shares AUDIT_ARCH_X86_64 and marks its numbers with __X32_SYSCALL_BIT. */
  nrBase: number;
  /** Docker/OCI names (SCMP_ARCH_* and Go's GOARCH) that mean this arch. */
  aliases: readonly string[];
}

/** __X32_SYSCALL_BIT from arch/x86/include/uapi/asm/unistd.h. */
export const X32_SYSCALL_BIT = 0x40000000;

/** Every architecture sysfence has syscall tables for, by name: its AUDIT_ARCH value, register width, byte order and the Docker/OCI names that mean it. */
// AUDIT_ARCH_* = EM_* | __AUDIT_ARCH_64BIT (0x80000000) | __AUDIT_ARCH_LE (0x40000000), include/uapi/linux/audit.h.
export const ARCHES: Readonly<Record<ArchName, ArchInfo>> = {
  x86_64: {
    name: "x86_64",
    audit: 0xc000003e,
    bits: 64,
    littleEndian: true,
    nrBase: 0,
    aliases: ["amd64", "SCMP_ARCH_X86_64", "x86-64"],
  },
  i386: {
    name: "i386",
    audit: 0x40000003,
    bits: 32,
    littleEndian: true,
    nrBase: 0,
    aliases: ["x86", "386", "i686", "SCMP_ARCH_X86"],
  },
  x32: {
    name: "x32",
    audit: 0xc000003e,
    bits: 64,
    littleEndian: true,
    nrBase: X32_SYSCALL_BIT,
    aliases: ["SCMP_ARCH_X32"],
  },
  aarch64: {
    name: "aarch64",
    audit: 0xc00000b7,
    bits: 64,
    littleEndian: true,
    nrBase: 0,
    aliases: ["arm64", "SCMP_ARCH_AARCH64"],
  },
  arm: {
    name: "arm",
    audit: 0x40000028,
    bits: 32,
    littleEndian: true,
    nrBase: 0,
    aliases: ["armhf", "armel", "SCMP_ARCH_ARM"],
  },
  riscv64: {
    name: "riscv64",
    audit: 0xc00000f3,
    bits: 64,
    littleEndian: true,
    nrBase: 0,
    aliases: ["SCMP_ARCH_RISCV64"],
  },
  ppc64le: {
    name: "ppc64le",
    audit: 0xc0000015,
    bits: 64,
    littleEndian: true,
    nrBase: 0,
    aliases: ["SCMP_ARCH_PPC64LE"],
  },
  s390x: {
    name: "s390x",
    audit: 0x80000016,
    bits: 64,
    littleEndian: false,
    nrBase: 0,
    aliases: ["SCMP_ARCH_S390X"],
  },
};

export const ARCH_NAMES = Object.keys(ARCHES) as ArchName[];

/** Resolves an arch name or alias (amd64, SCMP_ARCH_X86, arm64 …); undefined when unknown. */
export function findArch(name: string): ArchInfo | undefined {
  const lower = name.toLowerCase();
  for (const info of Object.values(ARCHES)) {
    if (info.name === lower || info.aliases.some((a) => a.toLowerCase() === lower)) return info;
  }
  return undefined;
}

/** Like findArch, but throws E_UNKNOWN_ARCH naming the choices. */
export function archInfo(name: string): ArchInfo {
  const info = findArch(name);
  if (!info) {
    throw new SysfenceError(
      "E_UNKNOWN_ARCH",
      `unknown architecture '${name}'; known: ${ARCH_NAMES.join(", ")}.`,
    );
  }
  return info;
}

/** The architecture Node runs on, as a sysfence arch name. */
export function nativeArch(): ArchName {
  const map: Record<string, ArchName> = {
    x64: "x86_64",
    ia32: "i386",
    arm64: "aarch64",
    arm: "arm",
    riscv64: "riscv64",
    ppc64: "ppc64le",
    s390x: "s390x",
  };
  return map[process.arch] ?? "x86_64";
}

/** Names an AUDIT_ARCH value (both x86_64 and x32 report AUDIT_ARCH_X86_64). */
export function archByAudit(audit: number): ArchInfo | undefined {
  return Object.values(ARCHES).find((a) => a.audit === audit >>> 0 && a.nrBase === 0);
}
