// The proof that a logging filter took, without a record in the kernel log. A canary answered by a filter
// installed with SECCOMP_FILTER_FLAG_LOG is itself logged (the kernel logs every errno answer of such a
// filter), so a logging filter is proven instead by the calling thread's filter count: `Seccomp_filters:`
// in /proc/thread-self/status (Linux 5.9+) grows by one for each filter the kernel really attaches, and a
// seccomp() faked by an outer filter cannot move it. The file is opened before the first install and read
// once after the last one — a plain read(2) on that fd, which must be allowed by every filter installed
// (checked by emulation first: an errno answer would fail the read, a log answer would be a record).
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW } from "../abi/seccomp-data.js";
import { emulate } from "../bpf/emulator.js";
import type { Insn } from "../bpf/insn.js";
import { ARCHES, nativeArch } from "../syscalls/arches.js";
import { syscallNumber } from "../syscalls/table.js";

const STATUS = "/proc/thread-self/status";
const READ_LEN = 16384;

/** The `Seccomp_filters:` count in a status file's text; undefined when absent (before Linux 5.9). */
export function filterCountOf(status: string): number | undefined {
  const m = /^Seccomp_filters:\s*(\d+)\s*$/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** A filter count read later through an fd opened now. */
export interface CountProbe {
  /** The count before any install. */
  before: number;
  fd: number;
  /** The arguments read(2) will be made with (fd, length): what the filters are asked about. */
  readArgs: bigint[];
}

/** Opens the proof: the count now and an fd to read it again; undefined when this kernel has no count. */
export function openCountProbe(): CountProbe | undefined {
  let before: number | undefined;
  try {
    before = filterCountOf(readFileSync(STATUS, "utf8"));
  } catch {
    return undefined;
  }
  if (before === undefined) return undefined;
  const fd = openSync(STATUS, "r");
  return { before, fd, readArgs: [BigInt(fd), 0n, BigInt(READ_LEN), 0n, 0n, 0n] };
}

/**
 * True when every program allows the proof's read(2) and close(2) on this machine's architecture
 * (arguments as made, except the buffer pointer, which no sane rule tests): then no filter answers them
 * and they leave no record.
 */
export function readAllowedBy(programs: readonly (readonly Insn[])[], probe: CountProbe): boolean {
  const arch = ARCHES[nativeArch()].audit;
  const calls: [string, bigint[]][] = [
    ["read", probe.readArgs],
    ["close", [BigInt(probe.fd), 0n, 0n, 0n, 0n, 0n]],
  ];
  return calls.every(([name, args]) => {
    const nr = syscallNumber(nativeArch(), name);
    return (
      nr !== undefined &&
      programs.every(
        (p) => (emulate(p, { nr, arch, args }).value & SECCOMP_RET_ACTION_FULL) >>> 0 === SECCOMP_RET_ALLOW,
      )
    );
  });
}

/** The count now, read once through the probe's fd (which is closed); undefined when it cannot be read. */
export function readCount(probe: CountProbe): number | undefined {
  const buf = Buffer.alloc(READ_LEN);
  try {
    const n = readSync(probe.fd, buf, 0, READ_LEN, null);
    return filterCountOf(buf.subarray(0, n).toString("utf8"));
  } catch {
    return undefined;
  } finally {
    try {
      closeSync(probe.fd);
    } catch {
      // the count is what matters; a close the filter refuses changes nothing
    }
  }
}

/** Closes a probe that will not be read. */
export function closeCountProbe(probe: CountProbe | undefined): void {
  if (!probe) return;
  try {
    closeSync(probe.fd);
  } catch {
    // nothing to do
  }
}
