import { readdirSync } from "node:fs";
import { decodeActionValue } from "../abi/action.js";
import * as O from "../abi/opcodes.js";
import { SECCOMP_RET_ACTION_FULL } from "../abi/seccomp-data.js";
import { encodeProgram, type Insn } from "../bpf/insn.js";
import { compile } from "../compile/compile.js";
import { SysfenceError } from "../errors.js";
import { formatAction } from "../policy/actions.js";
import { type LayersEnforced, noteFallback, planLandlock } from "../policy/landlock.js";
import type { Policy } from "../policy/model.js";
import type { ParsedPolicy } from "../policy/parse.js";
import { ARCHES, type ArchName, nativeArch } from "../syscalls/arches.js";
import { CANARY_NR, pickCanaryErrno, withCanary } from "./canary.js";
import {
  type Libc,
  loadLibc,
  PR_GET_SECCOMP,
  PR_SET_NO_NEW_PRIVS,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_SET_MODE_FILTER,
} from "./ffi.js";
import { checkInstallInput, checkOptions } from "./install-input.js";
import { applyLandlock, LANDLOCK_RESTRICT_SELF_TSYNC, landlockAbi, openLandlockRules } from "./landlock.js";
import { type CountProbe, closeCountProbe, openCountProbe, readAllowedBy, readCount } from "./proof.js";
import { type Program, splitProgram, withSplit } from "./quiet.js";

/** Options for install(). */
export interface InstallOptions {
  /** Synchronise every thread of the process to the filter (SECCOMP_FILTER_FLAG_TSYNC). */
  tsync?: boolean;
  /** Log every action but allow (SECCOMP_FILTER_FLAG_LOG). */
  log?: boolean;
  /** false: do not apply the policy's landlock: section (as on a kernel without Landlock). */
  landlock?: boolean;
}

/** Options for lockdown(). */
export interface LockdownOptions {
  /** Log every action but allow (SECCOMP_FILTER_FLAG_LOG). */
  log?: boolean;
  /** false: do not apply the policy's landlock: section (as on a kernel without Landlock). */
  landlock?: boolean;
  /** For an OCI or Docker profile: the capabilities the process holds (default: Docker's default set). */
  caps?: readonly string[];
}

/**
 * What install() and lockdown() accept: a policy file path (any format sysfence reads), a policy object
 * in the sysfence, OCI runtime-spec, Docker or SPO format, a parsePolicy() result or its `.policy`, a
 * generatePolicy() result's `.policy`, the bytes of a policy file, or a compiled program.
 */
export type PolicyInput =
  | string
  | Uint8Array
  | Policy
  | ParsedPolicy
  | readonly Insn[]
  | { readonly [key: string]: unknown };

const EFAULT = 14;

/**
 * Checks that this kernel takes this filter: seccomp is built in, filters with these flags are accepted,
 * and every action the program returns is one the kernel knows. Throws E_SECCOMP_UNAVAILABLE otherwise.
 */
export function checkSeccomp(c: Libc = loadLibc(), flags = 0, program?: readonly Insn[]): void {
  // prctl(PR_GET_SECCOMP) fails with EINVAL when the kernel has no CONFIG_SECCOMP (prctl(2)).
  if (c.prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
    throw new SysfenceError(
      "E_SECCOMP_UNAVAILABLE",
      "this kernel does not support seccomp (prctl(PR_GET_SECCOMP) failed); nothing was run.",
    );
  }
  // seccomp(SECCOMP_SET_MODE_FILTER) with a NULL program fails with EFAULT when filters (and these flags)
  // are supported, EINVAL when a flag is not.
  if (c.seccomp(SECCOMP_SET_MODE_FILTER, flags, null) === 0 || c.errno() !== EFAULT) {
    const errno = c.errno();
    throw new SysfenceError(
      "E_SECCOMP_UNAVAILABLE",
      errno === 22 && flags
        ? `this kernel does not accept the filter flags ${flags} (${flags & SECCOMP_FILTER_FLAG_LOG ? "log needs Linux 4.14" : "tsync"}); nothing was run.`
        : `this kernel does not accept seccomp filters (errno ${errno}); nothing was run.`,
    );
  }
  if (!program) return;
  const actions = new Set<number>();
  for (const i of program)
    if (i.code === (O.BPF_RET | O.BPF_K)) actions.add((i.k & SECCOMP_RET_ACTION_FULL) >>> 0);
  for (const a of actions) {
    if (c.actionAvailable(a) !== 0) {
      throw new SysfenceError(
        "E_SECCOMP_UNAVAILABLE",
        `this kernel does not know the action ${formatAction(decodeActionValue(a))} (SECCOMP_GET_ACTION_AVAIL, errno ${c.errno()}); choose another action. Nothing was run.`,
      );
    }
  }
}

