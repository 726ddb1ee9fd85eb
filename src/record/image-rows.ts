// Counts an engine aggregated by process image (bpf counts in the kernel; learn's supervisor), written as
// ordinary rows of the decoded event model (events.ts): a process row for the image, a thread row as each
// of its threads is first met, a tally per count (its phase as the engine decided it), and an exit row
// per thread when the image is over.
import { Ev, type EventBatch, type StringTable, TallyPhase } from "./events.js";

/** A process image and what ended it. */
export interface CountedImage {
  pid: number;
  exe: string;
  parent?: number;
  /** Its exit status, when it exited. */
  exitStatus?: number;
  /** The signal that killed it. */
  killedBy?: string;
}

/** n calls (errors of them failed) of syscall `name` by thread tid, with values v0..v2 (INTERESTING_ARGS order). */
export interface ImageCount {
  tid: number;
  name: string;
  values: readonly (string | undefined)[];
  n: number;
  errors: number;
  /** Made in the work phase (false: setup; undefined: the builder's own phase). */
  work?: boolean;
}

/** Appends one image and its counts, in order, to `out` (string ids from `strings`). */
export function pushImage(
  out: EventBatch,
  strings: StringTable,
  image: CountedImage,
  counts: Iterable<ImageCount>,
): void {
  const p = out.push(Ev.process, image.pid, -1);
  out.columns.text[p] = strings.id(image.exe);
  out.columns.aux[p] = image.parent ?? -1;
  const threads = new Set<number>();
  for (const count of counts) {
    if (!threads.has(count.tid)) {
      threads.add(count.tid);
      const t = out.push(Ev.thread, count.tid, -1);
      out.columns.n[t] = image.pid;
    }
    const i = out.push(Ev.tally, count.tid, strings.id(count.name));
    const c = out.columns;
    c.n[i] = count.n;
    c.errors[i] = count.errors;
    c.phase[i] =
      count.work === undefined ? TallyPhase.process : count.work ? TallyPhase.work : TallyPhase.setup;
    const [v0, v1, v2] = count.values;
    if (v0 !== undefined) c.v0[i] = strings.id(v0);
    if (v1 !== undefined) c.v1[i] = strings.id(v1);
    if (v2 !== undefined) c.v2[i] = strings.id(v2);
  }
  for (const tid of threads) {
    const i = out.push(Ev.exit, tid, -1);
    out.columns.n[i] = image.exitStatus ?? -1;
    if (image.killedBy !== undefined) out.columns.text[i] = strings.id(image.killedBy);
  }
}
