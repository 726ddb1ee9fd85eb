import type { LandlockSection, Policy, RuleNeeds } from "./model.js";

// What of a policy's Landlock layer a kernel can hold, decided without touching it: the section and the
// kernel's Landlock ABI (0: none, or disabled) give the ruleset to build and one line per feature that
// had to be dropped. Pure, so the generator and the exports can ask what is enforced where.
// Constants from include/uapi/linux/landlock.h.

/** enum landlock_access_fs bits. */
export const LANDLOCK_FS = {
  EXECUTE: 1 << 0,
  WRITE_FILE: 1 << 1,
  READ_FILE: 1 << 2,
  READ_DIR: 1 << 3,
  REMOVE_DIR: 1 << 4,
  REMOVE_FILE: 1 << 5,
  MAKE_CHAR: 1 << 6,
  MAKE_DIR: 1 << 7,
  MAKE_REG: 1 << 8,
  MAKE_SOCK: 1 << 9,
  MAKE_FIFO: 1 << 10,
  MAKE_BLOCK: 1 << 11,
  MAKE_SYM: 1 << 12,
  REFER: 1 << 13, // ABI 2
  TRUNCATE: 1 << 14, // ABI 3
  IOCTL_DEV: 1 << 15, // ABI 5
} as const;
/** enum landlock_access_net bits (ABI 4). */
export const LANDLOCK_NET = { BIND_TCP: 1 << 0, CONNECT_TCP: 1 << 1 } as const;
/** LANDLOCK_SCOPE_* bits (ABI 6). */
export const LANDLOCK_SCOPE = { ABSTRACT_UNIX_SOCKET: 1 << 0, SIGNAL: 1 << 1 } as const;
/** The rights a rule on a file that is not a directory may carry (the kernel refuses others: EINVAL). */
export const LANDLOCK_FILE_RIGHTS =
  LANDLOCK_FS.EXECUTE |
  LANDLOCK_FS.WRITE_FILE |
  LANDLOCK_FS.READ_FILE |
  LANDLOCK_FS.TRUNCATE |
  LANDLOCK_FS.IOCTL_DEV;

const F = LANDLOCK_FS;
const READ = F.READ_FILE | F.READ_DIR;
/** What each list of the section grants beneath its paths (before masking by the ABI's rights). */
export const LANDLOCK_LIST_ACCESS = {
  read: READ,
  write:
    READ |
    F.WRITE_FILE |
    F.REMOVE_DIR |
    F.REMOVE_FILE |
    F.MAKE_DIR |
    F.MAKE_REG |
    F.MAKE_SOCK |
    F.MAKE_FIFO |
    F.MAKE_SYM |
    F.REFER |
    F.TRUNCATE,
  execute: F.EXECUTE | F.READ_FILE,
  devices: F.READ_FILE | F.WRITE_FILE | F.IOCTL_DEV,
} as const;

/** Every filesystem right an ABI knows (all of them are handled: what no rule grants is denied). */
export function fsRightsOf(abi: number): number {
  if (abi < 1) return 0;
  let rights = (1 << 13) - 1;
  if (abi >= 2) rights |= F.REFER;
  if (abi >= 3) rights |= F.TRUNCATE;
  if (abi >= 5) rights |= F.IOCTL_DEV;
  return rights;
}

/** Which parts of the layer a plan enforces. */
export interface LandlockEnforced {
  /** The file lists (read, write, execute, devices): the layer as a whole. */
  files: boolean;
  refer: boolean;
  truncate: boolean;
  ioctl: boolean;
  bindTcp: boolean;
  connectTcp: boolean;
  signal: boolean;
  abstractUnixSocket: boolean;
}

/** The ruleset to build: handled rights, one rule per path and port, and what was dropped. */
export interface LandlockPlan {
  abi: number;
  handledFs: number;
  handledNet: number;
  scoped: number;
  /** Rights beneath each path (a file that is not a directory keeps only LANDLOCK_FILE_RIGHTS of them). */
  paths: { path: string; access: number; list: keyof typeof LANDLOCK_LIST_ACCESS }[];
  ports: { port: number; access: number }[];
  enforced: LandlockEnforced;
  /** One line per feature not applied, naming the ABI it needs and the one here. */
  dropped: string[];
}

const NONE: LandlockEnforced = {
  files: false,
  refer: false,
  truncate: false,
  ioctl: false,
  bindTcp: false,
  connectTcp: false,
  signal: false,
  abstractUnixSocket: false,
};

/**
 * Decides the ruleset for `section` on a kernel with Landlock ABI `abi` (0: no Landlock). `absent` says
 * why the layer is off when abi is 0 ("disabled by --no-landlock"); the default names the kernel.
 */
