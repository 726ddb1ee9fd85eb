// The ordinary values of the arguments generate's rules look at (--args safe, the default): values every
// program may pass without reaching new kernel attack surface or new privilege. A rule allows these plus the
// values the recording saw; any other value — a dangerous one, or one a future kernel adds — is answered
// EPERM and logged, never killed (see tighten.ts). An allow-list of names, never a deny-list, so that a value
// nobody listed stays refused. Each list says what it leaves out and why; names resolve per architecture
// through the generated constant tables (a name an architecture lacks is simply not allowed there).

import type { ArchName } from "../syscalls/arches.js";
import { constantValue } from "../syscalls/constants.js";

/** One ordinary case: argument index → the value (or `[mask, value]`: `arg & mask == value`). */
export type OrdinaryCase = Record<number, string | readonly [string, string]>;

/** An ordinary-values list: the cases (OR-ed) and one sentence for the rule comment and docs. */
export interface Ordinary {
  cases: OrdinaryCase[];
  why: string;
}

const each = (arg: number, names: readonly string[]): OrdinaryCase[] => names.map((n) => ({ [arg]: n }));
const pairs = (a: number, aName: string, b: number, names: readonly string[]): OrdinaryCase[] =>
  names.map((n) => ({ [a]: aName, [b]: n }));

/** fcntl: descriptor flags, status flags, record locks, pipe sizes and seals; not F_SETOWN/F_SETSIG/leases/F_NOTIFY (they aim signals at processes). */
const FCNTL = [
  "F_DUPFD",
  "F_DUPFD_CLOEXEC",
  "F_GETFD",
  "F_SETFD",
  "F_GETFL",
  "F_SETFL",
  "F_GETLK",
  "F_SETLK",
  "F_SETLKW",
  "F_OFD_GETLK",
  "F_OFD_SETLK",
  "F_OFD_SETLKW",
  "F_GETOWN",
  "F_GETSIG",
  "F_GETLEASE",
  "F_GETPIPE_SZ",
  "F_SETPIPE_SZ",
  "F_ADD_SEALS",
  "F_GET_SEALS",
];

/**
 * ioctl: terminal modes and sizes, pseudo-terminal set-up, descriptor flags, bytes waiting; the terminal
 * core's own queries (line discipline, exclusive mode, locked modes, device number, packet mode, pty lock;
 * not TIOCMGET/TIOCGSERIAL, which reach the serial driver); the network
 * interface queries (SIOCGIF*: if_nametoindex, getifaddrs' fallbacks, ifconfig's netmask, broadcast and
 * queue length — they read, never set; not SIOCGIFSLAVE/SIOCGIFENCAP/SIOCGIFPFLAGS, which reach drivers);
 * a socket's own queries (the last packet's timestamp, bytes not yet sent); a file's block size;
 * FICLONE/FICLONERANGE (reflink: the kernel clones only into a descriptor already open for writing, on the
 * same filesystem). Never TIOCSTI (types into a terminal), TIOCLINUX or any SIOCS* (sets).
 */
const IOCTL = [
  "TCGETS",
  "TCGETS2",
  "TCSETS",
  "TCSETSW",
  "TCSETSF",
  "TCGETA",
  "TCSBRK",
  "TCXONC",
  "TCFLSH",
  "TIOCGWINSZ",
  "TIOCSWINSZ",
  "TIOCGPGRP",
  "TIOCSPGRP",
  "TIOCGSID",
  "TIOCOUTQ",
  "TIOCGPTN",
  "TIOCSPTLCK",
  "TIOCGPTPEER",
  "TIOCGETD",
  "TIOCGEXCL",
  "TIOCGLCKTRMIOS",
  "TIOCGSOFTCAR",
  "TIOCGDEV",
  "TIOCGPKT",
  "TIOCGPTLCK",
  "FIONREAD",
  "FIONBIO",
  "FIOASYNC",
  "FIOCLEX",
  "FIONCLEX",
  "FIGETBSZ",
  "FICLONE",
  "FICLONERANGE",
  "SIOCGIFINDEX",
  "SIOCGIFCONF",
  "SIOCGIFFLAGS",
  "SIOCGIFMTU",
  "SIOCGIFADDR",
  "SIOCGIFNAME",
  "SIOCGIFHWADDR",
  "SIOCGIFNETMASK",
  "SIOCGIFBRDADDR",
  "SIOCGIFDSTADDR",
  "SIOCGIFMETRIC",
  "SIOCGIFTXQLEN",
  "SIOCGIFMAP",
  "SIOCGSTAMP",
  "SIOCGSTAMPNS",
  "SIOCGSTAMP_NEW",
  "SIOCGSTAMPNS_NEW",
  "SIOCOUTQNSD",
];

