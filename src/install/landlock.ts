// The Landlock layer, applied to the calling thread before the seccomp filter: a ruleset with every right
// the kernel's ABI knows, one path-beneath rule per path (opened O_PATH), one rule per TCP port, the
// scopes, then landlock_restrict_self. What to build is decided by policy/landlock.ts (pure); this file
// only opens paths and makes the calls. The constants are include/uapi/linux/landlock.h's.

import { closeSync, fstatSync, openSync, readFileSync, realpathSync } from "node:fs";
import { endianness } from "node:os";
import { execChain } from "../analyze/program-file.js";
import { SysfenceError } from "../errors.js";
import { LANDLOCK_FILE_RIGHTS, LANDLOCK_FS, type LandlockPlan } from "../policy/landlock.js";
import { type Libc, PR_SET_NO_NEW_PRIVS } from "./ffi.js";

const LANDLOCK_CREATE_RULESET_VERSION = 1 << 0;
const LANDLOCK_RULE_PATH_BENEATH = 1;
const LANDLOCK_RULE_NET_PORT = 2;
/** landlock_restrict_self flag of ABI 8: every thread of the process joins the domain. */
export const LANDLOCK_RESTRICT_SELF_TSYNC = 1 << 3;
// asm-generic/fcntl.h (x86, arm, arm64, riscv, ppc, s390 alike); libuv adds O_CLOEXEC itself.
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;
const ENOSYS = 38;
const EOPNOTSUPP = 95;

