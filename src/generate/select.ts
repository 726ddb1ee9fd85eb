// Which recorded calls a policy is generated from: by phase, process image and thread role.
import { SysfenceError } from "../errors.js";
import type { Profile, SyscallCounts } from "../record/profile.js";
import { dict } from "../util/dict.js";

/** Thread roles: the thread-group leader, the other threads, or both. */
export type ThreadRole = "main" | "workers" | "all";

/** What to take from the profiles. */
export interface Selection {
  /** undefined: all (a policy sysfence run can start the program under); work only when asked. */
  phase?: "work" | "all";
  exe?: string[];
  threadRole?: ThreadRole;
}

/** One syscall as seen in the selected part of the recordings. */
export interface SeenCall {
  name: string;
  /** Calls in the selected phase. */
  count: number;
  setup: number;
  work: number;
  /** Argument index → value text → count, in the selected phase. */
  args: Record<string, Record<string, number>>;
  /**
   * The interesting arguments' values together ("v0,v1[,v2]" in INTERESTING_ARGS order) → count, in the
   * selected phase (profile.ts `combos`); an entry without them adds none, so tighten.ts uses these only
   * where they account for every value in `args`.
   */
  combos: Record<string, number>;
  /**
   * "memcached main", "memcached workers" → the processes it was seen in there: pid → the processes that
   * pid stands for (1, or a folded entry's images).
   */
  where: Map<string, Map<number, number>>;
  /** Why the call is needed although it was not recorded (clone as clone3's fallback). */
  fallback?: string;
}

/** The selected calls and what the selection did. */
export interface SelectedCalls {
  calls: Map<string, SeenCall>;
  phase: "work" | "all";
  notes: string[];
  arch: string;
  /** True when the profiles have a work phase (so "setup"/"work" mean something). */
  phased: boolean;
}

const basename = (p: string) => p.slice(p.lastIndexOf("/") + 1);

/** Collects the calls a policy has to allow from one or more profiles. */
export function selectCalls(profiles: readonly Profile[], sel: Selection = {}): SelectedCalls {
  if (profiles.length === 0) throw new SysfenceError("E_USAGE", "no profile given.");
  const arches = new Set(profiles.map((p) => p.arch));
  if (arches.size > 1)
    throw new SysfenceError(
      "E_USAGE",
      `the profiles were recorded on different architectures (${[...arches].join(", ")}); generate one policy per architecture.`,
    );
  const withBoundary = profiles.filter((p) => p.phaseBoundary).length;
  const phase = sel.phase ?? "all";
  const notes: string[] = [];
  if (phase === "work" && withBoundary < profiles.length)
    throw new SysfenceError(
      "E_USAGE",
      "--phase work needs profiles recorded with --after (their work phase); these have none — use --phase all, or record again with --after listen|accept|ready|…",
    );
  // record --pid: the processes were running already; what they did to start is not in the profile
  if (profiles.every((p) => p.phaseBoundary === "attached"))
    notes.push(
      "recorded by attaching to running processes (record --pid): there is no start-up phase in it; a policy that 'sysfence run' starts the program with also needs a recording of a launch: sysfence merge START.json ATTACHED.json -o all.json, then generate --phase all all.json",
    );
  const role = sel.threadRole ?? "all";
  const calls = new Map<string, SeenCall>();
  let matchedExe = 0;
  let launches = 0;
  for (const profile of profiles) {
    for (const proc of profile.processes) {
      if (sel.exe?.length && !sel.exe.some((x) => proc.exe === x || basename(proc.exe) === x)) continue;
      matchedExe++;
      // The launch: the recorded command's first image did nothing but execve the program. That exec is
      // the launcher's (sysfence run allows exactly that one), not the program's.
      const only = proc.threads.length === 1 ? Object.keys(proc.threads[0].syscalls) : [];
      if (proc.parent === undefined && only.length === 1 && only[0] === "execve") {
        launches++;
        continue;
      }
      for (const t of proc.threads) {
        const isMain = t.tid === proc.pid;
        if (role === "main" && !isMain) continue;
        if (role === "workers" && isMain) continue;
        const where = `${basename(proc.exe)} ${isMain ? "main" : "workers"}`;
        for (const [name, c] of Object.entries(t.syscalls))
          add(calls, name, c, phase, where, proc.pid, proc.images ?? 1);
      }
    }
  }
  if (sel.exe?.length && matchedExe === 0) {
    const exes = [...new Set(profiles.flatMap((p) => p.processes.map((x) => x.exe)))];
    throw new SysfenceError(
      "E_USAGE",
      `no recorded process runs ${sel.exe.join(" or ")}; the profiles have: ${exes.join(", ")}.`,
    );
  }
  if (launches)
    notes.push("the launch's execve is not the program's call; sysfence run allows exactly that one exec");
  if (phase === "work" && profiles.some((p) => Object.values(p.syscalls).some((c) => c.args && !c.workArgs)))
    notes.push(
      "profile without work-phase argument values: argument rules use both phases (wider, never tighter)",
    );
  if (calls.size === 0)
    throw new SysfenceError(
      "E_USAGE",
      `the selection has no calls (phase ${phase}${sel.exe?.length ? `, exe ${sel.exe.join(",")}` : ""}${role !== "all" ? `, thread role ${role}` : ""}).`,
    );
  return { calls, phase, notes, arch: profiles[0].arch, phased: withBoundary === profiles.length };
}

function add(
  calls: Map<string, SeenCall>,
  name: string,
  c: SyscallCounts,
  phase: "work" | "all",
  where: string,
  pid: number,
  images: number,
) {
  const n = phase === "work" ? c.work : c.setup + c.work;
  if (n === 0) return;
  let s = calls.get(name);
  if (!s) {
    s = { name, count: 0, setup: 0, work: 0, args: dict(), combos: dict(), where: new Map() };
    calls.set(name, s);
  }
  s.count += n;
  s.setup += c.setup;
  s.work += c.work;
  const pids = s.where.get(where) ?? new Map<number, number>();
  pids.set(pid, Math.max(pids.get(pid) ?? 0, images));
  s.where.set(where, pids);
  const args = phase === "work" ? (c.workArgs ?? c.args) : c.args;
  for (const [i, vals] of Object.entries(args ?? {})) {
    s.args[i] ??= dict();
    for (const [v, k] of Object.entries(vals)) s.args[i][v] = (s.args[i][v] ?? 0) + k;
  }
  // (work-phase values without work-phase combinations: the combinations of both phases would not
  // add up to the values, so tighten.ts pins each argument apart)
  const combos = phase === "work" ? (c.workArgs ? c.workCombos : c.combos) : c.combos;
  for (const [v, k] of Object.entries(combos ?? {})) s.combos[v] = (s.combos[v] ?? 0) + k;
}
