// Compares two OpStreams entry by entry (every field) and describes the first difference with the bytes
// and iced-x86's reading of the instruction: the judge of our x86_64 decoder (src/analyze/x86/).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { readElf, SHF_EXECINSTR } from "../../src/analyze/elf.js";
import type { OpStream } from "../../src/analyze/ops.js";

const FIELDS = ["addr", "kind", "reg", "reg2", "val", "ref", "wmask"] as const;

/** The first index where the streams differ (NaN equal to NaN), or -1. */
export function firstDifference(a: OpStream, b: OpStream): { index: number; field: string } | undefined {
  const n = Math.min(a.n, b.n);
  for (let i = 0; i < n; i++)
    for (const f of FIELDS)
      if (!Object.is(a[f][i], b[f][i])) return { index: f === "addr" ? i - 1 : i, field: f };
  if (a.n !== b.n) return { index: n, field: "n" };
  return undefined;
}

/**
 * How far apart two streams of the same code are: entries at an address only one has, and entries at a common
 * address that differ in a field; 0 and 0 when the streams are the same.
 */
export function divergence(a: OpStream, b: OpStream): { unaligned: number; differing: number } {
  let i = 0;
  let j = 0;
  let unaligned = 0;
  let differing = 0;
  while (i < a.n || j < b.n) {
    if (j >= b.n || (i < a.n && a.addr[i] < b.addr[j])) {
      unaligned++;
      i++;
    } else if (i >= a.n || b.addr[j] < a.addr[i]) {
      unaligned++;
      j++;
    } else {
      if (FIELDS.some((f) => !Object.is(a[f][i], b[f][j]))) differing++;
      i++;
      j++;
    }
  }
  return { unaligned, differing };
}

/** The executable sections the analysis decodes (object-context.ts: SHF_EXECINSTR, not NOBITS). */
export function execSections(path: string): { name: string; code: Uint8Array; addr: number }[] {
  const bytes = readFileSync(path);
  const elf = readElf(bytes, path);
  return elf.sections
    .filter((s) => s.flags & SHF_EXECINSTR && s.size > 0 && s.type !== 8)
    .map((s) => ({ name: s.name, addr: s.addr, code: bytes.subarray(s.offset, s.offset + s.size) }));
}

type Iced = typeof import("iced-x86");
const iced = createRequire(import.meta.url)("iced-x86") as Iced;

/** "addr: bytes  iced's text" of the instruction at stream index i (and the one after). */
export function describe(code: Uint8Array, base: number, a: OpStream, b: OpStream, i: number): string {
  const row = (s: OpStream) =>
    FIELDS.map(
      (f) => `${f}=${f === "addr" || f === "val" || f === "ref" ? s[f][i]?.toString(16) : s[f][i]}`,
    ).join(" ");
  const at = (a.addr[i] ?? b.addr[i]) - base;
  const bytes = code.subarray(at, at + 16);
  const dec = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  dec.ip = BigInt(base + at);
  const ins = dec.decode();
  const text = `${ins.toString()} (len ${ins.length})`;
  ins.free();
  dec.free();
  const hex = Buffer.from(bytes).toString("hex");
  return `${(base + at).toString(16)}: ${hex}  ${text}\n  ours: ${row(a)}\n  iced: ${row(b)}`;
}
