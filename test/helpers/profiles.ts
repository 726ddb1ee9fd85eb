// Synthetic profiles for generator tests: exactly the calls and argument values a test needs.
import { INTERESTING_ARGS, type Profile, type SyscallCounts } from "../../src/record/profile.js";

type Calls = Record<
  string,
  {
    setup?: number;
    work?: number;
    args?: Record<number, (string | number | bigint)[]>;
    /** Values seen together, in INTERESTING_ARGS order (profile.ts combos); `args` follows from them when not given. */
    combos?: (string | number | bigint)[][];
  }
>;

function counts(calls: Calls, phase: "setup" | "work" | "split"): Record<string, SyscallCounts> {
  const out: Record<string, SyscallCounts> = {};
  for (const [name, c] of Object.entries(calls)) {
    const setup = c.setup ?? (phase === "setup" ? 1 : 0);
    const work = c.work ?? (phase === "work" ? 1 : 0);
    const args: Record<string, Record<string, number>> = {};
    for (const [i, vals] of Object.entries(c.args ?? {})) {
      args[i] = {};
      for (const v of vals) args[i][String(v)] = 1;
    }
    const combos: Record<string, number> = {};
    for (const values of c.combos ?? []) {
      combos[values.join(",")] = 1;
      if (c.args) continue;
      values.forEach((v, k) => {
        const i = String(INTERESTING_ARGS[name][k]);
        args[i] ??= {};
        args[i][String(v)] = (args[i][String(v)] ?? 0) + 1;
      });
    }
    const withArgs = c.args !== undefined || c.combos !== undefined;
    out[name] = {
      setup,
      work,
      errors: 0,
      ...(withArgs ? { args, ...(work ? { workArgs: args } : {}) } : {}),
      ...(c.combos ? { combos, ...(work ? { workCombos: combos } : {}) } : {}),
    };
  }
  return out;
}

/** A profile of one process (pid 100, /usr/bin/demo) with a main thread and optionally a worker. */
export function syntheticProfile(
  main: Calls,
  o: { worker?: Calls; boundary?: string; launch?: boolean; exe?: string; phase?: "setup" | "work" } = {},
): Profile {
  const phase = o.phase ?? (o.boundary ? "work" : "setup");
  const threads = [{ tid: 100, syscalls: counts(main, phase) }];
  if (o.worker) threads.push({ tid: 101, syscalls: counts(o.worker, phase) });
  const totals: Record<string, SyscallCounts> = {};
  for (const t of threads)
    for (const [n, c] of Object.entries(t.syscalls)) {
      totals[n] ??= { setup: 0, work: 0, errors: 0 };
      const d = totals[n];
      d.setup += c.setup;
      d.work += c.work;
      if (c.args) d.args = { ...(d.args ?? {}), ...c.args };
      if (c.workArgs) d.workArgs = { ...(d.workArgs ?? {}), ...c.workArgs };
      if (c.combos) d.combos = { ...(d.combos ?? {}), ...c.combos };
      if (c.workCombos) d.workCombos = { ...(d.workCombos ?? {}), ...c.workCombos };
    }
  const exe = o.exe ?? "/usr/bin/demo";
  const processes = [
    ...(o.launch
      ? [
          {
            pid: 100,
            exe: "demo",
            threads: [{ tid: 100, syscalls: { execve: { setup: 1, work: 0, errors: 0 } } }],
          },
        ]
      : []),
    { pid: 100, exe, parent: o.launch ? undefined : 1, threads },
  ];
  return {
    format: "sysfence-profile",
    version: 1,
    command: [exe],
    engine: { name: "strace", version: "6.1" },
    arch: "x86_64",
    complete: true,
    phaseBoundary: o.boundary,
    syscalls: totals,
    processes,
    paths: { "/etc/demo.conf": 1, "inet:127.0.0.1:8080": 2 },
    signals: {},
  };
}

/**
 * A recorded profile without what differs by run or engine (engine, times, pids and tids, paths and
 * their access): two engines' recordings of one workload compare equal through it. Processes in any order.
 * `varying`: calls whose number a program itself varies from run to run (kept: that they were made).
 */
export const comparable = (profile: Profile, varying: readonly string[] = []) => {
  const p = varying.length ? withoutCounts(profile, varying) : profile;
  return JSON.stringify({
    ...p,
    engine: 0,
    startedAt: 0,
    endedAt: 0,
    paths: 0,
    pathAccess: 0,
    processes: p.processes
      .map((x) =>
        JSON.stringify({
          ...x,
          pid: 0,
          parent: x.parent === undefined ? 0 : 1,
          threads: x.threads.map((t) => ({ ...t, tid: 0 })),
        }),
      )
      .sort(),
  });
};

/** `p` with the counts of `names` replaced by 1 (in the totals and in every thread). */
function withoutCounts(p: Profile, names: readonly string[]): Profile {
  const flat = (calls: Profile["syscalls"]) =>
    Object.fromEntries(
      Object.entries(calls).map(([n, c]) => [n, names.includes(n) ? { ...c, setup: 1, work: 0 } : c]),
    );
  return {
    ...p,
    syscalls: flat(p.syscalls),
    processes: p.processes.map((x) => ({
      ...x,
      threads: x.threads.map((t) => ({ ...t, syscalls: flat(t.syscalls) })),
    })),
  };
}
