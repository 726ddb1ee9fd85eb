// A reader of 64-bit little-endian ELF files (x86_64, aarch64): headers, sections, segments, dynamic
// symbols, relocations, the dynamic section, the interpreter, the build-id and .eh_frame_hdr's table of
// function starts. Pure: it takes bytes. Every offset is checked; a malformed or truncated file is one
// SysfenceError naming the file and what is wrong — never an exception from a Buffer read.
import { closeSync, openSync, readSync } from "node:fs";
import { SysfenceError } from "../errors.js";

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const SHF_EXECINSTR = 0x4;
const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_DYNSYM = 11;
const SHT_NOBITS = 8;
const SHT_RELR = 19;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_NOTE = 4;
const PT_GNU_EH_FRAME = 0x6474e550;
export const STT_FUNC = 2;
export const STT_GNU_IFUNC = 10;
const SHN_UNDEF = 0;

export interface Section {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  entsize: number;
  link: number;
}

export interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  type: number;
  bind: number;
  defined: boolean;
}

export interface Relocation {
  offset: number;
  type: number;
  symbol?: ElfSymbol;
  addend: number;
}

export interface DynamicInfo {
  needed: string[];
  soname?: string;
  runpath: string[];
  rpath: string[];
  init?: number;
  fini?: number;
  initArray?: [number, number];
  finiArray?: [number, number];
}

export interface ElfFile {
  file: string;
  bytes: Uint8Array;
  type: number;
  machine: number;
  entry: number;
  sections: Section[];
  segments: Segment[];
  dynsym: ElfSymbol[];
  symtab: ElfSymbol[];
  relocations: Relocation[];
  dynamic: DynamicInfo;
  interp?: string;
  buildId?: string;
  /** Function starts from .eh_frame_hdr's binary-search table (sorted). */
  frameStarts: number[];
  /** Go's .gopclntab is present (its call sites carry no syscall constant). */
  go: boolean;
}