/**
 * Compiles a policy for the running architecture (or passes a program through). A policy that lists
 * architectures but not this one is refused (checkNativeListed); one that lists none is for this machine.
 * `landlock`: whether the policy's Landlock layer is enforced (rules marked needs: landlock are compiled only then).
 */
export function programOf(
  input: Policy | readonly Insn[],
  options: { landlock?: LayersEnforced; done?: string } = {},
): Program {
  if (Array.isArray(input)) return input as Program;
  const policy = input as Policy;
  checkNativeListed(policy, options.done ?? "installed");
  const arches = policy.architectures.length ? policy.architectures : [nativeArch()];
  const compileOptions = { stats: false, landlock: options.landlock ?? false };
  const program = compile({ ...policy, architectures: arches }, compileOptions).program;
  // the answers it gives on purpose, for a logging install to keep out of the kernel log
  return withSplit(program, splitProgram({ ...policy, architectures: arches }, compileOptions));
}

/**
 * Refuses a policy that lists architectures but not the one this process runs on. Installed here, every
 * call — sysfence's own next one, then the program's — would get its badArchAction (kill by default): the
 * policy is for another machine, and `compile`/`emu` answer this machine's calls the same way. x32 is its
 * own ABI: a policy listing x32 does not list x86_64, though both share AUDIT_ARCH_X86_64.
 */
export function checkNativeListed(policy: Policy, done = "installed", native: ArchName = nativeArch()): void {
  const listed = policy.architectures;
  if (listed.length === 0 || listed.includes(native)) return;
  const where = policy.source ? `${policy.source}: ` : "";
  const x32 =
    listed.includes("x32") && native === "x86_64"
      ? " (x32 is a separate ABI: listing it does not cover x86_64 calls)"
      : "";
  throw new SysfenceError(
    "E_POLICY_INVALID",
    `${where}the policy lists the architectures ${listed.join(", ")} but not ${native}, which this machine runs${x32}; here every call, sysfence's own included, would get its badArchAction (${formatAction(policy.badArchAction)}). Add ${native} to its architectures (or remove the key: the default is this machine's), or use the policy where it is meant (on ${listed.join(" or ")}). Nothing was ${done}.`,
  );
}

const flagsOf = (options: InstallOptions) =>
  (options.tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0) | (options.log ? SECCOMP_FILTER_FLAG_LOG : 0);

/**
 * Every check before the kernel is touched (no_new_privs and a filter cannot be taken back): seccomp
 * available, flags and actions known, each program still within the kernel's limit with its canary.
 */
export function checkPrograms(programs: readonly Program[], options: InstallOptions, c: Libc): void {
  for (const program of programs) {
    checkSeccomp(c, flagsOf(options), program);
    withCanary(program, ARCHES[nativeArch()].audit, 0);
  }
  const split = options.log ? programs[programs.length - 1]?.split : undefined;
  if (split) {
    checkSeccomp(c, flagsOf(options) & ~SECCOMP_FILTER_FLAG_LOG, split.quiet);
    withCanary(split.quiet, ARCHES[nativeArch()].audit, 0);
    checkSeccomp(c, flagsOf(options), split.loud);
    withCanary(split.loud, ARCHES[nativeArch()].audit, 0);
  }
}

/**
 * Installs programs checkPrograms passed, in order: no_new_privs, then each filter, each with a canary
 * prologue answering the reserved number with its own errno (one that differs from what the number
 * answered before and from the others'). A filter without SECCOMP_FILTER_FLAG_LOG is proven by calling
 * the number: the newest filter's errno must come back. A logging filter's answer would be a record in the
 * shared kernel log, so under `log` the filters are proven instead by the thread's filter count
 * (proof.ts) when the filters let its read through, else by the canary as before. Under `log` the last
 * policy's program is installed split (quiet.ts): its deliberate answers in a filter without the flag,
 * then the program with those calls allowed.
 * Throws E_INSTALL_FAILED when the kernel refuses, a canary does not answer, or the count did not grow.
 */
