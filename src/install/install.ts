import { encodeProgram, type Insn } from "../bpf/insn.js";
import { compile } from "../compile/compile.js";
import { SysfenceError } from "../errors.js";
import type { Policy } from "../policy/model.js";
import { nativeArch } from "../syscalls/arches.js";
import {
  type Libc,
  loadLibc,
  PR_GET_SECCOMP,
  PR_SET_NO_NEW_PRIVS,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_SET_MODE_FILTER,
} from "./ffi.js";

/** Options for install(). */
export interface InstallOptions {
  /** Synchronise every thread of the process to the filter (SECCOMP_FILTER_FLAG_TSYNC). */
  tsync?: boolean;
  /** Log every action but allow (SECCOMP_FILTER_FLAG_LOG). */
  log?: boolean;
}

/** Checks that this kernel offers seccomp filters; throws E_SECCOMP_UNAVAILABLE otherwise. */
export function checkSeccomp(c: Libc = loadLibc()): void {
  // prctl(PR_GET_SECCOMP) fails with EINVAL when the kernel has no CONFIG_SECCOMP (prctl(2)).
  if (c.prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
    throw new SysfenceError(
      "E_SECCOMP_UNAVAILABLE",
      "this kernel does not support seccomp (prctl(PR_GET_SECCOMP) failed); nothing was run.",
    );
  }
  // seccomp(SECCOMP_SET_MODE_FILTER) with a NULL program fails with EFAULT when filters are supported.
  if (c.seccomp(SECCOMP_SET_MODE_FILTER, 0, null) === 0 || c.errno() !== 14) {
    throw new SysfenceError(
      "E_SECCOMP_UNAVAILABLE",
      `this kernel does not accept seccomp filters (errno ${c.errno()}); nothing was run.`,
    );
  }
}

/** Compiles a policy for the running architecture (or passes a program through). */
export function programOf(input: Policy | readonly Insn[]): readonly Insn[] {
  if (Array.isArray(input)) return input as readonly Insn[];
  const policy = input as Policy;
  const native = nativeArch();
  const arches = policy.architectures.includes(native)
    ? policy.architectures
    : [native, ...policy.architectures];
  return compile({ ...policy, architectures: arches }, { stats: false }).program;
}

/**
 * Applies a filter to the calling thread (and, with tsync, to every thread). Sets no_new_privs first,
 * as an unprivileged process must (seccomp(2)). Irreversible.
 */
export function install(input: Policy | readonly Insn[], options: InstallOptions = {}): void {
  const c = loadLibc();
  const program = programOf(input);
  checkSeccomp(c);
  const filter = encodeProgram(program);
  if (c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0) {
    throw new SysfenceError(
      "E_INSTALL_FAILED",
      `prctl(PR_SET_NO_NEW_PRIVS) failed with errno ${c.errno()}; no filter installed.`,
    );
  }
  const flags = (options.tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0) | (options.log ? SECCOMP_FILTER_FLAG_LOG : 0);
  const r = c.seccomp(SECCOMP_SET_MODE_FILTER, flags, { len: program.length, filter });
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
}

/**
 * Locks a running Node.js process down: installs the policy on every thread (TSYNC), so libuv's thread
 * pool and worker threads are covered. Call it after start-up (listening, loading modules) and before
 * serving input. Threads started later inherit the filter.
 */
export function lockdown(policy: Policy | readonly Insn[], options: { log?: boolean } = {}): void {
  install(policy, { tsync: true, log: options.log });
}
