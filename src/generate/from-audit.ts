// SECCOMP audit records as a profile: each denied (or logged) call becomes a work-phase call, so
// `generate` and `merge` treat what the kernel saw in production like what strace saw in a recording.
import { SysfenceError } from "../errors.js";
import type { RecordFilter } from "../observe/programs.js";
import type { SeccompRecord } from "../observe/records.js";
import type { RecordSieve } from "../observe/sieve.js";
import type { Profile, SyscallCounts } from "../record/profile.js";
import { dict } from "../util/dict.js";

/** Builds a profile from decoded records (pure). Records of other arches than `arch` are left out. */
export function profileOfRecords(records: readonly SeccompRecord[], source: string, arch?: string): Profile {
  const byExe = new Map<string, Map<string, SyscallCounts>>();
  const archOf = arch ?? records.find((r) => r.arch)?.arch ?? "x86_64";
  let first: number | undefined;
  let last: number | undefined;
  for (const r of records) {
    if (!r.syscall || r.arch !== archOf) continue;
    const exe = r.exe ?? r.comm ?? "?";
    let m = byExe.get(exe);
    if (!m) {
      m = new Map();
      byExe.set(exe, m);
    }
    const c = m.get(r.syscall) ?? { setup: 0, work: 0, errors: 0 };
    c.work++;
    m.set(r.syscall, c);
    if (r.time !== undefined) {
      first = Math.min(first ?? r.time, r.time);
      last = Math.max(last ?? r.time, r.time);
    }
  }
  const totals: Record<string, SyscallCounts> = dict();
  const processes = [...byExe.entries()].map(([exe, m], i) => {
    for (const [name, c] of m) {
      totals[name] ??= { setup: 0, work: 0, errors: 0 };
      totals[name].work += c.work;
    }
    // pid 0 with a parent: records carry no process tree; never mistaken for a launch
    return { pid: -(i + 1), exe, parent: 0, threads: [{ tid: -(i + 1), syscalls: Object.fromEntries(m) }] };
  });
  return {
    format: "sysfence-profile",
    version: 1,
    command: [`audit:${source}`],
    engine: { name: "audit" },
    arch: archOf,
    startedAt: first === undefined ? undefined : new Date(first * 1000).toISOString(),
    endedAt: last === undefined ? undefined : new Date(last * 1000).toISOString(),
    complete: true,
    phaseBoundary: "audit",
    syscalls: totals,
    processes,
    paths: dict(),
    signals: dict(),
  };
}

/**
 * Reads the records of a source (file, -, auto, dmesg, journal, audit-log) that `filter` takes into a
 * profile; the sieve tells what was left out (other programs' records, malformed lines).
 */
export async function profileFromAudit(
  source: string,
  o: { filter: RecordFilter; arch?: string; hint: string },
): Promise<{ profile: Profile; sieve: RecordSieve }> {
  const { RecordSieve } = await import("../observe/sieve.js");
  const { readSource, sourceFromArgument } = await import("../observe/sources.js");
  const src = sourceFromArgument(source);
  const sieve = new RecordSieve({ filter: o.filter });
  await readSource(src, (line) => sieve.feed(line));
  if (sieve.records.length === 0)
    throw new SysfenceError(
      "E_USAGE",
      [
        `no SECCOMP records of ${o.filter.wanted} in ${source}; run the program under the policy with --log first.`,
        ...sieve.report(source, o.hint),
      ].join("\n"),
    );
  return { profile: profileOfRecords(sieve.records, source, o.arch), sieve };
}