class Reader {
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

/** Parses an ELF file's bytes; `file` names it in errors. */
export function readElf(bytes: Uint8Array, file: string): ElfFile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, file);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) r.fail("no ELF magic");
  if (buf[4] !== 2) r.fail("only 64-bit ELF files are read (EI_CLASS is not ELFCLASS64)");
  if (buf[5] !== 1) r.fail("only little-endian ELF files are read");
  const type = r.u16(16);
  const machine = r.u16(18);
  const entry = r.u64(24);
  const phoff = r.u64(32);
  const shoff = r.u64(40);
  const phentsize = r.u16(54);
  const phnum = r.u16(56);
  const shentsize = r.u16(58);
  const shnum = r.u16(60);
  const shstrndx = r.u16(62);
  if (phnum && phentsize < 56) r.fail("program header entries are too small");
  if (shnum && shentsize < 64) r.fail("section header entries are too small");
  r.check(phoff, phnum * phentsize, "the program headers");
  r.check(shoff, shnum * shentsize, "the section headers");
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    segments.push({
      type: r.u32(o),
      flags: r.u32(o + 4),
      offset: r.u64(o + 8),
      vaddr: r.u64(o + 16),
      filesz: r.u64(o + 32),
      memsz: r.u64(o + 40),
    });
  }
  const raw: Omit<Section, "name">[] = [];
  const nameOffsets: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    nameOffsets.push(r.u32(o));
    raw.push({
      type: r.u32(o + 4),
      flags: r.u64(o + 8),
      addr: r.u64(o + 16),
      offset: r.u64(o + 24),
      size: r.u64(o + 32),
      link: r.u32(o + 40),
      entsize: r.u64(o + 56),
    });
  }
  for (const s of raw) if (s.type !== SHT_NOBITS) r.check(s.offset, s.size, "a section");
  const strSection = shstrndx < raw.length ? raw[shstrndx] : undefined;
  const sections: Section[] = raw.map((s, i) => ({
    ...s,
    name: strSection ? r.cstr(strSection.offset + nameOffsets[i]) : "",
  }));

  const readSymbols = (sec: Section | undefined): ElfSymbol[] => {
    if (!sec || sec.entsize < 24) return [];
    const strs = sections[sec.link];
    if (!strs) r.fail(`symbol table ${sec.name} links to a missing string table`);
    const out: ElfSymbol[] = [];
    const n = Math.floor(sec.size / sec.entsize);
    for (let i = 0; i < n; i++) {
      const o = sec.offset + i * sec.entsize;
      const info = r.u8(o + 4);
      const shndx = r.u16(o + 6);
      out.push({
        name: r.cstr(strs.offset + r.u32(o)),
        type: info & 0xf,
        bind: info >> 4,
        defined: shndx !== SHN_UNDEF,
        value: r.u64(o + 8),
        size: r.u64(o + 16),
      });
    }
    return out;
  };
  const dynsymSec = sections.find((s) => s.type === SHT_DYNSYM);
  const dynsym = readSymbols(dynsymSec);
  const symtab = readSymbols(sections.find((s) => s.type === SHT_SYMTAB));

  const relocations: Relocation[] = [];
  for (const s of sections) {
    if (s.type !== SHT_RELA || s.entsize < 24) continue;
    const syms =
      sections[s.link] === dynsymSec ? dynsym : sections[s.link]?.type === SHT_SYMTAB ? symtab : dynsym;
    const n = Math.floor(s.size / s.entsize);
    for (let i = 0; i < n; i++) {
      const o = s.offset + i * s.entsize;
      const info = r.u64(o + 8);
      const symIndex = Math.floor(info / 2 ** 32);
      relocations.push({
        offset: r.u64(o),
        type: info % 2 ** 32,
        symbol: symIndex ? syms[symIndex] : undefined,
        addend: r.i64(o + 16),
      });
    }
  }

  // RELR (SHT_RELR, compact relative relocations): addresses whose stored value gets the load base added
  const relativeType = machine === EM_AARCH64 ? 1027 : 8;
  for (const s of sections) {
    if (s.type !== SHT_RELR) continue;
    let where = 0;
    for (let o = s.offset; o + 8 <= s.offset + s.size; o += 8) {
      const lo = r.u32(o);
      const hi = r.u32(o + 4);
      const add = (addr: number) => {
        const at = vaddrToOffset(segments, addr, 8);
        if (at !== undefined) relocations.push({ offset: addr, type: relativeType, addend: r.u64(at) });
      };
      if ((lo & 1) === 0) {
        where = hi * 2 ** 32 + lo;
        add(where);
        where += 8;
      } else {
        for (let b = 1; b < 64; b++) {
          const set = b < 32 ? (lo >>> b) & 1 : (hi >>> (b - 32)) & 1;
          if (set) add(where + (b - 1) * 8);
        }
        where += 63 * 8;
      }
    }
  }

  const dynamic: DynamicInfo = { needed: [], runpath: [], rpath: [] };
  const dynSeg = segments.find((p) => p.type === PT_DYNAMIC);
  if (dynSeg) {
    r.check(dynSeg.offset, dynSeg.filesz, "the dynamic section");
    const entries: [number, number][] = [];
    for (let o = dynSeg.offset; o + 16 <= dynSeg.offset + dynSeg.filesz; o += 16) {
      const tag = r.i64(o);
      if (tag === 0) break;
      entries.push([tag, r.u64(o + 8)]);
    }
    const strtabAddr = entries.find(([t]) => t === 5)?.[1];
    const strOff = strtabAddr === undefined ? undefined : vaddrToOffset(segments, strtabAddr, 1);
    const str = (v: number): string =>
      strOff === undefined ? r.fail("a dynamic string without DT_STRTAB") : r.cstr(strOff + v);
    const split = (v: string) => v.split(":").filter(Boolean);
    let initArray: number | undefined;
    let initArraySz = 0;
    let finiArray: number | undefined;
    let finiArraySz = 0;
    for (const [tag, val] of entries) {
      if (tag === 1) dynamic.needed.push(str(val));
      else if (tag === 14) dynamic.soname = str(val);
      else if (tag === 15) dynamic.rpath.push(...split(str(val)));
      else if (tag === 29) dynamic.runpath.push(...split(str(val)));
      else if (tag === 12) dynamic.init = val;
      else if (tag === 13) dynamic.fini = val;
      else if (tag === 25) initArray = val;
      else if (tag === 27) initArraySz = val;
      else if (tag === 26) finiArray = val;
      else if (tag === 28) finiArraySz = val;
    }
    if (initArray !== undefined) dynamic.initArray = [initArray, initArraySz];
    if (finiArray !== undefined) dynamic.finiArray = [finiArray, finiArraySz];
  }

  const interpSeg = segments.find((p) => p.type === PT_INTERP);
  const interp = interpSeg ? r.cstr(interpSeg.offset, interpSeg.filesz) : undefined;

  let buildId: string | undefined;
  for (const p of segments) if (p.type === PT_NOTE) buildId ??= gnuBuildId(r, p.offset, p.filesz);

  const frameStarts: number[] = [];
  const ehSeg = segments.find((p) => p.type === PT_GNU_EH_FRAME);
  if (ehSeg) readEhFrameHdr(r, ehSeg.offset, ehSeg.vaddr, ehSeg.filesz, frameStarts);

  return {
    file,
    bytes: buf,
    type,
    machine,
    entry,
    sections,
    segments,
    dynsym,
    symtab,
    relocations,
    dynamic,
    interp,
    buildId,
    frameStarts: [...new Set(frameStarts)].sort((a, b) => a - b),
    go: sections.some((s) => s.name === ".gopclntab" || s.name === ".go.buildinfo"),
  };
}

