// Worker threads that build objects' facts (facts-worker.ts) while the main thread finds the libraries and
// then builds facts itself: started as work arrives (none for a cached analysis), up to a limit. A worker
// takes the largest object waiting when it is free (the largest library is most of an uncached analysis),
// the main thread the smallest (it hands out work between two objects, so short ones keep that prompt). A
// worker that dies is an error for its object and every one still waiting, never a wait without end.
import { existsSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { SysfenceError } from "../errors.js";
import type { ObjectFacts } from "./facts.js";
import { type FactsOrder, type FactsReply, rethrown } from "./facts-protocol.js";

/** The worker's own file (were this module bundled, its URL would be the bundle's under dist/). */
const FACTS_WORKER = new URL(
  import.meta.url.endsWith(".bundle.mjs") ? "./src/analyze/facts-worker.js" : "./facts-worker.js",
  import.meta.url,
);

/** The most worker threads an analysis starts by default (more only contend for memory bandwidth). */
export const MAX_WORKERS = 7;

/**
 * The default worker count: the processors no one else is using (by the last minute's load average) less
 * the main thread, which works too; at most MAX_WORKERS. On a busy machine that is none: a second thread
 * would only add its start and its own compilation of the code to CPUs already full.
 */
export function defaultWorkers(): number {
  const cpus = availableParallelism();
  const idle = Math.round(cpus - loadavg()[0]);
  return Math.max(0, Math.min(MAX_WORKERS, cpus - 1, idle - 1));
}

/** Whether worker threads can be started: the worker's file is there (an odd bundling could leave it out). */
export const workersAvailable = () => existsSync(fileURLToPath(FACTS_WORKER));

/** An object's facts as built: in this thread, or in a worker as the cache entry's body. */
export type Built = { facts: ObjectFacts } | { body: Buffer };

/** One object to build the facts of. */
export interface FactsTask {
  id: number;
  bytes: Uint8Array;
  shown: string;
  resolve: (built: Built) => void;
  reject: (e: unknown) => void;
}
type Task = FactsTask;

/**
 * The process's Node options for a worker, less --input-type: `node --input-type=module -e …` (a script
 * given as text) would otherwise stop every worker before it starts (a worker's entry is a file).
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--input-type") i++;
    else if (!argv[i].startsWith("--input-type=")) out.push(argv[i]);
  }
  return out;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task?: Task;
}

export class FactsPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Task[] = [];
  private readonly byId = new Map<number, Task>();
  private nextId = 0;
  private failure?: Error;
  private closed = false;

  /** `entry`: the worker's file (a test gives one that dies). */
  constructor(
    private readonly max: number,
    private readonly entry: URL = FACTS_WORKER,
  ) {}

  /** The facts of the object whose bytes these are (handed over to a worker, not copied). */
  build(bytes: Buffer, shown: string): Promise<Built> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const task = { id: this.nextId++, bytes, shown, resolve, reject };
      this.byId.set(task.id, task);
      this.waiting.push(task);
      this.pump();
    });
  }

  /** Stops the workers: asked to, as they finish (terminating one while V8 compiles can abort the process). */
  close(): void {
    this.closed = true;
    for (const s of this.slots) s.worker.postMessage({ type: "stop" } satisfies FactsOrder);
  }

  /** The smallest object waiting, for this thread to build (taken off the list), or undefined. */
  takeHere(): FactsTask | undefined {
    if (!this.waiting.length) return undefined;
    let k = 0;
    for (let i = 1; i < this.waiting.length; i++)
      if (this.waiting[i].bytes.length < this.waiting[k].bytes.length) k = i;
    const task = this.waiting.splice(k, 1)[0];
    this.byId.delete(task.id);
    return task;
  }

  private pump(): void {
    for (const s of this.slots) if (s.ready && !s.task && this.waiting.length) this.give(s, this.largest());
    const starting = this.slots.filter((s) => !s.ready).length;
    if (this.waiting.length > starting && this.slots.length < this.max) this.start();
  }

  /** The waiting task with the most bytes, taken off the list. */
  private largest(): Task {
    let k = 0;
    for (let i = 1; i < this.waiting.length; i++)
      if (this.waiting[i].bytes.length > this.waiting[k].bytes.length) k = i;
    return this.waiting.splice(k, 1)[0];
  }

  private give(s: Slot, task: Task): void {
    s.task = task;
    const { bytes } = task;
    // a buffer of its own is handed over; one sharing memory with others is copied first
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const ab = whole && bytes.buffer instanceof ArrayBuffer ? bytes.buffer : new Uint8Array(bytes).buffer;
    const order: FactsOrder = { type: "read", id: task.id, bytes: ab, shown: task.shown };
    s.worker.postMessage(order, [ab]);
  }

  private start(): void {
    const worker = new Worker(this.entry, { execArgv: workerExecArgv() });
    const s: Slot = { worker, ready: false };
    this.slots.push(s);
    worker.on("message", (m: FactsReply) => {
      if (m.type === "ready") s.ready = true;
      else {
        const task = this.byId.get(m.id);
        this.byId.delete(m.id);
        s.task = undefined;
        if (m.type === "done") task?.resolve({ body: Buffer.from(m.body) });
        else task?.reject(rethrown(m.error));
      }
      if (!this.closed) this.pump();
    });
    worker.on("error", (e) => this.fail(s, e));
    worker.on("exit", (code) => {
      if (!this.closed || s.task) this.fail(s, undefined, code);
    });
  }

  /** A worker died: its object, and every one waiting, fail with the reason; the other workers finish theirs. */
  private fail(s: Slot, e: Error | undefined, code?: number): void {
    const at = this.slots.indexOf(s);
    if (at < 0) return; // its "error" came first, then its "exit"
    this.slots.splice(at, 1);
    const what = s.task ? `while reading ${s.task.shown}` : "before it was given an object";
    this.failure ??= new SysfenceError(
      "E_ANALYZE",
      `an analysis worker thread stopped ${what} (${e ? e.message : `exit code ${code}`}); run with --workers 0 to analyse in one thread.`,
      { cause: e },
    );
    const failed = [...(s.task ? [s.task] : []), ...this.waiting.splice(0)];
    s.task = undefined;
    for (const t of failed) {
      this.byId.delete(t.id);
      t.reject(this.failure);
    }
  }
}
