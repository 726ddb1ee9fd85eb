// What passes between the main thread and a scanner thread (scan-worker.ts), by name.
import type { EventNeeds } from "../../builder.js";
import type { SliceResult } from "./adapter.js";

/** A scanner thread's assignment (its workerData): every `stride`-th slice of `slices`, from `first`. */
export interface ScanJob {
  file: string;
  slices: [number, number][];
  first: number;
  stride: number;
  /** Slices a thread may send before the main thread has taken them (bounds memory). */
  window: number;
  needs: EventNeeds;
}

/** Scanner → main: one slice's result, or the end of the thread's slices. */
export type ScannerMessage = { type: "slice"; result: SliceResult } | { type: "done" };

/** Main → scanner: the main thread took `slices` more results; the scanner may send as many more. */
export interface CreditMessage {
  type: "credit";
  slices: number;
}