export function installChecked(
  programs: readonly Program[],
  options: InstallOptions,
  c: Libc,
  proof: CountProbe | undefined = options.log ? openCountProbe() : undefined,
): void {
  const flags = flagsOf(options);
  const last = programs[programs.length - 1];
  const split = options.log ? last?.split : undefined;
  const layers = split
    ? [
        ...programs.slice(0, -1).map((program) => ({ program, flags })),
        { program: split.quiet, flags: flags & ~SECCOMP_FILTER_FLAG_LOG },
        { program: split.loud, flags },
      ]
    : programs.map((program) => ({ program, flags }));
  const count = options.log ? proof : undefined;
  const byCount =
    count !== undefined &&
    readAllowedBy(
      layers.map((l) => l.program),
      count,
    );
  if (!byCount) closeCountProbe(count);
  if (c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0) {
    closeCountProbe(count);
    throw new SysfenceError(
      "E_INSTALL_FAILED",
      `prctl(PR_SET_NO_NEW_PRIVS) failed with errno ${c.errno()}; no filter installed.`,
    );
  }
  // what the canary number answers now: ENOSYS, or an outer filter's answer (an outer sysfence's canary)
  const taken = [c.probe(CANARY_NR)];
  for (const layer of layers) {
    const errno = pickCanaryErrno(taken);
    taken.push(errno);
    const armed = withCanary(layer.program, ARCHES[nativeArch()].audit, errno);
    const r = c.seccomp(SECCOMP_SET_MODE_FILTER, layer.flags, {
      len: armed.length,
      filter: encodeProgram(armed),
    });
    if (r < 0) {
      throw new SysfenceError(
        "E_INSTALL_FAILED",
        `seccomp(SECCOMP_SET_MODE_FILTER) failed with errno ${c.errno()}; no filter installed.`,
      );
    }
    if (r > 0) {
      // With TSYNC, a positive return is the id of a thread that could not be synchronised (seccomp(2)).
      throw new SysfenceError(
        "E_INSTALL_FAILED",
        `thread ${r} could not be synchronised to the filter (TSYNC); no filter installed.`,
      );
    }
    // a logging filter's canary answer would be logged: the count below proves it
    if (byCount && layer.flags & SECCOMP_FILTER_FLAG_LOG) continue;
    const answer = c.probe(CANARY_NR);
    if (answer !== errno) {
      throw new SysfenceError(
        "E_INSTALL_FAILED",
        `seccomp() reported success but the filter is not in force: the canary syscall ${CANARY_NR} answered errno ${answer}, not ${errno}. Something (an outer seccomp filter?) faked the install; sysfence stops here.`,
      );
    }
  }
  if (byCount && count) {
    const now = readCount(count);
    const want = count.before + layers.length;
    if (now !== want)
      throw new SysfenceError(
        "E_INSTALL_FAILED",
        `seccomp() reported success but the filters are not in force: Seccomp_filters in /proc/thread-self/status is ${now ?? "unreadable"} after ${layers.length} install(s), not ${want}. Something (an outer seccomp filter?) faked the install; sysfence stops here.`,
      );
  }
}

/** Checks, then installs one program (checkPrograms + installChecked). Irreversible. */
export function installProgram(program: Program, options: InstallOptions, c: Libc = loadLibc()): void {
  checkPrograms([program], options, c);
  installChecked([program], options, c);
}

/**
 * Applies a filter to the calling thread (and, with tsync, to every thread). Everything is checked and
 * compiled before the kernel is touched; then no_new_privs (as seccomp(2) requires of an unprivileged
 * process), the filter, and the canary that proves it took. Irreversible.
 */
export function install(input: PolicyInput, options: InstallOptions & LockdownOptions = {}): InstallResult {
  const { caps, rest } = splitCaps(options, "install");
  return installInput(input, checkOptions(rest, ["tsync", "log", "landlock"], "install"), "install", caps);
}

/**
 * What install() and lockdown() did with a policy's Landlock layer: "enforced" (on every thread the
 * filter covers), "calling-thread" (below ABI 8 Landlock binds only the calling thread, so for a
 * many-threaded process it is not counted as enforced), "off" (disabled, no Landlock, or log mode),
 * "none" (the policy has no landlock: section). `notes`: one line per thing not applied, and why.
 */
export interface InstallResult {
  landlock: "enforced" | "calling-thread" | "off" | "none";
  notes: string[];
}

