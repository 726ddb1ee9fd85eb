// Reading a large strace log with every core: scanner threads cut the file into slices and turn each into
// decoded events (scan-worker.ts); this thread takes them in file order and feeds the ProfileBuilder, whose
// state (threads, processes, phases, pending calls) needs one ordered pass.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { EventNeeds } from "../../builder.js";
import type { SliceResult } from "./adapter.js";
import type { ScanJob, ScannerMessage, ScanOrder } from "./scan-protocol.js";

const SLICE = 4 << 20;
/** The scanner's own file (bundled into dist/record.bundle.mjs, this module's URL is the bundle's). */
const SCAN_WORKER = new URL(
  import.meta.url.endsWith(".bundle.mjs") ? "./src/record/engines/strace/scan-worker.js" : "./scan-worker.js",
  import.meta.url,
);
/** A scanner thread's heap: small keeps the process's memory flat; a log that needs more is rescanned in one thread. */
export const SCANNER_HEAP_MB = 48;

/** Thrown when a scanner thread outgrew SCANNER_HEAP_MB (many distinct values or strings in a slice). */
export class ScannerOutOfMemory extends Error {
  constructor(cause: unknown) {
    super(`a scanner thread needed more than its ${SCANNER_HEAP_MB} MB heap`, { cause });
  }
}

/**
 * Scans the file with `threads` scanner threads and calls take(result, strings) for every slice in file
 * order (strings: the table of the thread that scanned it); take returns false to stop.
 */
export async function scanFileParallel(
  file: string,
  size: number,
  needs: EventNeeds,
  take: (r: SliceResult, strings: readonly string[]) => boolean,
  threads = Math.max(1, Math.min(4, availableParallelism())),
  sliceBytes = SLICE,
): Promise<void> {
  const slices: [number, number][] = [];
  for (let a = 0; a < size; a += sliceBytes) slices.push([a, Math.min(size, a + sliceBytes)]);
  const workers: Worker[] = [];
  const strings: string[][] = [];
  const ready = new Map<number, { result: SliceResult; worker: number }>();
  let expected = 0;
  let handedOut = 0;
  let stopped = false;
  await new Promise<void>((resolve, reject) => {
    // slices are handed out as threads finish them (a thread that started late or runs on a busy core
    // takes fewer), at most WINDOW ahead per thread: the results waiting for their turn stay few
    const outstanding: number[] = [];
    const handOut = (w: number) => {
      while (
        outstanding[w] < WINDOW &&
        handedOut < slices.length &&
        handedOut - expected < workers.length * (WINDOW + 1) &&
        !stopped
      ) {
        const [from, to] = slices[handedOut];
        const order: ScanOrder = { type: "scan", slice: handedOut++, from, to };
        workers[w].postMessage(order);
        outstanding[w]++;
      }
    };
    const finish = () => {
      // asked to stop, not terminated: terminating a thread while V8 compiles its code on another thread
      // aborts the whole process (an assertion in Node's platform code, seen here on Node 20)
      const stop: ScanOrder = { type: "stop" };
      for (const w of workers) w.postMessage(stop);
      resolve();
    };
    const drain = () => {
      for (;;) {
        const got = ready.get(expected);
        if (!got) break;
        ready.delete(expected);
        if (!stopped) stopped = !take(got.result, strings[got.worker]);
        expected++;
      }
      if (expected >= slices.length || stopped) finish();
    };
    for (let w = 0; w < threads; w++) {
      const job: ScanJob = { file, needs };
      const worker = new Worker(SCAN_WORKER, {
        workerData: job,
        // a scanner keeps little: small heaps keep the process's memory flat
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: SCANNER_HEAP_MB },
      });
      strings.push([]);
      worker.on("message", (m: ScannerMessage) => {
        if (stopped || expected >= slices.length) return;
        // a thread's new strings arrive in the order it made them: its table is complete up to this slice
        for (const s of m.result.strings) strings[w].push(s);
        ready.set(m.result.slice, { result: m.result, worker: w });
        outstanding[w]--;
        drain();
        for (let x = 0; x < workers.length; x++) handOut(x);
      });
      worker.on("error", (e: NodeJS.ErrnoException) => {
        for (const x of workers) void x.terminate();
        reject(e.code === "ERR_WORKER_OUT_OF_MEMORY" ? new ScannerOutOfMemory(e) : e);
      });
      workers.push(worker);
      outstanding.push(0);
      handOut(w);
    }
    if (slices.length === 0) finish();
  });
}

/** Slices a thread is given ahead of the results the main thread has taken from it. */
const WINDOW = 2;
