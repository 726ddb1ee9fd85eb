// Installing a learning filter in the launcher: no_new_privs, the filter with a listener, proven by the
// install canary (canary.ts: a reserved number answered with an errno chosen for this install — the
// canary's answer is an errno, so a filter installed without SECCOMP_FILTER_FLAG_LOG logs nothing).
import { encodeProgram, type Insn } from "../bpf/insn.js";
import { CANARY_NR, pickCanaryErrno, withCanary } from "../install/canary.js";
import { type Libc, PR_SET_NO_NEW_PRIVS, SECCOMP_SET_MODE_FILTER } from "../install/ffi.js";
import { ARCHES, nativeArch } from "../syscalls/arches.js";

const EBUSY = 16;

/** Installs `program` with `flags` (NEW_LISTENER among them); undefined, or why it failed. */
export function installListener(c: Libc, program: readonly Insn[], flags: number): string | undefined {
  if (c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0)
    return `prctl(PR_SET_NO_NEW_PRIVS) failed with errno ${c.errno()}.`;
  const before = c.probe(CANARY_NR);
  const errno = pickCanaryErrno(before);
  const armed = withCanary(program, ARCHES[nativeArch()].audit, errno);
  const fd = c.seccomp(SECCOMP_SET_MODE_FILTER, flags, { len: armed.length, filter: encodeProgram(armed) });
  if (fd < 0) {
    const e = c.errno();
    return e === EBUSY
      ? "seccomp() refused a second listener (EBUSY): a filter with a listener is already installed on this process (one listener per filter chain) — the learning run cannot supervise a program started under another notifier."
      : `seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER) failed with errno ${e}.`;
  }
  const answer = c.probe(CANARY_NR);
  if (answer !== errno)
    return `seccomp() reported success but the filter is not in force: the canary syscall ${CANARY_NR} answered errno ${answer}, not ${errno}.`;
  return undefined;
}
