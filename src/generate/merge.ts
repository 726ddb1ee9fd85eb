// Several recordings (runs, hosts, test shards) as one profile: counts add up, processes are listed
// side by side, and the result says where it came from.
import { SysfenceError } from "../errors.js";
import { unionLetters } from "../record/path-access.js";
import { addCounts, type Profile, type SyscallCounts } from "../record/profile.js";
import { dict } from "../util/dict.js";

function sumInto(a: Record<string, number>, b: Record<string, number>): void {
  for (const [k, n] of Object.entries(b)) a[k] = (a[k] ?? 0) + n;
}

const sortKeys = <T>(o: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/** Merges profiles into one (pure). Every profile must come from the same architecture. */
export function mergeProfiles(profiles: readonly Profile[], sources: readonly string[] = []): Profile {
  if (profiles.length === 0) throw new SysfenceError("E_USAGE", "nothing to merge.");
  const arches = new Set(profiles.map((p) => p.arch));
  if (arches.size > 1)
    throw new SysfenceError(
      "E_USAGE",
      `cannot merge profiles of different architectures (${[...arches].join(", ")}).`,
    );
  const boundaries = new Set(profiles.map((p) => p.phaseBoundary ?? ""));
  const syscalls: Record<string, SyscallCounts> = dict();
  const paths: Record<string, number> = dict();
  const signals: Record<string, number> = dict();
  const access: Record<string, string> = dict();
  for (const p of profiles) {
    for (const [name, c] of Object.entries(p.syscalls)) {
      syscalls[name] ??= { setup: 0, work: 0, errors: 0 };
      addCounts(syscalls[name], c);
    }
    sumInto(paths, p.paths ?? {});
    for (const [k, letters] of Object.entries(p.pathAccess ?? {}))
      access[k] = k in access ? unionLetters(access[k], letters) : letters;
    sumInto(signals, p.signals ?? {});
  }
  const times = (k: "startedAt" | "endedAt") =>
    profiles
      .map((p) => p[k])
      .filter((t): t is string => !!t)
      .sort();
  const statuses = new Set(profiles.map((p) => p.exitStatus));
  const omitted = profiles.reduce((n, p) => n + (p.pathsOmitted ?? 0), 0);
  const first = profiles[0];
  return {
    format: "sysfence-profile",
    version: 1,
    command: first.command,
    engine: mergedEngine(profiles),
    arch: first.arch,
    startedAt: times("startedAt")[0],
    endedAt: times("endedAt").at(-1),
    complete: profiles.every((p) => p.complete),
    // different boundaries (or none in some) leave no single work phase to speak of
    phaseBoundary: boundaries.size === 1 ? first.phaseBoundary : undefined,
    exitStatus: statuses.size === 1 ? first.exitStatus : undefined,
    syscalls: sortKeys(syscalls),
    processes: profiles.flatMap((p) => p.processes),
    paths: Object.fromEntries(Object.entries(paths).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    ...(omitted ? { pathsOmitted: omitted } : {}),
    pathAccess: sortKeys(access),
    signals,
    mergedFrom: profiles.map((p, i) => ({
      source: sources[i] ?? `#${i + 1}`,
      command: p.command,
      startedAt: p.startedAt,
    })),
  };
}

/** A merge's engine: "merge", with the events every part lost added up (a lossy part keeps the whole lossy). */
function mergedEngine(profiles: readonly Profile[]): Profile["engine"] {
  const lost = profiles.reduce((n, p) => n + (p.engine?.lostEvents ?? 0), 0);
  const names = [...new Set(profiles.map((p) => p.engine?.name).filter(Boolean))].join(", ");
  return {
    name: "merge",
    version: names,
    ...(lost
      ? {
          lostEvents: lost,
          lost: profiles
            .map((p) => p.engine?.lost)
            .filter(Boolean)
            .join("; "),
        }
      : {}),
  };
}
