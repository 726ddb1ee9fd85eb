// The messages between analyze's main thread (facts-pool.ts) and its worker threads (facts-worker.ts): an
// object's bytes in, its facts out as an analysis cache entry's body (facts-codec.ts) — both as transferred
// ArrayBuffers, never copied — or the error building them threw, said again in the main thread.
import { type ErrorCode, SysfenceError } from "../errors.js";

/** Main thread → worker: build one object's facts (`shown` names it in errors), or stop. */
export type FactsOrder = { type: "read"; id: number; bytes: ArrayBuffer; shown: string } | { type: "stop" };

/** An error as it crosses threads: SysfenceError's code and message, or another error's name and message. */
export interface ThrownError {
  code?: ErrorCode;
  name: string;
  message: string;
  stack?: string;
}

/** Worker → main thread: started (its modules loaded), an object's facts, or the error they threw. */
export type FactsReply =
  | { type: "ready" }
  | { type: "done"; id: number; body: ArrayBuffer }
  | { type: "failed"; id: number; error: ThrownError };

export function thrownError(e: unknown): ThrownError {
  if (e instanceof SysfenceError) return { code: e.code, name: e.name, message: e.message, stack: e.stack };
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: "Error", message: String(e) };
}

/** The error a worker threw, as the same error (class, code, message) building the facts here would have. */
export function rethrown(t: ThrownError): Error {
  const e = t.code ? new SysfenceError(t.code, t.message) : new Error(t.message);
  if (!t.code) e.name = t.name;
  if (t.stack) e.stack = t.stack;
  return e;
}