export function planLandlock(section: LandlockSection, abi: number, absent?: string): LandlockPlan {
  if (abi < 1)
    return {
      abi: 0,
      handledFs: 0,
      handledNet: 0,
      scoped: 0,
      paths: [],
      ports: [],
      enforced: NONE,
      dropped: [
        `landlock: ${absent ?? "this kernel has no Landlock (or it is disabled)"}: the Landlock layer (files, executables, TCP ports, scopes) is not applied; rules with needs: landlock are dropped`,
      ],
    };
  const dropped: string[] = [];
  const needs = (what: string, min: number, tail = "not applied") => {
    if (abi < min) dropped.push(`landlock: ${what} needs ABI ${min}, this kernel has ${abi}: ${tail}`);
    return abi >= min;
  };
  const handledFs = fsRightsOf(abi);
  const paths: LandlockPlan["paths"] = [];
  for (const list of ["read", "write", "execute", "devices"] as const)
    for (const p of section[list])
      paths.push({ path: p.path, access: LANDLOCK_LIST_ACCESS[list] & handledFs, list });
  if (section.write.length > 0)
    needs(
      "renaming or linking into another directory (REFER)",
      2,
      "such renames and links are always denied",
    );
  const truncate = needs("the truncate restriction", 3, "truncation is not restricted");
  const ioctl = needs(
    "the device ioctl restriction (IOCTL_DEV)",
    5,
    "ioctl on device files is not restricted",
  );
  const net = section.bindTcp !== undefined || section.connectTcp !== undefined;
  const netOk =
    !net ||
    needs(
      `TCP port rules (${[section.bindTcp ? "bindTcp" : "", section.connectTcp ? "connectTcp" : ""].filter(Boolean).join(", ")})`,
      4,
    );
  let handledNet = 0;
  const ports = new Map<number, number>();
  if (net && netOk) {
    if (section.bindTcp) handledNet |= LANDLOCK_NET.BIND_TCP;
    if (section.connectTcp) handledNet |= LANDLOCK_NET.CONNECT_TCP;
    for (const p of section.bindTcp ?? [])
      ports.set(p.port, (ports.get(p.port) ?? 0) | LANDLOCK_NET.BIND_TCP);
    for (const p of section.connectTcp ?? [])
      ports.set(p.port, (ports.get(p.port) ?? 0) | LANDLOCK_NET.CONNECT_TCP);
  }
  let scoped = 0;
  const signal = section.scope.includes("signal") && needs("signal scoping", 6);
  const abstract = section.scope.includes("abstract-unix-socket") && needs("abstract unix socket scoping", 6);
  if (signal) scoped |= LANDLOCK_SCOPE.SIGNAL;
  if (abstract) scoped |= LANDLOCK_SCOPE.ABSTRACT_UNIX_SOCKET;
  return {
    abi,
    handledFs,
    handledNet,
    scoped,
    paths,
    ports: [...ports].map(([port, access]) => ({ port, access })),
    enforced: {
      files: true,
      refer: abi >= 2,
      truncate,
      ioctl,
      bindTcp: (handledNet & LANDLOCK_NET.BIND_TCP) !== 0,
      connectTcp: (handledNet & LANDLOCK_NET.CONNECT_TCP) !== 0,
      signal,
      abstractUnixSocket: abstract,
    },
    dropped,
  };
}

/**
 * Which parts of the Landlock layer a run enforces: true (all), false (none), or per part as planLandlock
 * decided (files; TCP binds; signal scoping).
 */
export type LayersEnforced = boolean | Pick<LandlockEnforced, "files" | "bindTcp" | "signal">;

/** Whether a rule's needs: holds where `layers` are enforced. */
export function needsHeld(needs: RuleNeeds | undefined, layers: LayersEnforced): boolean {
  if (needs === undefined || layers === true) return true;
  if (layers === false) return false;
  return needs === "landlock" ? layers.files : needs === "landlock-tcp" ? layers.bindTcp : layers.signal;
}

/**
 * The policy's seccomp rules for a run where the Landlock layer is (`landlock: true`), is not, or is in
 * part enforced: rules whose needs: holds are kept, the others dropped so their calls fall to the next rule
 * or the default (the seccomp-only fallback).
 */
export function seccompPolicyFor(policy: Policy, landlock: LayersEnforced): Policy {
  if (policy.rules.every((r) => needsHeld(r.needs, landlock))) return policy;
  return { ...policy, rules: policy.rules.filter((r) => needsHeld(r.needs, landlock)) };
}

/** At most this many calls are named in a fallback line. */
const FALLBACK_NAMED = 8;

/**
 * The calls whose rules `seccompPolicyFor(policy, layers)` drops, named in one clause for the line that
 * says why ("unlink, rename, kill and 12 more fell back to seccomp-only (…)"); undefined when none do.
 */
export function fallbackCalls(policy: Policy, layers: LayersEnforced): string | undefined {
  const names = [...new Set(policy.rules.filter((r) => !needsHeld(r.needs, layers)).flatMap((r) => r.names))];
  if (names.length === 0) return undefined;
  const shown = names.slice(0, FALLBACK_NAMED).join(", ");
  const more = names.length > FALLBACK_NAMED ? ` and ${names.length - FALLBACK_NAMED} more` : "";
  return `${names.length} call${names.length === 1 ? "" : "s"} fell back to seccomp-only (their rules rely on Landlock; each now gets the next rule's or the default answer): ${shown}${more}`;
}

/**
 * Adds the fallbackCalls clause to `lines` (the notes saying what of the layer is off): to the last one,
 * or as a line of its own ("landlock: the policy has no landlock: section; …" when `noSection`). True when
 * something fell back.
 */
export function noteFallback(
  lines: string[],
  policy: Policy,
  layers: LayersEnforced,
  noSection = false,
): boolean {
  const fell = fallbackCalls(policy, layers);
  if (!fell) return false;
  if (noSection) lines.push(`landlock: the policy has no landlock: section; ${fell}`);
  else if (lines.length) lines[lines.length - 1] += `; ${fell}`;
  else lines.push(`landlock: ${fell}`);
  return true;
}