/** prctl: names, death signal, timer slack, no_new_privs, reading capabilities and state, naming memory; not the options that change privilege (PR_SET_DUMPABLE, PR_SET_PTRACER, PR_SET_KEEPCAPS, PR_SET_SECUREBITS, PR_CAP_AMBIENT, PR_SET_MM …). */
const PRCTL = [
  "PR_SET_NAME",
  "PR_GET_NAME",
  "PR_SET_PDEATHSIG",
  "PR_GET_PDEATHSIG",
  "PR_GET_DUMPABLE",
  "PR_SET_NO_NEW_PRIVS",
  "PR_GET_NO_NEW_PRIVS",
  "PR_SET_TIMERSLACK",
  "PR_GET_TIMERSLACK",
  "PR_GET_SECCOMP",
  "PR_SET_SECCOMP",
  "PR_CAPBSET_READ",
  "PR_GET_KEEPCAPS",
  "PR_GET_SECUREBITS",
  "PR_SET_CHILD_SUBREAPER",
  "PR_GET_CHILD_SUBREAPER",
  "PR_GET_TID_ADDRESS",
  "PR_SET_THP_DISABLE",
  "PR_GET_THP_DISABLE",
  "PR_MCE_KILL_GET",
  "PR_SET_VMA",
];

const SOL_SOCKET_OPTIONS = [
  "SO_REUSEADDR",
  "SO_REUSEPORT",
  "SO_KEEPALIVE",
  "SO_BROADCAST",
  "SO_SNDBUF",
  "SO_RCVBUF",
  "SO_OOBINLINE",
  "SO_LINGER",
  "SO_PASSCRED",
  "SO_RCVLOWAT",
  "SO_SNDLOWAT",
  "SO_RCVTIMEO_OLD",
  "SO_SNDTIMEO_OLD",
  "SO_RCVTIMEO_NEW",
  "SO_SNDTIMEO_NEW",
  "SO_TIMESTAMP_OLD",
  "SO_TIMESTAMPNS_OLD",
  "SO_TIMESTAMP_NEW",
  "SO_TIMESTAMPNS_NEW",
  "SO_PRIORITY",
  "SO_RXQ_OVFL",
  "SO_INCOMING_CPU",
  "SO_ZEROCOPY",
];
const TCP_OPTIONS = [
  "TCP_NODELAY",
  "TCP_MAXSEG",
  "TCP_CORK",
  "TCP_KEEPIDLE",
  "TCP_KEEPINTVL",
  "TCP_KEEPCNT",
  "TCP_SYNCNT",
  "TCP_LINGER2",
  "TCP_DEFER_ACCEPT",
  "TCP_WINDOW_CLAMP",
  "TCP_QUICKACK",
  "TCP_CONGESTION",
  "TCP_USER_TIMEOUT",
  "TCP_FASTOPEN",
  "TCP_NOTSENT_LOWAT",
  "TCP_FASTOPEN_CONNECT",
];
const IP_OPTIONS = [
  "IP_TOS",
  "IP_TTL",
  "IP_PKTINFO",
  "IP_RECVERR",
  "IP_RECVTTL",
  "IP_RECVTOS",
  "IP_MTU_DISCOVER",
  "IP_FREEBIND",
  "IP_BIND_ADDRESS_NO_PORT",
  "IP_MULTICAST_IF",
  "IP_MULTICAST_TTL",
  "IP_MULTICAST_LOOP",
  "IP_ADD_MEMBERSHIP",
  "IP_DROP_MEMBERSHIP",
];
const IPV6_OPTIONS = [
  "IPV6_V6ONLY",
  "IPV6_UNICAST_HOPS",
  "IPV6_MULTICAST_IF",
  "IPV6_MULTICAST_HOPS",
  "IPV6_MULTICAST_LOOP",
  "IPV6_ADD_MEMBERSHIP",
  "IPV6_DROP_MEMBERSHIP",
  "IPV6_RECVPKTINFO",
  "IPV6_RECVERR",
  "IPV6_MTU_DISCOVER",
  "IPV6_TCLASS",
  "IPV6_RECVTCLASS",
  "IPV6_DONTFRAG",
];

const UNIX_TYPES = ["SOCK_STREAM", "SOCK_DGRAM", "SOCK_SEQPACKET"];
/**
 * socket: unix sockets of any type; TCP over IPv4 and IPv6 (protocol 0 or IPPROTO_TCP); NETLINK_ROUTE
 * (getaddrinfo's interface query). Not UDP: an injected payload could send datagrams anywhere, and Landlock
 * cannot confine UDP — a program that uses it (a DNS lookup, QUIC, syslog over the network) has it
 * recorded; nor ICMP "ping" sockets, SCTP or MPTCP (other protocols over SOCK_STREAM, a module to load).
 */
