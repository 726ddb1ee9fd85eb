// The steps of readElf (elf.ts), each one table of the file: the headers with the section and program header
// tables, a symbol table, the RELA and RELR relocations, and the dynamic section.
import {
  type DynamicInfo,
  type ElfSymbol,
  EM_AARCH64,
  type Relocation,
  type Section,
  type Segment,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_RELA,
  SHT_RELR,
  SHT_SYMTAB,
} from "./elf-format.js";
import { type Reader, vaddrToOffset } from "./elf-reader.js";

/** The ELF header's fields readElf keeps, with the segments and the named sections. */
export interface ElfHeaders {
  type: number;
  machine: number;
  entry: number;
  segments: Segment[];
  sections: Section[];
}

/** The ELF header, then the program headers and the section headers (names from the section string table). */
export function readHeaders(r: Reader): ElfHeaders {
  const buf = r.buf;
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
  return { type, machine, entry, segments, sections };
}

/** The symbols of one symbol table (none when it is absent). */
export function readSymbols(r: Reader, sections: Section[], sec: Section | undefined): ElfSymbol[] {
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
}

/** The RELA relocations of every SHT_RELA section, each with its symbol from the table the section links. */
export function readRela(
  r: Reader,
  sections: Section[],
  dynsymSec: Section | undefined,
  dynsym: ElfSymbol[],
  symtab: ElfSymbol[],
): Relocation[] {
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
  return relocations;
}

/** RELR (SHT_RELR, compact relative relocations): addresses whose stored value gets the load base added. */
export function readRelr(r: Reader, h: ElfHeaders, relocations: Relocation[]): void {
  const { segments, sections } = h;
  const relativeType = h.machine === EM_AARCH64 ? 1027 : 8;
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
}

/** The dynamic section (PT_DYNAMIC): needed libraries, soname, search paths, init and fini. */
export function readDynamic(r: Reader, segments: Segment[], dynSeg: Segment | undefined): DynamicInfo {
  const dynamic: DynamicInfo = { needed: [], runpath: [], rpath: [] };
  if (!dynSeg) return dynamic;
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
  return dynamic;
}