/** Virtual address → file offset, through the loadable segments; undefined when not in the file. */
function vaddrToOffset(segments: Segment[], addr: number, len: number): number | undefined {
  for (const p of segments)
    if (p.type === PT_LOAD && addr >= p.vaddr && addr + len <= p.vaddr + p.filesz)
      return p.offset + (addr - p.vaddr);
  return undefined;
}

/** .eh_frame_hdr (LSB "Exception Frame Header"): version 1, then a sorted table of (initial location, FDE). */
function readEhFrameHdr(r: Reader, off: number, vaddr: number, size: number, out: number[]): void {
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
function gnuBuildId(r: Reader, off: number, size: number): string | undefined {
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

/** Only the GNU build-id (and machine), from the program headers: what a cache lookup needs. */
export function readBuildId(bytes: Uint8Array, file: string): { machine: number; buildId?: string } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, file);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1)
    return { machine: 0 };
  const machine = r.u16(18);
  const phoff = r.u64(32);
  const phentsize = r.u16(54);
  const phnum = r.u16(56);
  if (phentsize < 56) return { machine };
  r.check(phoff, phnum * phentsize, "the program headers");
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (r.u32(o) !== PT_NOTE) continue;
    const buildId = gnuBuildId(r, r.u64(o + 8), r.u64(o + 32));
    if (buildId) return { machine, buildId };
  }
  return { machine };
}

/** The build-id of an ELF file on disk (its first 64 KiB hold the notes), or undefined. */
export function buildIdOfFile(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const head = Buffer.alloc(64 << 10);
    const n = readSync(fd, head, 0, head.length, 0);
    return readBuildId(head.subarray(0, n), path).buildId;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The ELF interpreter (PT_INTERP: the dynamic loader the kernel opens and runs inside execve) an
 * executable on disk names, from its first 64 KiB; undefined for a static or non-ELF file, or one that
 * cannot be read.
 */
export function interpreterOfFile(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const b = Buffer.alloc(64 << 10);
    const n = readSync(fd, b, 0, b.length, 0);
    if (n < 52 || b.readUInt32BE(0) !== 0x7f454c46 || b[5] !== 1) return undefined;
    const wide = b[4] === 2;
    const phoff = wide ? Number(b.readBigUInt64LE(32)) : b.readUInt32LE(28);
    const phentsize = b.readUInt16LE(wide ? 54 : 42);
    const phnum = b.readUInt16LE(wide ? 56 : 44);
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * phentsize;
      if (o + phentsize > n || b.readUInt32LE(o) !== PT_INTERP) continue;
      const off = wide ? Number(b.readBigUInt64LE(o + 8)) : b.readUInt32LE(o + 4);
      const size = wide ? Number(b.readBigUInt64LE(o + 32)) : b.readUInt32LE(o + 16);
      if (size < 2 || off + size > n) return undefined;
      const text = b.toString("latin1", off, off + size);
      const end = text.indexOf("\0");
      return end > 0 ? text.slice(0, end) : undefined;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
