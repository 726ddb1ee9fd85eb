// Argument values between a profile's text and a policy's conditions: parse what strace printed
// (numbers with -X raw, symbolic text otherwise), and name numbers back with the constants a reader knows.

import { evalValue } from "../syscalls/constants.js";
import { CONSTANTS } from "../syscalls/generated/constants.js";

/** The numeric value of an argument text from a profile; undefined when it cannot be known exactly. */
export function parseArgValue(text: string): bigint | undefined {
  const t = text.replace(/^\w+=/, "").trim();
  if (/^-?\d+$/.test(t)) return BigInt(t);
  if (/^0x[0-9a-f]+$/i.test(t)) return BigInt(t);
  // strace -X verbose: "0x5421 /* FIONBIO */"
  const raw = /^(0x[0-9a-f]+|-?\d+)\s*\/\*/i.exec(t);
  if (raw) return BigInt(raw[1]);
  if (!/^[A-Z0-9_|]+$/.test(t)) return undefined; // _IOC(...), pointers, structs: not exact
  try {
    return evalValue(t);
  } catch {
    return undefined;
  }
}

/** How the names for one argument are built: one exact name, or flags OR-ed together. */
interface Naming {
  prefixes: string[];
  /** Flags: decompose into single-bit names; the remainder (e.g. an exit signal) by `rest`. */
  flags?: boolean;
  /** Low bits that hold a value rather than flags (socket type, clone's exit signal). */
  valueMask?: bigint;
  valuePrefixes?: string[];
  prefer?: string[];
  /** Names with a matching prefix that belong to another call (lockf's F_TEST is fcntl's 3). */
  exclude?: string[];
  /**
   * Only names that are values of this argument: where one prefix spans a selector and its sub-values
   * (prctl's options and PR_PAC_APDAKEY, fcntl's commands and the F_EXLCK lock type), a value must never
   * print as a name of another argument — F_SETFL and F_EXLCK are both 4.
   */
  include?: (name: string) => boolean;
}

/** prctl(2) options: PR_SET_x/PR_GET_x and the few others, never the values of their arguments. */
const PRCTL_OPTIONS = new Set([
  "PR_CAPBSET_READ",
  "PR_CAPBSET_DROP",
  "PR_TASK_PERF_EVENTS_DISABLE",
  "PR_TASK_PERF_EVENTS_ENABLE",
  "PR_MCE_KILL",
  "PR_MCE_KILL_GET",
  "PR_CAP_AMBIENT",
  "PR_SVE_SET_VL",
  "PR_SVE_GET_VL",
  "PR_SME_SET_VL",
  "PR_SME_GET_VL",
  "PR_PAC_RESET_KEYS",
  "PR_PAC_SET_ENABLED_KEYS",
  "PR_PAC_GET_ENABLED_KEYS",
  "PR_SCHED_CORE",
  "PR_RISCV_V_SET_CONTROL",
  "PR_RISCV_V_GET_CONTROL",
]);
const isPrctlOption = (n: string) =>
  PRCTL_OPTIONS.has(n) || (/^PR_(SET|GET)_[A-Z0-9_]+$/.test(n) && !/^PR_SET_(MM_|VMA_|PTRACER_ANY)/.test(n));
/** fcntl(2) commands: not the lock types (F_RDLCK … F_SHLCK), owner kinds or seal bits that share values. */
const isFcntlCommand = (n: string) =>
  !/^F_(RDLCK|WRLCK|UNLCK|EXLCK|SHLCK|OWNER_|SEAL_|LINUX_SPECIFIC_BASE)/.test(n);

