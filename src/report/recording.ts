// What a recording holds, for its summary page: calls by phase (setup before the work phase began, work
// after), by program (every process of one executable together), and when things happened (the recording's
// start and end, each process's start of work, the recordings a merged profile was made of).
import type { Profile } from "../record/profile.js";

export interface RecordingSummary {
  setup: number;
  work: number;
  /** The most frequent calls, with their split by phase. */
  byCall: { name: string; setup: number; work: number }[];
  /** Per executable: processes (images counted), threads, and calls by phase. */
  byProgram: { exe: string; processes: number; threads: number; setup: number; work: number }[];
  /** Seconds since the epoch; present when the profile has the times. */
  timeline?: {
    start: number;
    end: number;
    /** Each program's first start of work. */
    work: { exe: string; at: number }[];
    /** A merged profile's recordings. */
    recordings: { source: string; at: number }[];
  };
}

const seconds = (iso: string | undefined) => {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(t) ? t / 1000 : undefined;
};

/** The summary of a profile's calls. */
export function summarizeRecording(profile: Profile, topN = 20): RecordingSummary {
  const entries = Object.entries(profile.syscalls);
  const byCall = entries
    .map(([name, c]) => ({ name, setup: c.setup, work: c.work }))
    .sort((a, b) => b.setup + b.work - (a.setup + a.work) || a.name.localeCompare(b.name))
    .slice(0, topN);
  const programs = new Map<string, RecordingSummary["byProgram"][number]>();
  const workAt = new Map<string, number>();
  for (const p of profile.processes) {
    const e = programs.get(p.exe) ?? { exe: p.exe, processes: 0, threads: 0, setup: 0, work: 0 };
    e.processes += p.images ?? 1;
    e.threads += p.threads.length;
    for (const t of p.threads)
      for (const c of Object.values(t.syscalls)) {
        e.setup += c.setup;
        e.work += c.work;
      }
    programs.set(p.exe, e);
    if (p.workStartedAt !== undefined)
      workAt.set(p.exe, Math.min(workAt.get(p.exe) ?? Number.POSITIVE_INFINITY, p.workStartedAt));
  }
  const summary: RecordingSummary = {
    setup: entries.reduce((a, [, c]) => a + c.setup, 0),
    work: entries.reduce((a, [, c]) => a + c.work, 0),
    byCall,
    byProgram: [...programs.values()].sort((a, b) => b.setup + b.work - (a.setup + a.work)),
  };
  const recordings = (profile.mergedFrom ?? [])
    .map((m) => ({ source: m.source, at: seconds(m.startedAt) }))
    .filter((m): m is { source: string; at: number } => m.at !== undefined);
  const times = [
    seconds(profile.startedAt),
    seconds(profile.endedAt),
    ...workAt.values(),
    ...recordings.map((m) => m.at),
  ].filter((t): t is number => t !== undefined);
  if (times.length >= 2) {
    summary.timeline = {
      start: Math.min(...times),
      end: Math.max(...times),
      work: [...workAt].map(([exe, at]) => ({ exe, at })).sort((a, b) => a.at - b.at),
      recordings: recordings.sort((a, b) => a.at - b.at),
    };
  }
  return summary;
}
