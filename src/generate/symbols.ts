// Argument values between a profile's text and a policy's conditions: parse what strace printed
// (numbers with -X raw, symbolic text otherwise), and name numbers back with the constants a reader knows.

import type { ArchName } from "../syscalls/arches.js";
import { constantValue, evalValue } from "../syscalls/constants.js";
import { CONSTANTS } from "../syscalls/generated/constants.js";

/**
 * The numeric value of an argument text from a profile; undefined when it cannot be known exactly. A
 * symbolic text (an imported log) is read with the values of the profile's architecture.
 */
export function parseArgValue(text: string, arch?: ArchName): bigint | undefined {
  const t = text.replace(/^\w+=/, "").trim();
  if (/^-?\d+$/.test(t)) return BigInt(t);
  if (/^0x[0-9a-f]+$/i.test(t)) return BigInt(t);
  // strace -X verbose: "0x5421 /* FIONBIO */"
  const raw = /^(0x[0-9a-f]+|-?\d+)\s*\/\*/i.exec(t);
  if (raw) return BigInt(raw[1]);
  if (!/^[A-Z0-9_|]+$/.test(t)) return undefined; // _IOC(...), pointers, structs: not exact
  try {
    return evalValue(t, arch);
  } catch {
    return undefined;
  }
}

/** How the names of one argument's values are built: one exact name, or flags OR-ed together. */
export interface Family {
  prefixes: string[];
  /** Flags: decompose into single-bit names. */
  flags?: boolean;
  /** Low bits that hold a value rather than flags (socket type, clone's exit signal, mmap's sharing, a futex op). */
  valueMask?: bigint;
  valuePrefixes?: string[];
  /** Names the value part may take (when its prefixes also cover flag names). */
  valueInclude?: (name: string) => boolean;
  /** The value part is written first ("SOCK_STREAM|SOCK_CLOEXEC") rather than last ("…|SIGCHLD"). */
  valueFirst?: boolean;
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

/** An argument whose meaning depends on another (the selector): setsockopt's option by its level. */
export interface Selected {
  selector: number;
  /** Selector value's name → the family of this argument under it. */
  by: Record<string, Family>;
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
const only =
  (...names: string[]) =>
  (n: string) =>
    names.includes(n);

/** open(2) flags after the access mode (O_RDONLY 0, O_WRONLY 1, O_RDWR 2). */
const OPEN_FLAGS: Family = {
  prefixes: ["O_"],
  flags: true,
  valueMask: 3n,
  valuePrefixes: ["O_RDONLY", "O_WRONLY", "O_RDWR"],
  valueFirst: true,
  prefer: ["O_NONBLOCK", "O_SYNC", "O_CLOEXEC"],
  // O_LARGEFILE is 0 in x86_64's headers; the kernel's 0x8000 (32-bit callers) prints as a number
  exclude: ["O_NDELAY", "O_FSYNC", "O_RSYNC", "O_ACCMODE", "O_LARGEFILE"],
};
/** File status flags fcntl(F_SETFL) takes (no access mode). */
const STATUS_FLAGS: Family = { ...OPEN_FLAGS, valueMask: undefined, valuePrefixes: undefined };
const SIGNALS: Family = { prefixes: ["SIG"], prefer: ["SIGCHLD", "SIGIO", "SIGABRT", "SIGSYS"] };
const CLOCKS: Family = {
  prefixes: ["CLOCK_"],
  exclude: ["CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID"],
};
const CLOEXEC_NONBLOCK: Family = { prefixes: ["SOCK_NONBLOCK", "SOCK_CLOEXEC"], flags: true };
const SOCKET_TYPE: Family = {
  prefixes: ["SOCK_NONBLOCK", "SOCK_CLOEXEC"],
  flags: true,
  valueMask: 0xfn,
  valuePrefixes: ["SOCK_"],
  valueFirst: true,
};
const LEVELS: Family = {
  prefixes: ["SOL_", "IPPROTO_"],
  prefer: ["SOL_SOCKET", "IPPROTO_TCP", "IPPROTO_IP", "IPPROTO_IPV6"],
};
/** A socket option's name by its level (setsockopt/getsockopt argument 1). */
const OPTIONS_BY_LEVEL: Selected = {
  selector: 1,
  by: {
    SOL_SOCKET: { prefixes: ["SO_"], prefer: ["SO_ERROR", "SO_PEERCRED"] },
    // options, not the values some options take (TCP_REPAIR_ON, IP_PMTUDISC_DO) or limits (TCP_MSS_DEFAULT)
    IPPROTO_TCP: {
      prefixes: ["TCP_"],
      include: (n) =>
        !/^TCP_(COOKIE_|S_DATA_|MD5SIG_FLAG_|MD5SIG_MAXKEYLEN|MAX_WINSHIFT|MAXWIN|MSS|REPAIR_(ON|OFF)|NO_QUEUE|RECV_QUEUE|SEND_QUEUE|QUEUES_NR|CM_INQ)/.test(
          n,
        ),
    },
    IPPROTO_IP: { prefixes: ["IP_"], include: (n) => !/^IP_(PMTUDISC|MAX_MEMBERSHIPS|DEFAULT_)/.test(n) },
    IPPROTO_IPV6: {
      prefixes: ["IPV6_"],
      include: (n) => !/^IPV6_(PMTUDISC_|RTHDR_(LOOSE|STRICT|TYPE_)|PREFER_SRC_)/.test(n),
    },
  },
};
const FUTEX_OP_FLAGS = ["FUTEX_PRIVATE_FLAG", "FUTEX_CLOCK_REALTIME"];

/** Every (syscall:argument) sysfence names values of, with the family or the selector that decides it. */
export const NAMING: Record<string, Family | Selected> = {
  "ioctl:1": {
    prefixes: ["FIO", "TIOC", "TC", "SIOC", "BLK", "FS_IOC", "TUN", "FICLONE", "NS_GET", "RND"],
    // requests only: not tcflush/tcflow's arguments (TCIFLUSH, TCOOFF), TCP_ options or modem bits (TIOCM_)
    include: (n) => CONSTANTS[n] >= 0x100 && !/^(TCP|TIOCM_|TIOCPKT_|TIOCSER_)/.test(n),
  },
  "socket:0": { prefixes: ["AF_"], prefer: ["AF_UNIX", "AF_NETLINK"] },
  "socketpair:0": { prefixes: ["AF_"], prefer: ["AF_UNIX"] },
  "socket:1": SOCKET_TYPE,
  "socketpair:1": SOCKET_TYPE,
  "socket:2": { prefixes: ["IPPROTO_"], prefer: ["IPPROTO_IP"] },
  "accept4:3": CLOEXEC_NONBLOCK,
  "clone:0": {
    prefixes: ["CLONE_"],
    flags: true,
    valueMask: 0xffn,
    valuePrefixes: ["SIG"],
    prefer: ["SIGCHLD"],
  },
  "unshare:0": { prefixes: ["CLONE_"], flags: true },
  "prctl:0": { prefixes: ["PR_"], include: isPrctlOption },
  "prctl:1": {
    selector: 0,
    by: {
      PR_PAC_RESET_KEYS: { prefixes: ["PR_PAC_AP"], flags: true },
      PR_CAP_AMBIENT: { prefixes: ["PR_CAP_AMBIENT_"] },
      PR_SET_SECCOMP: { prefixes: ["SECCOMP_MODE_"] },
      PR_SET_PDEATHSIG: SIGNALS,
      PR_SET_MM: { prefixes: ["PR_SET_MM_"], exclude: ["PR_SET_MM_MAP_SIZE"] },
      PR_MCE_KILL: { prefixes: ["PR_MCE_KILL_"], include: only("PR_MCE_KILL_CLEAR", "PR_MCE_KILL_SET") },
      PR_SET_TIMING: { prefixes: ["PR_TIMING_"] },
      PR_SET_ENDIAN: { prefixes: ["PR_ENDIAN_"] },
      PR_SET_TSC: { prefixes: ["PR_TSC_"] },
      PR_SET_FP_MODE: { prefixes: ["PR_FP_MODE_"], flags: true },
      PR_GET_SPECULATION_CTRL: {
        prefixes: ["PR_SPEC_"],
        include: only("PR_SPEC_STORE_BYPASS", "PR_SPEC_INDIRECT_BRANCH", "PR_SPEC_L1D_FLUSH"),
      },
      PR_SET_SPECULATION_CTRL: {
        prefixes: ["PR_SPEC_"],
        include: only("PR_SPEC_STORE_BYPASS", "PR_SPEC_INDIRECT_BRANCH", "PR_SPEC_L1D_FLUSH"),
      },
      PR_SCHED_CORE: {
        prefixes: ["PR_SCHED_CORE_"],
        include: only(
          "PR_SCHED_CORE_GET",
          "PR_SCHED_CORE_CREATE",
          "PR_SCHED_CORE_SHARE_TO",
          "PR_SCHED_CORE_SHARE_FROM",
        ),
      },
    },
  },
  "fcntl:1": {
    prefixes: ["F_"],
    exclude: ["F_LOCK", "F_TLOCK", "F_ULOCK", "F_TEST", "F_OK"],
    include: isFcntlCommand,
  },
  "fcntl:2": {
    selector: 1,
    by: {
      F_SETFL: STATUS_FLAGS,
      F_SETFD: { prefixes: ["FD_CLOEXEC"], flags: true },
      F_ADD_SEALS: { prefixes: ["F_SEAL_"], flags: true },
      F_SETLEASE: { prefixes: ["F_RDLCK", "F_WRLCK", "F_UNLCK"] },
      F_SETSIG: SIGNALS,
    },
  },
  "openat:2": OPEN_FLAGS,
  "open:1": OPEN_FLAGS,
  "pipe2:1": STATUS_FLAGS,
  "dup3:2": { prefixes: ["O_CLOEXEC"], flags: true },
  "mmap:2": { prefixes: ["PROT_"], flags: true },
  "mmap:3": {
    prefixes: ["MAP_"],
    flags: true,
    valueMask: 3n,
    valuePrefixes: ["MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE"],
    valueFirst: true,
    prefer: ["MAP_ANONYMOUS", "MAP_STACK", "MAP_NORESERVE"],
    exclude: ["MAP_ANON", "MAP_FILE", "MAP_HUGE_SHIFT", "MAP_HUGE_MASK", "MAP_TYPE"],
  },
  "mprotect:2": { prefixes: ["PROT_"], flags: true },
  "pkey_mprotect:2": { prefixes: ["PROT_"], flags: true },
  "madvise:2": { prefixes: ["MADV_"] },
  "setsockopt:1": LEVELS,
  "getsockopt:1": LEVELS,
  "setsockopt:2": OPTIONS_BY_LEVEL,
  "getsockopt:2": OPTIONS_BY_LEVEL,
  "personality:0": { prefixes: ["PER_"] },
  "arch_prctl:0": { prefixes: ["ARCH_"] },
  "kill:1": SIGNALS,
  "tkill:1": SIGNALS,
  "tgkill:2": SIGNALS,
  "rt_sigaction:0": SIGNALS,
  "shutdown:1": { prefixes: ["SHUT_"] },
  "prlimit64:1": { prefixes: ["RLIMIT_"], prefer: ["RLIMIT_NOFILE"] },
  "epoll_create1:0": { prefixes: ["EPOLL_CLOEXEC"], flags: true },
  "eventfd2:1": { prefixes: ["EFD_"], flags: true },
  "timerfd_create:0": CLOCKS,
  "timerfd_create:1": {
    prefixes: ["TFD_"],
    flags: true,
    exclude: ["TFD_TIMER_ABSTIME", "TFD_TIMER_CANCEL_ON_SET"],
  },
  "clock_gettime:0": CLOCKS,
  "clock_getres:0": CLOCKS,
  "clock_nanosleep:0": CLOCKS,
  "clock_nanosleep:1": { prefixes: ["TIMER_ABSTIME"], flags: true },
  "getrandom:2": { prefixes: ["GRND_"], flags: true },
  "memfd_create:1": { prefixes: ["MFD_"], flags: true, exclude: ["MFD_HUGE_SHIFT", "MFD_HUGE_MASK"] },
  "futex:1": {
    prefixes: FUTEX_OP_FLAGS,
    flags: true,
    valueMask: 0x7fn,
    valuePrefixes: ["FUTEX_"],
    valueInclude: (n) =>
      !n.endsWith("_PRIVATE") &&
      !/^FUTEX_(OP_|PRIVATE|CLOCK|CMD|OWNER|WAITERS|TID|BITSET|32|WAITV)/.test(n) &&
      !n.startsWith("FUTEX2"),
    valueFirst: true,
  },
};

const isSelected = (n: Family | Selected): n is Selected => "selector" in n;

/** The family naming argument `arg` of `syscall` when the call's other arguments are `args` (undefined: unknown). */
export function familyOf(
  syscall: string,
  arg: number,
  args?: readonly (bigint | undefined)[],
  arch?: ArchName,
): Family | undefined {
  const n = NAMING[`${syscall}:${arg}`];
  if (!n || !isSelected(n)) return n;
  const sel = args?.[n.selector];
  if (sel === undefined) return undefined;
  const selName = Object.keys(n.by).find((k) => {
    const v = constantValue(k, arch);
    return v !== undefined && BigInt(v) === sel;
  });
  return selName ? n.by[selName] : undefined;
}

const byValue = new Map<Family, Map<string, Map<bigint, string[]>>>();
/**
 * Value → names in a family, for its flag names (`prefixes`) or its value part (`valuePrefixes`), with
 * the values of `arch` (x86_64's when not given).
 */
export function namesOf(f: Family, part: "main" | "value" = "main", arch?: ArchName): Map<bigint, string[]> {
  let perFamily = byValue.get(f);
  if (!perFamily) {
    perFamily = new Map();
    byValue.set(f, perFamily);
  }
  const key = `${part}:${arch ?? ""}`;
  let m = perFamily.get(key);
  if (!m) {
    m = new Map();
    const prefixes = part === "value" ? (f.valuePrefixes ?? []) : f.prefixes;
    const include = part === "value" ? f.valueInclude : f.include;
    for (const name of Object.keys(CONSTANTS)) {
      if (!prefixes.some((p) => name.startsWith(p))) continue;
      if (include && !include(name)) continue;
      if (f.exclude?.includes(name)) continue;
      const n = constantValue(name, arch);
      if (n === undefined) continue; // (a name this architecture lacks)
      const v = BigInt(n);
      const list = m.get(v) ?? [];
      list.push(name);
      m.set(v, list);
    }
    perFamily.set(key, m);
  }
  return m;
}

function pick(all: string[] | undefined, prefer: string[] = []): string | undefined {
  if (!all?.length) return undefined;
  return (
    prefer.find((p) => all.includes(p)) ??
    [...all].sort((a, b) => a.length - b.length || a.localeCompare(b))[0]
  );
}

/**
 * The value as a policy expression a reader understands ("FIONBIO", "SOCK_STREAM|SOCK_CLOEXEC",
 * "CLONE_VM|…|SIGCHLD", "SO_REUSEADDR" when arg1 is SOL_SOCKET), or a number when no exact naming
 * exists in this context. `args`: the call's other argument values, for arguments a selector decides
 * (setsockopt's option by its level, fcntl's argument by its command, prctl's by its option); without
 * them such an argument prints as a number. Always parses back to `value`.
 */
export function nameValue(
  syscall: string,
  arg: number,
  value: bigint,
  args?: readonly (bigint | undefined)[],
  arch?: ArchName,
): string {
  const plain =
    value < 0n ? value.toString() : value > 0xffffn ? `0x${value.toString(16)}` : value.toString();
  const family = familyOf(syscall, arg, args, arch);
  if (!family || value < 0n) return plain;
  const text = family.flags
    ? flagsText(family, value, arch)
    : pick(namesOf(family, "main", arch).get(value), family.prefer);
  if (!text) return plain;
  try {
    // (on the profile's architecture: a name is written only where it means this number there)
    return evalValue(text, arch) === value ? text : plain;
  } catch {
    return plain;
  }
}

/** Flags OR-ed, with the value part (a socket type, an exit signal, a futex op) first or last. */
function flagsText(f: Family, value: bigint, arch?: ArchName): string | undefined {
  let head: string | undefined;
  let tail: string | undefined;
  let rest = value;
  if (f.valueMask !== undefined) {
    const low = value & f.valueMask;
    rest = value & ~f.valueMask;
    // a value part of 0 is written when it means something (O_RDONLY, a futex's FUTEX_WAIT)
    const zeroNamed = namesOf(f, "value", arch).has(0n) && f.valueFirst;
    if (low !== 0n || zeroNamed) {
      const n = pick(namesOf(f, "value", arch).get(low), f.prefer);
      if (!n) return undefined;
      if (f.valueFirst) head = n;
      else tail = n;
    }
  }
  const singles = namesOf(f, "main", arch);
  const bits: string[] = [];
  for (let bit = 1n; bit <= rest; bit <<= 1n) {
    if (!(rest & bit)) continue;
    const n = pick(singles.get(bit), f.prefer);
    if (!n) return undefined;
    bits.push(n);
  }
  const parts = [...(head ? [head] : []), ...bits, ...(tail ? [tail] : [])];
  return parts.length ? parts.join("|") : pick(singles.get(0n), f.prefer);
}
