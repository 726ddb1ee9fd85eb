// Reading a large strace log with every core: scanner threads cut the file into slices and scan them
// (scan-worker.ts); this thread takes their records in file order and feeds the ProfileBuilder, whose
// state (threads, processes, phases, pending calls) needs one ordered pass.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { ProfileBuilder } from "../../builder.js";
import type { TraceEvent } from "./parse.js";
import { decodeRet, K, type ScanBatch, type ScanJob, STRIDE } from "./scan-protocol.js";

const SLICE = 4 << 20;
/** A scanner thread's heap: small keeps the process's memory flat; a log that needs more is rescanned in one thread. */
export const SCANNER_HEAP_MB = 48;

/** Thrown when a scanner thread outgrew SCANNER_HEAP_MB (many distinct paths or strings in a slice). */
export class ScannerOutOfMemory extends Error {
  constructor(cause: unknown) {
    super(`a scanner thread needed more than its ${SCANNER_HEAP_MB} MB heap`, { cause });
  }
}

/**
 * Calls onLine for every line of the file, in order, with the event (or null/undefined as parseLine would),
 * except for the ordinary call lines the scanners fold into tallies: those go to builder.addTally, and
 * onLine(undefined, "", n) says how many lines were folded.
 */
export async function scanFileParallel(
  file: string,
  size: number,
  builder: ProfileBuilder,
  onLine: Sink,
  threads = Math.max(1, Math.min(4, availableParallelism())),
  sliceBytes = SLICE,
): Promise<void> {
  const slices: [number, number][] = [];
  for (let a = 0; a < size; a += sliceBytes) slices.push([a, Math.min(size, a + sliceBytes)]);
  const textNames = builder.textNames();
  const specialNames = builder.specialNames();
  const workers: Worker[] = [];
  const names: string[][] = [];
  const pending = new Map<number, { batch: ScanBatch; worker: number }>();
  let expected = 0;
  let stopped = false;
  await new Promise<void>((resolve, reject) => {
    const drain = () => {
      for (;;) {
        const got = pending.get(expected);
        if (!got) break;
        pending.delete(expected);
        if (!stopped) stopped = !consume(got.batch, names[got.worker], builder, onLine);
        workers[got.worker].postMessage({ credit: 1 });
        expected++;
      }
      if (expected >= slices.length || stopped) {
        for (const w of workers) void w.terminate();
        resolve();
      }
    };
    for (let w = 0; w < threads; w++) {
      const job: ScanJob = {
        file,
        slices,
        first: w,
        stride: threads,
        window: 2,
        textNames,
        ...builder.timeNeeds(),
        tally: specialNames !== null,
        specialNames: specialNames ?? [],
      };
      const worker = new Worker(new URL("./scan-worker.js", import.meta.url), {
        workerData: job,
        // a scanner keeps little: small heaps keep the process's memory flat
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: SCANNER_HEAP_MB },
      });
      names.push([]);
      worker.on("message", (m: ScanBatch | { done: true }) => {
        if ("done" in m) return;
        names[w].push(...m.names);
        pending.set(m.slice, { batch: m, worker: w });
        drain();
      });
      worker.on("error", (e: NodeJS.ErrnoException) => {
        for (const x of workers) void x.terminate();
        reject(e.code === "ERR_WORKER_OUT_OF_MEMORY" ? new ScannerOutOfMemory(e) : e);
      });
      workers.push(worker);
    }
    if (slices.length === 0) resolve();
  });
}

/** Takes each line's event (undefined: nothing; null: not strace output), or a count of folded lines; false stops. */
export type Sink = (e: TraceEvent | undefined | null, badText: string, folded?: number) => boolean;

/** Feeds one batch's records; false when onLine asks to stop. */
function consume(b: ScanBatch, names: string[], builder: ProfileBuilder, onLine: Sink): boolean {
  const n = b.times.length;
  const ints = b.ints;
  let x = 0; // next payload
  for (let i = 0; i < n; i++) {
    const o = STRIDE * i;
    const kind = ints[o];
    const payload = x < b.extraAt.length && b.extraAt[x] === i ? b.extraVal[x++] : undefined;
    if (kind === K.tally) {
      const path = ints[o + 8];
      const argRaw = argValues(ints, o, names);
      builder.addTally(
        ints[o + 1],
        names[ints[o + 2]],
        ints[o + 3],
        ints[o + 4],
        ints[o + 9],
        argRaw,
        path < 0 ? undefined : names[path],
      );
      if (!onLine(undefined, "", ints[o + 10])) return false;
      continue;
    }
    if (kind === K.pending) {
      builder.setPending(ints[o + 1], names[ints[o + 2]]);
      continue;
    }
    let e: TraceEvent | undefined | null;
    if (kind === K.none) e = undefined;
    else if (kind === K.bad) e = null;
    else if (kind === K.other) e = payload as TraceEvent;
    else {
      const t = b.times[i];
      const errnoId = ints[o + 4];
      const pid = ints[o + 1];
      const time = Number.isNaN(t) ? undefined : t;
      const name = names[ints[o + 2]];
      const argText = (payload as string | undefined) ?? "";
      const ret = decodeRet(ints[o + 3]);
      const errno = errnoId >= 0 ? names[errnoId] : undefined;
      if (kind === K.resume) e = { kind: "resume", pid, time, name, argText, ret, errno };
      else {
        const argRaw = argValues(ints, o, names);
        e = { kind: "call", pid, time, name, argText, ret, errno, unfinished: kind === K.unfinished, argRaw };
      }
    }
    if (!onLine(e, kind === K.bad ? String(payload ?? "") : "")) return false;
  }
  return true;
}

/** The argument values of the record at o (ints o+5..o+7: name ids, -1 for none); undefined when none. */
function argValues(ints: Int32Array, o: number, names: string[]): (string | undefined)[] | undefined {
  const v0 = ints[o + 5];
  const v1 = ints[o + 6];
  const v2 = ints[o + 7];
  if (v0 < 0 && v1 < 0 && v2 < 0) return undefined;
  return [v0 < 0 ? undefined : names[v0], v1 < 0 ? undefined : names[v1], v2 < 0 ? undefined : names[v2]];
}
