// The calls a strace adapter folds between two events of their own: counts per (thread, syscall, argument
// values), completions per (thread, syscall), path uses per (thread, path) — in one open-addressing table
// of typed arrays, emptied at each flush. No object per tally: a log of many short processes flushes
// every few dozen lines, and allocating per tally cost a sixth of a scanner's time in garbage collection.
import { grown } from "../../events.js";

/** What an entry counts (its `name` column): a syscall's calls, a syscall's completions, or a path's uses. */
export const CALLS = 0;
export const DONE = 1;
export const PATH = 2;

export class Tallies {
  /** Entries in the order they were started (the builder applies them in that order). */
  count = 0;
  kind = new Uint8Array(256);
  tid = new Int32Array(256);
  /** The syscall's name id (CALLS, DONE) or the path's string id (PATH). */
  name = new Int32Array(256);
  v0 = new Int32Array(256);
  v1 = new Int32Array(256);
  v2 = new Int32Array(256);
  calls = new Int32Array(256);
  errors = new Int32Array(256);
  noReturn = new Int32Array(256);
  /** Hash slots: entry index + 1, 0 for empty; the used ones are listed to be cleared at the flush. */
  private slots = new Int32Array(1024);
  private used: number[] = [];

  /** The entry for (kind, tid, name, v0, v1, v2), started when it is new. */
  entry(kind: number, tid: number, name: number, v0: number, v1: number, v2: number): number {
    let h = Math.imul(tid, 0x9e3779b1) ^ Math.imul(name + kind * 0x10000, 0x85ebca6b);
    h = Math.imul(h ^ v0, 0xc2b2ae35) ^ Math.imul(v1, 0x27d4eb2f) ^ Math.imul(v2, 0x165667b1);
    h ^= h >>> 15;
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = h & mask;
    for (;;) {
      const n = slots[i];
      if (n === 0) break;
      const e = n - 1;
      if (
        this.tid[e] === tid &&
        this.name[e] === name &&
        this.kind[e] === kind &&
        this.v0[e] === v0 &&
        this.v1[e] === v1 &&
        this.v2[e] === v2
      )
        return e;
      i = (i + 1) & mask;
    }
    if (this.count === this.tid.length) this.growEntries();
    const e = this.count++;
    this.kind[e] = kind;
    this.tid[e] = tid;
    this.name[e] = name;
    this.v0[e] = v0;
    this.v1[e] = v1;
    this.v2[e] = v2;
    this.calls[e] = 0;
    this.errors[e] = 0;
    this.noReturn[e] = 0;
    slots[i] = e + 1;
    this.used.push(i);
    if (this.count * 2 > slots.length) this.rehash();
    return e;
  }

  /** Empties the table (after its entries were sent). */
  clear(): void {
    const slots = this.slots;
    for (const i of this.used) slots[i] = 0;
    this.used.length = 0;
    this.count = 0;
  }

  private growEntries(): void {
    const size = this.tid.length * 2;
    this.kind = grown(this.kind, size);
    this.tid = grown(this.tid, size);
    this.name = grown(this.name, size);
    this.v0 = grown(this.v0, size);
    this.v1 = grown(this.v1, size);
    this.v2 = grown(this.v2, size);
    this.calls = grown(this.calls, size);
    this.errors = grown(this.errors, size);
    this.noReturn = grown(this.noReturn, size);
  }

  /** A table twice the size, with the current entries placed again. */
  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    this.used.length = 0;
    const n = this.count;
    this.count = 0;
    const copy = (a: Int32Array) => a.slice(0, n);
    const [kind, tid, name, v0, v1, v2, calls, errors, noReturn] = [
      this.kind.slice(0, n),
      copy(this.tid),
      copy(this.name),
      copy(this.v0),
      copy(this.v1),
      copy(this.v2),
      copy(this.calls),
      copy(this.errors),
      copy(this.noReturn),
    ];
    for (let e = 0; e < n; e++) {
      const x = this.entry(kind[e], tid[e], name[e], v0[e], v1[e], v2[e]);
      this.calls[x] = calls[e];
      this.errors[x] = errors[e];
      this.noReturn[x] = noReturn[e];
    }
  }
}