/** Checks what a caller passed, compiles it and installs it; a policy's flags: [log] asks for the log flag. */
function installInput(
  input: unknown,
  opts: InstallOptions,
  fn: string,
  caps?: readonly string[],
): InstallResult {
  const c = loadLibc();
  const checked = checkInstallInput(input, fn, caps ? { caps } : {});
  const log = opts.log || (!Array.isArray(checked) && checked.flags?.includes("log"));
  const section = Array.isArray(checked) ? undefined : checked.landlock;
  if (!section) {
    const notes: string[] = [];
    if (!Array.isArray(checked) && noteFallback(notes, checked, false, true)) warnFallback(fn, notes);
    installProgram(programOf(checked), { tsync: opts.tsync, log }, c);
    return { landlock: "none", notes };
  }
  const kernel =
    opts.landlock === false
      ? { abi: 0, why: `disabled by ${fn}()'s landlock: false` }
      : log
        ? { abi: 0, why: "not applied in log mode (Landlock has no log-only mode)" }
        : landlockAbi(c);
  const plan = planLandlock(section, kernel.abi, kernel.why);
  const notes = [...plan.dropped];
  // with tsync the filter covers every thread; below ABI 8 Landlock cannot follow it there
  const others = opts.tsync ? otherThreads() : 0;
  const partial = plan.enforced.files && others > 0 && plan.abi < 8;
  if (partial)
    notes.push(
      `landlock: applied to the calling thread only, not to the ${others} other thread${others === 1 ? "" : "s"}: Landlock binds only the calling thread below ABI 8 (LANDLOCK_RESTRICT_SELF_TSYNC), this kernel has ${plan.abi}; rules with needs: landlock were dropped (seccomp-only)`,
    );
  const layers = !partial && plan.enforced;
  if (!Array.isArray(checked) && noteFallback(notes, checked, layers)) warnFallback(fn, notes);
  const program = programOf(checked, { landlock: layers });
  const flags = { tsync: opts.tsync, log };
  checkPrograms([program], flags, c);
  const opened = openLandlockRules(plan);
  notes.push(...opened.notes);
  // the filter count's file is opened before Landlock, which may not let it be opened after
  const proof = log ? openCountProbe() : undefined;
  // Landlock first: the seccomp filter then need not allow the landlock calls
  applyLandlock(c, plan, opened, opts.tsync ? LANDLOCK_RESTRICT_SELF_TSYNC : 0);
  installChecked([program], flags, c, proof);
  return {
    landlock: !plan.enforced.files ? "off" : partial ? "calling-thread" : "enforced",
    notes,
  };
}

/** What fell back is said once, as Node's libraries warn (a 'warning' event; --no-warnings silences it). */
function warnFallback(fn: string, notes: readonly string[]): void {
  process.emitWarning(`sysfence ${fn}(): ${notes.join("; ")}`, { code: "SYSFENCE_LANDLOCK_FALLBACK" });
}

/** How many threads besides the calling one this process has (/proc/self/task). */
function otherThreads(): number {
  try {
    return Math.max(0, readdirSync("/proc/self/task").length - 1);
  } catch {
    return 1; // unknown: assume others exist rather than claim coverage
  }
}

/** Takes `caps` (a list of capability names) out of an options object; the rest are booleans. */
function splitCaps(options: unknown, fn: string): { caps?: readonly string[]; rest: unknown } {
  if (typeof options !== "object" || options === null || !("caps" in options)) return { rest: options };
  const { caps, ...rest } = options as { caps?: unknown };
  if (caps !== undefined && (!Array.isArray(caps) || caps.some((c) => typeof c !== "string")))
    throw new SysfenceError(
      "E_USAGE",
      `${fn}() options.caps: expected an array of capability names, e.g. ["CAP_NET_BIND_SERVICE"].`,
    );
  return { caps: caps as readonly string[] | undefined, rest };
}

/**
 * Locks a running Node.js process down: installs the policy on every thread (TSYNC), so libuv's thread
 * pool and worker threads are covered. Call it after start-up (listening, loading modules) and before
 * serving input. Threads started later inherit the filter. A policy's landlock: section is applied to the
 * calling thread before the filter; below Landlock ABI 8 it cannot reach the other threads, so the result
 * says "calling-thread" with a note and rules with needs: landlock are dropped (seccomp-only).
 */
export function lockdown(policy: PolicyInput, options: LockdownOptions = {}): InstallResult {
  const { caps, rest } = splitCaps(options, "lockdown");
  return installInput(
    policy,
    { ...checkOptions(rest, ["log", "landlock"], "lockdown"), tsync: true },
    "lockdown",
    caps,
  );
}
