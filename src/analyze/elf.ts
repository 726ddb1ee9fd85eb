// A reader of 64-bit little-endian ELF files (x86_64, aarch64): headers, sections, segments, dynamic
// symbols, relocations, the dynamic section, the interpreter, the build-id and .eh_frame_hdr's table of
// function starts. Pure: it takes bytes. Every offset is checked; a malformed or truncated file is one
// SysfenceError naming the file and what is wrong — never an exception from a Buffer read.
import { closeSync, openSync, readSync } from "node:fs";
import {
  type ElfFile,
  PT_DYNAMIC,
  PT_GNU_EH_FRAME,
  PT_INTERP,
  PT_NOTE,
  SHT_DYNSYM,
  SHT_SYMTAB,
} from "./elf-format.js";
import { gnuBuildId, Reader, readEhFrameHdr } from "./elf-reader.js";
import { readDynamic, readHeaders, readRela, readRelr, readSymbols } from "./elf-tables.js";

export {
  type DynamicInfo,
  type ElfFile,
  type ElfSymbol,
  EM_AARCH64,
  EM_X86_64,
  ET_DYN,
  ET_EXEC,
  type Relocation,
  type Section,
  type Segment,
  SHF_EXECINSTR,
  STT_FUNC,
  STT_GNU_IFUNC,
} from "./elf-format.js";

/** Parses an ELF file's bytes; `file` names it in errors. */
export function readElf(bytes: Uint8Array, file: string): ElfFile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, file);
  const h = readHeaders(r);
  const { segments, sections } = h;
  const dynsymSec = sections.find((s) => s.type === SHT_DYNSYM);
  const dynsym = readSymbols(r, sections, dynsymSec);
  const symtab = readSymbols(
    r,
    sections,
    sections.find((s) => s.type === SHT_SYMTAB),
  );
  const relocations = readRela(r, sections, dynsymSec, dynsym, symtab);
  readRelr(r, h, relocations);
  const dynamic = readDynamic(
    r,
    segments,
    segments.find((p) => p.type === PT_DYNAMIC),
  );

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
    type: h.type,
    machine: h.machine,
    entry: h.entry,
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

/**
 * What finding an object's libraries needs of it: its machine, dynamic section and interpreter, read by
 * readElf's own steps but none of the symbol or relocation tables (analyzeAsync reads the rest in a worker
 * thread). A file these steps accept may still be one readElf rejects.
 */
export function readElfHead(
  bytes: Uint8Array,
  file: string,
): Pick<ElfFile, "machine" | "dynamic" | "interp"> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, file);
  const { machine, segments } = readHeaders(r);
  const dynamic = readDynamic(
    r,
    segments,
    segments.find((p) => p.type === PT_DYNAMIC),
  );
  const interpSeg = segments.find((p) => p.type === PT_INTERP);
  const interp = interpSeg ? r.cstr(interpSeg.offset, interpSeg.filesz) : undefined;
  return { machine, dynamic, interp };
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
