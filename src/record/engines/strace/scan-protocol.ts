// What passes between the main thread and a scanner thread (scan-worker.ts), by name.
import type { EventNeeds } from "../../builder.js";
import type { SliceResult } from "./adapter.js";

/** A scanner thread's start (its workerData): the log and what the builder needs of its events. */
export interface ScanJob {
  file: string;
  needs: EventNeeds;
}

/** Main → scanner: scan slice `slice`, the lines that start in [from, to) of the file; or stop. */
export type ScanOrder = { type: "scan"; slice: number; from: number; to: number } | { type: "stop" };

/** Scanner → main: one slice's result. */
export interface ScannerMessage {
  type: "slice";
  result: SliceResult;
}
