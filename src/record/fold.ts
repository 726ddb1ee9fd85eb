// Many process images of one program, folded into one profile entry. A shell loop, a test suite or a
// build runs the same few programs thousands of times: past the first KEEP_IMAGES_PER_EXE images of a
// program, each finished image is added into one entry per program (its main threads' calls, and its
// other threads' calls), so a recording of 70,000 short processes writes a few entries instead of
// 70,000 — what a policy needs (calls by program and thread role) is kept whole.

import { dict } from "../util/dict.js";
import { addCounters, type Counter, toCounts } from "./counter.js";
import {
  KEEP_IMAGES_PER_EXE,
  type ProcessProfile,
  type SyscallCounts,
  type ThreadProfile,
} from "./profile.js";

/** One finished image, as the builder hands it over. */
export interface ImageCounts {
  pid: number;
  exe: string;
  parent?: number;
  workStartedAt?: number;
  exitStatus?: number;
  killedBy?: string;
  threads: Iterable<{ tid: number; counts: ReadonlyMap<string, Counter> }>;
}

/** The images of one program past those kept apart. */
class ProgramFold {
  images = 0;
  workStartedAt?: number;
  readonly main = new Map<string, Counter>();
  readonly workers = new Map<string, Counter>();
  readonly endings = new Map<string, number>();
  constructor(
    readonly pid: number,
    readonly exe: string,
    readonly parent: number | undefined,
  ) {}

  add(image: ImageCounts): void {
    this.images++;
    if (image.workStartedAt !== undefined)
      this.workStartedAt = Math.min(this.workStartedAt ?? image.workStartedAt, image.workStartedAt);
    const ending = image.killedBy ?? (image.exitStatus === undefined ? undefined : String(image.exitStatus));
    if (ending !== undefined) this.endings.set(ending, (this.endings.get(ending) ?? 0) + 1);
    for (const t of image.threads) addCounters(t.tid === image.pid ? this.main : this.workers, t.counts);
  }

  copy(): ProgramFold {
    const c = new ProgramFold(this.pid, this.exe, this.parent);
    c.images = this.images;
    c.workStartedAt = this.workStartedAt;
    addCounters(c.main, this.main);
    addCounters(c.workers, this.workers);
    for (const [k, n] of this.endings) c.endings.set(k, n);
    return c;
  }

  /** The profile entry; `order` sorts syscall names. */
  toProfile(order: (a: [string, unknown], b: [string, unknown]) => number): ProcessProfile {
    const role = (tid: number, counts: Map<string, Counter>): ThreadProfile[] => {
      if (counts.size === 0) return [];
      const syscalls: Record<string, SyscallCounts> = dict();
      for (const [n, c] of [...counts].sort(order)) syscalls[n] = toCounts(c);
      return [{ tid, syscalls }];
    };
    return {
      pid: this.pid,
      exe: this.exe,
      parent: this.parent,
      images: this.images,
      workStartedAt: this.workStartedAt,
      threads: [...role(this.pid, this.main), ...role(0, this.workers)],
      ...(this.endings.size ? { endings: Object.fromEntries(this.endings) } : {}),
    };
  }
}

/** Which images are written apart and which are folded, and the folds so far. */
export class ImageFolds {
  private readonly kept = new Map<string, number>();
  private readonly folds = new Map<string, ProgramFold>();
  /** Images folded so far. */
  folded = 0;

  /**
   * Whether an image is written apart: the first KEEP_IMAGES_PER_EXE of each program, and every image
   * with no parent in the recording (the launch, the process `record --pid` attached to).
   */
  keep(image: { exe: string; parent?: number }): boolean {
    if (image.parent === undefined) return true;
    const exe = image.exe;
    const n = this.kept.get(exe) ?? 0;
    if (n >= KEEP_IMAGES_PER_EXE) return false;
    this.kept.set(exe, n + 1);
    return true;
  }

  /** Folds a finished image into its program's entry. */
  fold(image: ImageCounts): void {
    let f = this.folds.get(image.exe);
    if (!f) {
      f = new ProgramFold(image.pid, image.exe, image.parent);
      this.folds.set(image.exe, f);
    }
    f.add(image);
    this.folded++;
  }

  /** A copy to add the images still open to, when a profile is built before the end. */
  copy(): ImageFolds {
    const c = new ImageFolds();
    for (const [k, n] of this.kept) c.kept.set(k, n);
    for (const [k, f] of this.folds) c.folds.set(k, f.copy());
    c.folded = this.folded;
    return c;
  }

  /** One entry per program with folded images. */
  entries(order: (a: [string, unknown], b: [string, unknown]) => number): ProcessProfile[] {
    return [...this.folds.values()].map((f) => f.toProfile(order));
  }
}