const socketCases = (): OrdinaryCase[] => [
  ...UNIX_TYPES.map((t) => ({ 0: "AF_UNIX", 1: ["0xf", t] as const })),
  ...["AF_INET", "AF_INET6"].flatMap((f) =>
    ["0", "IPPROTO_TCP"].map((p) => ({ 0: f, 1: ["0xf", "SOCK_STREAM"] as const, 2: p })),
  ),
  ...["SOCK_RAW", "SOCK_DGRAM"].map((t) => ({ 0: "AF_NETLINK", 1: ["0xf", t] as const, 2: "NETLINK_ROUTE" })),
];

/**
 * socket with --allow-udp: UDP over IPv4 and IPv6 (SOCK_DGRAM, protocol 0 or IPPROTO_UDP), as if seen — for
 * a program recorded without a DNS lookup. Never ping sockets (IPPROTO_ICMP is SOCK_DGRAM too).
 */
export const UDP_CASES: readonly OrdinaryCase[] = ["AF_INET", "AF_INET6"].flatMap((f) =>
  ["0", "IPPROTO_UDP"].map((p) => ({ 0: f, 1: ["0xf", "SOCK_DGRAM"] as const, 2: p })),
);

/** The ordinary values per syscall (safe mode). */
export const ORDINARY: Record<string, Ordinary> = {
  fcntl: {
    cases: each(1, FCNTL),
    why: "every fcntl command but those that aim signals at processes (F_SETOWN, F_SETSIG, leases, F_NOTIFY)",
  },
  ioctl: {
    cases: each(1, IOCTL),
    why: "terminal modes, sizes and queries, pseudo-terminal set-up, descriptor flags, bytes waiting, network interface queries, socket timestamps and unsent bytes, block size, reflink clones into a writable descriptor (never TIOCSTI/TIOCLINUX or a SIOCS* setter)",
  },
  prctl: {
    cases: each(0, PRCTL),
    why: "names, death signal, timer slack, no_new_privs and queries (never the options that change privilege)",
  },
  socket: {
    cases: socketCases(),
    why: "unix sockets, TCP over IPv4 and IPv6 and NETLINK_ROUTE (UDP, ping, SCTP and MPTCP only as seen; never packet, raw IP, AF_ALG, AF_VSOCK or other netlink families)",
  },
  socketpair: {
    cases: UNIX_TYPES.map((t) => ({ 0: "AF_UNIX", 1: ["0xf", t] as const })),
    why: "unix socket pairs (other families only as seen, with the type and protocol seen)",
  },
  setsockopt: {
    cases: [
      ...pairs(1, "SOL_SOCKET", 2, SOL_SOCKET_OPTIONS),
      ...pairs(1, "IPPROTO_TCP", 2, TCP_OPTIONS),
      ...pairs(1, "IPPROTO_IP", 2, IP_OPTIONS),
      ...pairs(1, "IPPROTO_IPV6", 2, IPV6_OPTIONS),
    ],
    why: "socket, TCP, IP and IPv6 options that only tune the socket (never filters/BPF, TCP_ULP, TCP_REPAIR, netfilter tables, device binding or marks; another option only as seen, at the level seen)",
  },
  getsockopt: {
    cases: each(1, ["SOL_SOCKET", "IPPROTO_TCP", "IPPROTO_IP", "IPPROTO_IPV6", "IPPROTO_UDP"]),
    why: "reading socket, TCP, UDP, IP and IPv6 options (another level's options only as seen)",
  },
};

/** A case with its names resolved for `arch`; undefined when the architecture lacks one of the names. */
export function resolveCase(
  c: OrdinaryCase,
  arch?: ArchName,
): { arg: number; value: bigint; mask?: bigint; names: [string, string?] }[] | undefined {
  const out: { arg: number; value: bigint; mask?: bigint; names: [string, string?] }[] = [];
  for (const [k, spec] of Object.entries(c)) {
    const [maskName, valueName] = typeof spec === "string" ? [undefined, spec] : spec;
    const value = constantOrNumber(valueName, arch);
    const mask = maskName === undefined ? undefined : constantOrNumber(maskName, arch);
    if (value === undefined || (maskName !== undefined && mask === undefined)) return undefined;
    out.push({ arg: Number(k), value, mask, names: [valueName, maskName] });
  }
  return out;
}

function constantOrNumber(name: string, arch?: ArchName): bigint | undefined {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(name)) return BigInt(name);
  const v = constantValue(name, arch);
  return v === undefined ? undefined : BigInt(v);
}
