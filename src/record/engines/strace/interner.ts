// Interning for the strace fast path (scan.ts): texts kept once, by a hash the LineScanner computes while
// it reads a name, so a repeated syscall name or path costs no new string.

/** Buffer's utf8Slice without toString's argument checks. */
export const utf8 = (b: Buffer, s: number, e: number): string =>
  (b as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(s, e);

/** The hash Interner keys a text by (LineScanner computes the same while it reads a syscall's name). */
function hashOf(buf: Buffer, s: number, e: number): number {
  let h = 0;
  for (let q = s; q < e; q++) h = (Math.imul(h, 31) + buf[q]) | 0;
  return h;
}

/** An interned text, with room for what its owner learns about it once (an id, a syscall's facts). */
export interface Interned {
  bytes: Buffer;
  text: string;
  /** The owner's id for it (-1: not given yet). */
  id: number;
  info: unknown;
  /** Kept in the table (false past its limit: the next use of the text gets a new entry). */
  kept: boolean;
}

/**
 * Short repeated texts (syscall names, errnos, argument values, paths), interned by a hash of their bytes:
 * no string is made for one seen before. An open-addressing table of entry numbers (a Map keyed by a
 * 32-bit hash would box it). Past `limit` entries, a new text gets an entry of its own that is not kept.
 */
export class Interner {
  private readonly entries: Interned[] = [];
  private slots = new Int32Array(1 << 12);
  private hashes = new Int32Array(1 << 12);

  constructor(readonly limit = 200000) {}

  get size(): number {
    return this.entries.length;
  }

  /** The entry of buf[s, e). */
  of(buf: Buffer, s: number, e: number): Interned {
    return this.hashed(buf, s, e, hashOf(buf, s, e));
  }

  /** The entry of buf[s, e) when it is kept or there is room to keep it; undefined past the limit. */
  kept(buf: Buffer, s: number, e: number): Interned | undefined {
    return this.hashed(buf, s, e, hashOf(buf, s, e), false);
  }

  /** `of` for a caller that hashed the bytes already (h: the same hash over buf[s, e)). */
  hashed(buf: Buffer, s: number, e: number, h: number): Interned;
  hashed(buf: Buffer, s: number, e: number, h: number, unkept: false): Interned | undefined;
  hashed(buf: Buffer, s: number, e: number, h: number, unkept = true): Interned | undefined {
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = slots.length - 1;
    let i = h & mask;
    for (;;) {
      const n = slots[i];
      if (n === 0) break;
      if (hashes[i] === h) {
        const x = this.entries[n - 1];
        const bytes = x.bytes;
        if (bytes.length === e - s) {
          let q = 0;
          while (q < bytes.length && bytes[q] === buf[s + q]) q++;
          if (q === bytes.length) return x;
        }
      }
      i = (i + 1) & mask;
    }
    const kept = this.entries.length < this.limit;
    if (!kept && !unkept) return undefined;
    const entry: Interned = {
      bytes: Buffer.from(buf.subarray(s, e)),
      text: utf8(buf, s, e),
      id: -1,
      info: undefined,
      kept,
    };
    if (!kept) return entry;
    this.entries.push(entry);
    slots[i] = this.entries.length;
    hashes[i] = h;
    if (this.entries.length * 2 > slots.length) this.grow();
    return entry;
  }

  /** Doubles the table (kept at most half full). */
  private grow(): void {
    const oldSlots = this.slots;
    const oldHashes = this.hashes;
    const slots = new Int32Array(oldSlots.length * 2);
    const hashes = new Int32Array(oldSlots.length * 2);
    const mask = slots.length - 1;
    for (let j = 0; j < oldSlots.length; j++) {
      if (oldSlots[j] === 0) continue;
      let i = oldHashes[j] & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = oldSlots[j];
      hashes[i] = oldHashes[j];
    }
    this.slots = slots;
    this.hashes = hashes;
  }
}