/** The kernel's Landlock ABI (0: none) and, when 0, why. */
export function landlockAbi(c: Libc): { abi: number; why?: string } {
  const r = c.landlockCreateRuleset(null, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (r >= 1) return { abi: r };
  const errno = c.errno();
  return {
    abi: 0,
    why:
      errno === ENOSYS
        ? "this kernel has no Landlock (landlock_create_ruleset: ENOSYS)"
        : errno === EOPNOTSUPP
          ? "Landlock is built into this kernel but not enabled (lsm= boot parameter; EOPNOTSUPP)"
          : `landlock_create_ruleset failed with errno ${errno}`,
  };
}

/** The plan's paths, opened: one fd and its rights per path that exists; a missing path is a note. */
export interface OpenedRules {
  rules: { path: string; fd: number; access: number }[];
  notes: string[];
}

/** Opens every path of the plan (O_PATH: no read access needed); missing paths are skipped with a note. */
export function openLandlockRules(plan: LandlockPlan): OpenedRules {
  const out: OpenedRules = { rules: [], notes: [] };
  if (!plan.enforced.files) return out;
  // paths that do not exist (a dotfile or a PATH entry the recording only probed): one note for them all
  const missing: string[] = [];
  for (const p of plan.paths) {
    let fd: number;
    try {
      fd = openSync(p.path, O_PATH | O_CLOEXEC);
    } catch (e) {
      // skipping only narrows: nothing beneath a path that is not there is granted
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") missing.push(`${p.list} ${p.path}`);
      else
        out.notes.push(
          `landlock: ${p.list} path ${p.path} cannot be opened (${code ?? (e as Error).message}): skipped`,
        );
      continue;
    }
    const access = fstatSync(fd).isDirectory() ? p.access : p.access & LANDLOCK_FILE_RIGHTS;
    out.rules.push({ path: p.path, fd, access });
  }
  if (missing.length === 1)
    out.notes.push(`landlock: ${missing[0].replace(" ", " path ")} does not exist (ENOENT): skipped`);
  else if (missing.length)
    out.notes.push(
      `landlock: ${missing.length} listed paths do not exist (ENOENT), skipped — nothing is granted there: ${missing.slice(0, MISSING_NAMED).join(", ")}${missing.length > MISSING_NAMED ? `, and ${missing.length - MISSING_NAMED} more` : ""}`,
    );
  return out;
}

/**
 * Rules for the regular files the program's stdin, stdout and stderr already are (a shell's `< in`,
 * `> out`, `2> log`): a program that reopens them by name (`/dev/stdout`, `/proc/self/fd/1`) opens that
 * file by its path, which the recording's rules need not cover. Each gets the rights its descriptor
 * already holds (read for a read-only one, write and truncate for a writable one), so nothing is granted
 * the program could not already do through the descriptor. Pipes, ttys and devices are not such files.
 */
export function addStdioRules(plan: LandlockPlan, opened: OpenedRules): void {
  if (!plan.enforced.files) return;
  const allowed = plan.handledFs & LANDLOCK_FILE_RIGHTS;
  for (const n of [0, 1, 2]) {
    let mode: number;
    try {
      if (!fstatSync(n).isFile()) continue;
      const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${n}`, "latin1"));
      if (!flags) continue;
      mode = Number.parseInt(flags[1], 8) & 3;
    } catch {
      continue; // closed, or /proc not mounted: nothing to add
    }
    const access =
      (mode === 1 ? 0 : LANDLOCK_FS.READ_FILE) |
      (mode === 0 ? 0 : LANDLOCK_FS.WRITE_FILE | LANDLOCK_FS.TRUNCATE);
    if (!(access & allowed)) continue;
    let fd: number;
    try {
      fd = openSync(`/proc/self/fd/${n}`, O_PATH | O_CLOEXEC);
    } catch {
      continue;
    }
    opened.rules.push({ path: `/proc/self/fd/${n}`, fd, access: access & allowed });
  }
}

/** At most this many missing paths are named in the one note. */
const MISSING_NAMED = 4;

/** Closes what openLandlockRules opened. */
export function closeLandlockRules(opened: OpenedRules): void {
  for (const r of opened.rules) closeSync(r.fd);
  opened.rules = [];
}

/**
 * Builds the ruleset and restricts the calling thread (all threads with `flags` TSYNC on ABI 8): sets
 * no_new_privs first (landlock_restrict_self requires it of a process without CAP_SYS_ADMIN).
 * Irreversible; throws E_INSTALL_FAILED when the kernel refuses a step.
 */
export function applyLandlock(c: Libc, plan: LandlockPlan, opened: OpenedRules, flags = 0): void {
  if (!plan.enforced.files) return;
  const fail = (what: string): never => {
    throw new SysfenceError(
      "E_INSTALL_FAILED",
      `landlock: ${what} failed with errno ${c.errno()}; no seccomp filter installed, nothing was run.`,
    );
  };
  const attr = Buffer.alloc(24);
  u64(attr, plan.handledFs, 0);
  u64(attr, plan.handledNet, 8);
  u64(attr, plan.scoped, 16);
  // struct landlock_ruleset_attr grew: handled_access_net (ABI 4), scoped (ABI 6)
  const size = plan.abi >= 6 ? 24 : plan.abi >= 4 ? 16 : 8;
  if (plan.abi < 8) flags &= ~LANDLOCK_RESTRICT_SELF_TSYNC;
  const ruleset = c.landlockCreateRuleset(attr, size, 0);
  if (ruleset < 0) fail("landlock_create_ruleset");
  try {
    for (const r of opened.rules) {
      const rule = Buffer.alloc(12); // struct landlock_path_beneath_attr is packed
      u64(rule, r.access, 0);
      if (endianness() === "LE") rule.writeInt32LE(r.fd, 8);
      else rule.writeInt32BE(r.fd, 8);
      if (c.landlockAddRule(ruleset, LANDLOCK_RULE_PATH_BENEATH, rule) < 0)
        fail(`landlock_add_rule for ${r.path}`);
    }
    for (const p of plan.ports) {
      const rule = Buffer.alloc(16);
      u64(rule, p.access, 0);
      u64(rule, p.port, 8);
      if (c.landlockAddRule(ruleset, LANDLOCK_RULE_NET_PORT, rule) < 0)
        fail(`landlock_add_rule for TCP port ${p.port}`);
    }
    if (c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0) fail("prctl(PR_SET_NO_NEW_PRIVS)");
    if (c.landlockRestrictSelf(ruleset, flags) < 0) fail("landlock_restrict_self");
  } finally {
    closeSync(ruleset);
    closeLandlockRules(opened);
  }
}

/** A 64-bit field in the machine's byte order (the structs are the kernel's, native-endian). */
function u64(buf: Buffer, value: number, offset: number): void {
  if (endianness() === "LE") buf.writeBigUInt64LE(BigInt(value), offset);
  else buf.writeBigUInt64BE(BigInt(value), offset);
}

const real = (p: string): string | undefined => {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
};

/**
 * Refuses a launch whose execve the ruleset would deny: the program, its script interpreter and its ELF
 * interpreter must each be an execute entry or beneath one (compared after resolving symlinks, as Landlock
 * sees inodes). Throws E_POLICY_INVALID naming the file and the fix; nothing is run.
 */
export function checkLaunchExecutable(plan: LandlockPlan, execute: readonly string[], path: string): void {
  if (!plan.enforced.files) return;
  const roots = execute.map(real).filter((p): p is string => p !== undefined);
  const chain = execChain(path);
  chain.forEach((file, i) => {
    const r = real(file) ?? file;
    if (roots.some((root) => r === root || r.startsWith(root === "/" ? "/" : `${root}/`))) return;
    const role = i === 0 ? "the launched program" : `the interpreter of ${chain[i - 1]}`;
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `landlock: ${role} ${file}${r !== file ? ` (${r})` : ""} is not in the policy's landlock.execute, so the kernel would refuse to execute it (EACCES); add ${r} or a directory above it to landlock.execute, or run with --no-landlock. Nothing was run.`,
    );
  });
}
