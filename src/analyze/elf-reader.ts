// Bounds-checked reads of an ELF file's bytes (every failure one E_ELF_INVALID naming the file), and the
// small tables elf.ts reads through them: address → offset, .eh_frame_hdr's function starts, the build-id note.
import { SysfenceError } from "../errors.js";
import { PT_LOAD, type Segment } from "./elf-format.js";

/** Reads little-endian fields of one file's bytes; any read past the end fails naming the file. */
export class Reader {
  constructor(
    readonly buf: Buffer,
    readonly file: string,
  ) {}
  fail(what: string): never {
    throw new SysfenceError("E_ELF_INVALID", `${this.file}: not a valid ELF file (${what}).`);
  }
  check(off: number, len: number, what: string): void {
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > this.buf.length)
      this.fail(`${what} at offset ${off} runs past the end of the file (${this.buf.length} bytes)`);
  }
  u8(off: number): number {
    this.check(off, 1, "a field");
    return this.buf[off];
  }
  u16(off: number): number {
    this.check(off, 2, "a field");
    return this.buf.readUInt16LE(off);
  }
  u32(off: number): number {
    this.check(off, 4, "a field");
    return this.buf.readUInt32LE(off);
  }
  i32(off: number): number {
    this.check(off, 4, "a field");
    return this.buf.readInt32LE(off);
  }
  u64(off: number): number {
    this.check(off, 8, "a field");
    const v = this.buf.readBigUInt64LE(off);
    // addresses and sizes above 2^53 are not in any real program; they make the file malformed here
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`a 64-bit field at offset ${off} is out of range`);
    return Number(v);
  }
  i64(off: number): number {
    this.check(off, 8, "a field");
    return Number(this.buf.readBigInt64LE(off));
  }
  cstr(off: number, limit = 4096): string {
    this.check(off, 1, "a string");
    const end = this.buf.indexOf(0, off);
    if (end < 0 || end - off > limit) this.fail(`an unterminated string at offset ${off}`);
    return this.buf.toString("latin1", off, end);
  }
}

/** Virtual address → file offset, through the loadable segments; undefined when not in the file. */
export function vaddrToOffset(segments: Segment[], addr: number, len: number): number | undefined {
  for (const p of segments)
    if (p.type === PT_LOAD && addr >= p.vaddr && addr + len <= p.vaddr + p.filesz)
      return p.offset + (addr - p.vaddr);
  return undefined;
}

/** .eh_frame_hdr (LSB "Exception Frame Header"): version 1, then a sorted table of (initial location, FDE). */
export function readEhFrameHdr(r: Reader, off: number, vaddr: number, size: number, out: number[]): void {
  if (size < 12 || r.u8(off) !== 1) return;
  const tableEnc = r.u8(off + 3);
  const fdeCountEnc = r.u8(off + 2);
  // eh_frame_ptr (encoded by byte 1), then fde_count, then the table; only the usual encodings
  const sizeOf = (enc: number) => ({ 3: 4, 11: 4, 27: 4, 59: 4, 4: 8, 12: 8 })[enc & 0x7f] ?? 0;
  const ptrSize = sizeOf(r.u8(off + 1));
  if (!ptrSize || fdeCountEnc !== 0x03 || tableEnc !== 0x3b) return; // udata4 count, datarel|sdata4 table
  const countAt = off + 4 + ptrSize;
  const count = r.u32(countAt);
  const table = countAt + 4;
  if (count * 8 > size) r.fail(".eh_frame_hdr lists more entries than it holds");
  for (let i = 0; i < count; i++) out.push(vaddr + r.i32(table + 8 * i));
}

/** The GNU build-id in a note segment (NT_GNU_BUILD_ID, owner "GNU"), or undefined. */
export function gnuBuildId(r: Reader, off: number, size: number): string | undefined {
  r.check(off, size, "a note segment");
  for (let n = off; n + 12 <= off + size; ) {
    const namesz = r.u32(n);
    const descsz = r.u32(n + 4);
    const descAt = n + 12 + ((namesz + 3) & ~3);
    r.check(descAt, descsz, "a note");
    if (r.u32(n + 8) === 3 && namesz === 4 && r.buf.toString("latin1", n + 12, n + 15) === "GNU")
      return r.buf.toString("hex", descAt, descAt + descsz);
    n = descAt + ((descsz + 3) & ~3);
  }
  return undefined;
}