const NAMING: Record<string, Naming> = {
  "ioctl:1": { prefixes: ["FIO", "TIOC", "TC", "SIOC", "BLK", "FS_IOC", "TUN", "FICLONE", "NS_GET", "RND"] },
  "socket:0": { prefixes: ["AF_"], prefer: ["AF_UNIX", "AF_NETLINK"] },
  "socketpair:0": { prefixes: ["AF_"], prefer: ["AF_UNIX"] },
  "socket:1": {
    prefixes: ["SOCK_NONBLOCK", "SOCK_CLOEXEC"],
    flags: true,
    valueMask: 0xfn,
    valuePrefixes: ["SOCK_"],
  },
  "socketpair:1": {
    prefixes: ["SOCK_NONBLOCK", "SOCK_CLOEXEC"],
    flags: true,
    valueMask: 0xfn,
    valuePrefixes: ["SOCK_"],
  },
  "socket:2": { prefixes: ["IPPROTO_"] },
  "clone:0": {
    prefixes: ["CLONE_"],
    flags: true,
    valueMask: 0xffn,
    valuePrefixes: ["SIG"],
    prefer: ["SIGCHLD"],
  },
  "unshare:0": { prefixes: ["CLONE_"], flags: true },
  "prctl:0": { prefixes: ["PR_"], include: isPrctlOption },
  "fcntl:1": {
    prefixes: ["F_"],
    exclude: ["F_LOCK", "F_TLOCK", "F_ULOCK", "F_TEST", "F_OK"],
    include: isFcntlCommand,
  },
  "mmap:2": { prefixes: ["PROT_"], flags: true },
  "mprotect:2": { prefixes: ["PROT_"], flags: true },
  "pkey_mprotect:2": { prefixes: ["PROT_"], flags: true },
  "madvise:2": { prefixes: ["MADV_"] },
  "setsockopt:1": {
    prefixes: ["SOL_", "IPPROTO_"],
    prefer: ["SOL_SOCKET", "IPPROTO_TCP", "IPPROTO_IP", "IPPROTO_IPV6"],
  },
  "getsockopt:1": {
    prefixes: ["SOL_", "IPPROTO_"],
    prefer: ["SOL_SOCKET", "IPPROTO_TCP", "IPPROTO_IP", "IPPROTO_IPV6"],
  },
  "personality:0": { prefixes: ["PER_"] },
  "arch_prctl:0": { prefixes: ["ARCH_"] },
  "kill:1": { prefixes: ["SIG"] },
  "tgkill:2": { prefixes: ["SIG"] },
  "shutdown:1": { prefixes: ["SHUT_"] },
  "prlimit64:1": { prefixes: ["RLIMIT_"] },
};

const byValue = new Map<string, Map<bigint, string[]>>();
function namesFor(
  prefixes: string[],
  include?: (name: string) => boolean,
  scope = "",
): Map<bigint, string[]> {
  const key = `${scope}:${prefixes.join(",")}`;
  let m = byValue.get(key);
  if (!m) {
    m = new Map();
    for (const [name, v] of Object.entries(CONSTANTS)) {
      if (!prefixes.some((p) => name.startsWith(p))) continue;
      if (include && !include(name)) continue;
      const list = m.get(BigInt(v)) ?? [];
      list.push(name);
      m.set(BigInt(v), list);
    }
    byValue.set(key, m);
  }
  return m;
}

function pick(all: string[] | undefined, prefer: string[] = [], exclude: string[] = []): string | undefined {
  const names = all?.filter((n) => !exclude.includes(n));
  if (!names?.length) return undefined;
  return (
    prefer.find((p) => names.includes(p)) ??
    [...names].sort((a, b) => a.length - b.length || a.localeCompare(b))[0]
  );
}

/**
 * The value as a policy expression a reader understands ("FIONBIO", "SOCK_STREAM|SOCK_CLOEXEC",
 * "CLONE_VM|…|SIGCHLD"), or a number when no exact naming exists. Always parses back to `value`.
 */
export function nameValue(syscall: string, arg: number, value: bigint): string {
  const plain =
    value < 0n ? value.toString() : value > 0xffffn ? `0x${value.toString(16)}` : value.toString();
  const naming = NAMING[`${syscall}:${arg}`];
  if (!naming || value < 0n) return plain;
  let text: string | undefined;
  if (!naming.flags) {
    text = pick(
      namesFor(naming.prefixes, naming.include, `${syscall}:${arg}`).get(value),
      naming.prefer,
      naming.exclude,
    );
  } else {
    // a socket type leads ("SOCK_STREAM|SOCK_CLOEXEC"); clone's exit signal ends the flags
    let lead: string | undefined;
    let trail: string | undefined;
    let rest = value;
    if (naming.valueMask !== undefined) {
      const low = value & naming.valueMask;
      rest = value & ~naming.valueMask;
      const isType = naming.valuePrefixes?.[0] === "SOCK_";
      if (low !== 0n || isType) {
        const n = pick(namesFor(naming.valuePrefixes ?? []).get(low), naming.prefer);
        if (!n) return plain;
        if (isType) lead = n;
        else trail = n;
      }
    }
    const singles = namesFor(naming.prefixes);
    const bits: string[] = [];
    for (let bit = 1n; bit <= rest; bit <<= 1n) {
      if (!(rest & bit)) continue;
      const n = pick(singles.get(bit));
      if (!n) return plain;
      bits.push(n);
    }
    const parts = [...(lead ? [lead] : []), ...bits, ...(trail ? [trail] : [])];
    text = parts.length ? parts.join("|") : pick(singles.get(0n));
  }
  if (!text) return plain;
  try {
    return evalValue(text) === value ? text : plain;
  } catch {
    return plain;
  }
}
