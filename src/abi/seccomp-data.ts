// struct seccomp_data and return values, from include/uapi/linux/seccomp.h.

/** offsetof(struct seccomp_data, nr): int, the syscall number. */
export const OFF_NR = 0;
/** offsetof(struct seccomp_data, arch): __u32, an AUDIT_ARCH_* value. */
export const OFF_ARCH = 4;
/** offsetof(struct seccomp_data, instruction_pointer): __u64. */
export const OFF_IP = 8;
/** offsetof(struct seccomp_data, args): __u64[6]. */
export const OFF_ARGS = 16;
/** sizeof(struct seccomp_data). */
export const SECCOMP_DATA_SIZE = 64;

/** Kill the whole process (as by SIGSYS, core dumped). */
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
/** Kill the calling thread only. */
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
/** Send SIGSYS to the thread; the data is si_errno. */
export const SECCOMP_RET_TRAP = 0x00030000;
/** Fail the call without running it, returning -data (an errno). */
export const SECCOMP_RET_ERRNO = 0x00050000;
/** Ask the supervisor holding the listener fd (SECCOMP_FILTER_FLAG_NEW_LISTENER). */
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
/** Stop for a ptrace tracer (PTRACE_EVENT_SECCOMP, data as the event message); ENOSYS with none. */
export const SECCOMP_RET_TRACE = 0x7ff00000;
/** Run the call and log it. */
export const SECCOMP_RET_LOG = 0x7ffc0000;
/** Run the call. */
export const SECCOMP_RET_ALLOW = 0x7fff0000;
/** Mask: a return value's action (the upper 16 bits, compared as signed: lower wins). */
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
/** Mask: a return value's data (the lower 16 bits). */
export const SECCOMP_RET_DATA = 0x0000ffff;

/** Offsets of the low and high 32-bit words of argument i, which depend on byte order. */
export function argOffsets(i: number, littleEndian: boolean): { lo: number; hi: number } {
  const base = OFF_ARGS + 8 * i;
  return littleEndian ? { lo: base, hi: base + 4 } : { lo: base + 4, hi: base };
}
