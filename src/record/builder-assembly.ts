// ProfileBuilder's profile assembly: process images that are over are frozen into their final counts
// (or folded into their program's entry past the images written apart), and the profile is put together
// from the frozen images, the ones still open, the totals and the folds.
import { dict } from "../util/dict.js";
import type { Group, Thread } from "./builder-groups.js";
import { addCounters, type Counter, toCounts } from "./counter.js";
import { ImageFolds } from "./fold.js";
import type { ProcessProfile, SyscallCounts, ThreadProfile } from "./profile.js";

/**
 * localeCompare's order with one collator (localeCompare makes one per call: slow for thousands of
 * threads), made on first use: making it costs ~10 ms (ICU's collation data), which on loading this module
 * was on the path of every recording's start; launched.ts has it made while the engine's threads work.
 */
let collator: Intl.Collator["compare"] | undefined;
export function collate(a: string, b: string): number {
  collator ??= new Intl.Collator().compare;
  return collator(a, b);
}

/** The images that are over and what they added up to, and the profile's processes and totals from them. */
export class Assembly {
  /** Images that are over, with counts, in the order they ended. */
  readonly finished: Group[] = [];
  /** Images of one program past those written apart. */
  private readonly folds = new ImageFolds();
  private readonly frozenTotals = new Map<string, Counter>();
  /** Frozen images' calls still unfinished when their image ended, by name. */
  readonly frozenPending = new Map<string, number>();

  /**
   * An image that is over (exec'd away, or every thread exited): its threads' counts become their final
   * form and are added to the totals, its counters are dropped, and its tids are free for new processes
   * (removed from `threads`: a pid the kernel reuses is another process). A recording of thousands of
   * short processes keeps only what it will write.
   */
  freeze(g: Group, threads: Map<number, Thread>): void {
    if (g.frozen) return;
    for (const t of g.threads.values()) {
      if (t.pending)
        this.frozenPending.set(t.pending.name, (this.frozenPending.get(t.pending.name) ?? 0) + 1);
      if (threads.get(t.tid) === t) threads.delete(t.tid);
    }
    const counted = this.settle(g, this.frozenTotals, this.folds);
    g.threads = new Map();
    g.frozen = counted ?? [];
    if (counted?.length) this.finished.push(g);
  }

  /**
   * An image's counted threads into `totals`, and either their final counts (the image is written apart)
   * or, past the images of its program written apart, into its program's entry in `folds` (undefined).
   */
  private settle(g: Group, totals: Map<string, Counter>, folds: ImageFolds): ThreadProfile[] | undefined {
    const counted = [...g.threads.values()].filter((t) => t.counts.size > 0);
    if (counted.length === 0) return [];
    if (folds.keep(g)) return counted.map((t) => this.finalCounts(t, totals));
    for (const t of counted) addCounters(totals, t.counts);
    folds.fold({ ...g, threads: counted });
    return undefined;
  }

  /** A thread's counts in their final form (syscalls in name order), added into `totals`. */
  private finalCounts(t: Thread, totals: Map<string, Counter>): ThreadProfile {
    // (null prototype: a log's syscall names are data, "__proto__" included)
    const syscalls: Record<string, SyscallCounts> = dict();
    for (const [n, c] of [...t.counts].sort(this.byName)) syscalls[n] = toCounts(c);
    addCounters(totals, t.counts);
    return { tid: t.tid, syscalls };
  }

  /**
   * Orders [name, …] pairs by name, as localeCompare would, through ranks kept for the names met so far
   * (a collator call per comparison is slow for tens of thousands of threads).
   */
  readonly byName = (a: [string, unknown], b: [string, unknown]): number => {
    let ra = this.ranks.get(a[0]);
    let rb = this.ranks.get(b[0]);
    if (ra === undefined || rb === undefined) {
      this.rankNames([a[0], b[0]]);
      ra = this.ranks.get(a[0]) ?? 0;
      rb = this.ranks.get(b[0]) ?? 0;
    }
    return ra - rb;
  };
  private readonly ranks = new Map<string, number>();
  private rankNames(more: string[]): void {
    const names = [...new Set([...this.ranks.keys(), ...more])].sort(collate);
    for (let i = 0; i < names.length; i++) this.ranks.set(names[i], i);
  }

  /** Distinct syscalls of the frozen images and of the threads alive. */
  distinct(threads: Iterable<Thread>): number {
    const names = new Set<string>(this.frozenTotals.keys());
    for (const t of threads) for (const n of t.counts.keys()) names.add(n);
    return names.size;
  }

  /** Processes (images) over, folded or not, plus `open` still running. */
  processCount(open: number): number {
    return open + this.finished.length + this.folds.folded;
  }

  /**
   * The profile's processes and syscall totals: the images that are over and those still open (added to
   * copies of the totals and folds of those already frozen), then one entry per program with folded images.
   */
  processes(open: Iterable<Group>): { processes: ProcessProfile[]; syscalls: Record<string, SyscallCounts> } {
    const groups = new Set<Group>(this.finished);
    for (const g of open) groups.add(g);
    const processes: ProcessProfile[] = [];
    const totals = new Map<string, Counter>();
    addCounters(totals, this.frozenTotals);
    const folds = this.folds.copy();
    for (const g of groups) {
      const threads = g.frozen ?? this.settle(g, totals, folds);
      if (!threads?.length) continue;
      processes.push({
        pid: g.pid,
        exe: g.exe,
        parent: g.parent,
        workStartedAt: g.workStartedAt,
        threads,
        exitStatus: g.exitStatus,
        killedBy: g.killedBy,
      });
    }
    processes.push(...folds.entries(this.byName));
    const syscalls = Object.fromEntries([...totals].sort(this.byName).map(([n, c]) => [n, toCounts(c)]));
    return { processes, syscalls };
  }
}
