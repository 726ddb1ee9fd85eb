// The ELF64 layout elf.ts reads: the constants it needs (elf(5), <elf.h>) and the shapes it returns.
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const SHF_EXECINSTR = 0x4;
export const SHT_SYMTAB = 2;
export const SHT_RELA = 4;
export const SHT_DYNSYM = 11;
export const SHT_NOBITS = 8;
export const SHT_RELR = 19;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const STT_FUNC = 2;
export const STT_GNU_IFUNC = 10;
export const SHN_UNDEF = 0;

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
