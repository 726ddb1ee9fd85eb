// The first steps of objectFacts (facts.ts), each over one context: what the object's sections, relocations
// and symbols say (objectContext), the GOT slot each PLT stub jumps through (pltSlots), the decoded code,
// where functions start (functionStarts), which instructions jump where (jumpTargets), and the function
// pointers held in data (dataPartitions).
import { SysfenceError } from "../errors.js";
import { AARCH64, decodeAarch64 } from "./aarch64.js";
import {
  type ElfFile,
  EM_AARCH64,
  EM_X86_64,
  ET_EXEC,
  SHF_EXECINSTR,
  STT_FUNC,
  STT_GNU_IFUNC,
} from "./elf.js";
import {
  type IsaInfo,
  type JumpIndex,
  K_CALL,
  K_IJMP,
  K_JCC,
  K_JMP,
  K_RET,
  type OpStream,
  takeStream,
  x86Capacity,
} from "./ops.js";
import { floorIndex } from "./values-before.js";
import { decodeX86, X86_64, X86_64_GO } from "./x86.js";

const RELOC = {
  x86_64: { abs64: 1, globDat: 6, jumpSlot: 7, relative: 8, irelative: 37 },
  aarch64: { abs64: 257, globDat: 1025, jumpSlot: 1026, relative: 1027, irelative: 1032 },
};

export interface Partition {
  fns: number[];
  names: number[];
  parts: number[];
}

/** What a pointer-sized slot holds: a local address or an imported symbol (by index into names). */
export type SlotTarget = { local?: number; name?: number } | undefined;

/** One object as the steps see it: its ISA, where code and data are, and the symbols it imports. */
export interface ObjectContext {
  elf: ElfFile;
  arch: "x86_64" | "aarch64";
  isa: IsaInfo;
  decode: (code: Uint8Array, base: number, into?: OpStream) => OpStream;
  /** Executable sections, by address. */
  exec: ElfFile["sections"];
  isPlt: (name: string) => boolean;
  /** Whether an address is in code (not a PLT). */
  inExec: (a: number) => boolean;
  /** Whether an address is in writable data. */
  inData: (a: number) => boolean;
  /** Imported or interposable symbols, by index. */
  names: string[];
  /** What a pointer-sized slot at an address holds, from the relocation that patches it. */
  slotTarget: (addr: number) => SlotTarget;
}

/** The context of one object; fails for a machine other than x86_64 and aarch64. */
export function objectContext(elf: ElfFile): ObjectContext {
  const arch = elf.machine === EM_X86_64 ? "x86_64" : elf.machine === EM_AARCH64 ? "aarch64" : undefined;
  if (!arch)
    throw new SysfenceError("E_ANALYZE", `${elf.file}: machine ${elf.machine} is not x86_64 or aarch64.`);
  const isa = arch === "x86_64" ? (elf.go ? X86_64_GO : X86_64) : AARCH64;
  const decode = (code: Uint8Array, base: number, into?: OpStream) =>
    arch === "x86_64" ? decodeX86(code, base, into) : decodeAarch64(code, base, into);

  const exec = elf.sections
    .filter((sec) => sec.flags & SHF_EXECINSTR && sec.size > 0 && sec.type !== 8)
    .sort((a, b) => a.addr - b.addr);
  const isPlt = (name: string) => name.startsWith(".plt") || name === ".iplt";
  const inExec = inRanges(exec.filter((sec) => !isPlt(sec.name)));
  const inData = inRanges(
    elf.sections.filter(
      (sec) => !(sec.flags & SHF_EXECINSTR) && sec.addr > 0 && sec.size > 0 && (sec.flags & 2) !== 0,
    ),
  );
  const { names, slotTarget } = slots(elf, arch);
  return { elf, arch, isa, decode, exec, isPlt, inExec, inData, names, slotTarget };
}

/** Whether an address is in one of these sections (asked for most instructions: a loop over flat bounds). */
function inRanges(sections: ElfFile["sections"]): (a: number) => boolean {
  const lo = Float64Array.from(sections, (sec) => sec.addr);
  const hi = Float64Array.from(sections, (sec) => sec.addr + sec.size);
  return (a: number) => {
    for (let k = 0; k < lo.length; k++) if (a >= lo[k] && a < hi[k]) return true;
    return false;
  };
}

/** The imported names and what each relocated slot holds. */
function slots(elf: ElfFile, arch: "x86_64" | "aarch64"): Pick<ObjectContext, "names" | "slotTarget"> {
  const R = RELOC[arch];
  // relocations by the address they patch (the last one there), each with what it puts in its slot: made
  // once, when first asked for (a name gets its index then), and shared — the per-instruction scans ask
  // for the same slots again and again
  type Slot = { r: (typeof elf.relocations)[number]; made: boolean; t: SlotTarget };
  const relocAt = new Map<number, Slot>();
  for (const r of elf.relocations) relocAt.set(r.offset, { r, made: false, t: undefined });

  // names: imported or interposable symbols, by index
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const nameOf = (n: string) => {
    const bare = n.replace(/@.*$/, "");
    let i = nameIndex.get(bare);
    if (i === undefined) {
      i = names.length;
      names.push(bare);
      nameIndex.set(bare, i);
    }
    return i;
  };

  const slotTarget = (addr: number): SlotTarget => {
    const slot = relocAt.get(addr);
    if (!slot) return undefined;
    if (!slot.made) {
      slot.t = targetOf(slot.r);
      slot.made = true;
    }
    return slot.t;
  };
  const targetOf = (r: (typeof elf.relocations)[number]): SlotTarget => {
    if (r.type === R.relative || r.type === R.irelative) return { local: r.addend };
    if (r.type === R.jumpSlot || r.type === R.globDat || r.type === R.abs64) {
      if (!r.symbol) return { local: r.addend };
      if (r.symbol.defined && r.symbol.type !== STT_FUNC && r.symbol.type !== STT_GNU_IFUNC)
        return { local: r.symbol.value + r.addend };
      return { name: nameOf(r.symbol.name) };
    }
    return undefined;
  };
  return { names, slotTarget };
}

/** PLT stubs: the GOT slot each stub jumps through, by the stub's address. */
export function pltSlots(cx: ObjectContext): Map<number, number> {
  const { elf } = cx;
  const stubSlot = new Map<number, number>();
  for (const sec of cx.exec.filter((x) => cx.isPlt(x.name))) {
    const code = elf.bytes.subarray(sec.offset, sec.offset + sec.size);
    const st = cx.decode(code, sec.addr);
    let stubStart = sec.addr;
    let lastRef = Number.NaN;
    for (let i = 0; i < st.n; i++) {
      if (!Number.isNaN(st.ref[i])) lastRef = st.ref[i];
      const k = st.kind[i];
      if (k === K_IJMP || k === K_JMP || k === K_RET) {
        const slot = Number.isNaN(st.ref[i]) ? lastRef : st.ref[i];
        if (k === K_IJMP && !Number.isNaN(slot)) {
          stubSlot.set(stubStart, slot);
          stubSlot.set(st.addr[i], slot);
        }
        stubStart = i + 1 < st.n ? st.addr[i + 1] : stubStart;
        lastRef = Number.NaN;
      }
    }
  }
  return stubSlot;
}

/** The object's code (PLTs left out), decoded into one stream (takeStream's: give it back when done). */
export function decodeCode(cx: ObjectContext): OpStream {
  const { elf } = cx;
  // every section into one stream (no copy into a concatenation afterwards)
  const secs = cx.exec.filter((sec) => !cx.isPlt(sec.name));
  const bytes = secs.reduce((a, sec) => a + sec.size, 0);
  let s = takeStream(cx.arch === "x86_64" ? x86Capacity(bytes) : Math.max(16, bytes >> 2));
  for (const sec of secs) s = cx.decode(elf.bytes.subarray(sec.offset, sec.offset + sec.size), sec.addr, s);
  return s;
}

/** Where functions start, their names, and the first instruction of each. */
export interface FunctionStarts {
  startSet: Set<number>;
  /** Function start addresses, ascending. */
  starts: number[];
  symName: Map<number, string>;
  /** The function an address is in (the last start ≤ it), or -1. */
  fnOf: (addr: number) => number;
  /** Per function, the index of its first instruction in the code stream. */
  firstInsn: number[];
}

/** Function starts: frame descriptions, function symbols, the entry, init and fini, and every call target. */
export function functionStarts(cx: ObjectContext, code: OpStream): FunctionStarts {
  const { elf, inExec } = cx;
  const startSet = new Set<number>();
  for (const a of elf.frameStarts) if (inExec(a)) startSet.add(a);
  const symName = new Map<number, string>();
  for (const sym of [...elf.symtab, ...elf.dynsym]) {
    if (!sym.defined || (sym.type !== STT_FUNC && sym.type !== STT_GNU_IFUNC) || !inExec(sym.value)) continue;
    startSet.add(sym.value);
    if (!symName.has(sym.value) && sym.name) symName.set(sym.value, sym.name.replace(/@.*$/, ""));
  }
  if (inExec(elf.entry)) startSet.add(elf.entry);
  if (elf.dynamic.init !== undefined && inExec(elf.dynamic.init)) startSet.add(elf.dynamic.init);
  if (elf.dynamic.fini !== undefined && inExec(elf.dynamic.fini)) startSet.add(elf.dynamic.fini);
  for (let i = 0; i < code.n; i++)
    if (code.kind[i] === K_CALL && inExec(code.val[i])) startSet.add(code.val[i]);
  if (startSet.size === 0 && code.n > 0) startSet.add(code.addr[0]);
  const starts = [...startSet].sort((a, b) => a - b);
  const fnOf = (addr: number) => floorIndex(starts, addr);
  const firstInsn = starts.map((a) => {
    const k = floorIndex(code.addr, a - 0.5, code.n) + 1;
    return k;
  });
  return { startSet, starts, symName, fnOf, firstInsn };
}

/** Jumps by target: the instructions that jump (or branch) to each instruction. */
export function jumpTargets(code: OpStream): JumpIndex {
  const { n, kind, val, addr } = code;
  for (let i = 1; i < n; i++) if (!(addr[i] > addr[i - 1])) return jumpTargetsByMap(code);
  // the addresses ascend (the sections are decoded in address order): each target found by binary search
  const to = new Int32Array(n);
  const start = new Int32Array(n + 1);
  let jumps = 0;
  for (let i = 0; i < n; i++) {
    const k = kind[i];
    to[i] = -1;
    if (k !== K_JMP && k !== K_JCC) continue;
    const t = val[i];
    const j = indexNear(addr, n, i, t);
    if (j >= 0) {
      to[i] = j;
      start[j + 1]++;
      jumps++;
    }
  }
  for (let j = 0; j < n; j++) start[j + 1] += start[j];
  const from = new Int32Array(jumps);
  const fill = start.slice(0, n);
  for (let i = 0; i < n; i++) if (to[i] >= 0) from[fill[to[i]]++] = i;
  return { start, from };
}

/**
 * The instruction at address t, or -1, searched from instruction i: every instruction is at least a byte
 * long, so it lies within t − addr[i] instructions of i (most jumps are short: a few steps, near in memory).
 */
function indexNear(addr: Float64Array, n: number, i: number, t: number): number {
  const a = addr[i];
  let lo = i;
  let hi = i;
  if (t > a) hi = t - a < n - 1 - i ? i + (t - a) : n - 1;
  else if (t < a) lo = a - t < i ? i - (a - t) : 0;
  else return t === a ? i : -1; // NaN: no target
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = addr[mid];
    if (m === t) return mid;
    if (m < t) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** jumpTargets where addresses repeat or go back (overlapping sections): each instruction gets the jumps to its address. */
function jumpTargetsByMap(code: OpStream): JumpIndex {
  const byAddr = new Map<number, number[]>();
  for (let i = 0; i < code.n; i++) {
    const k = code.kind[i];
    if (k === K_JMP || k === K_JCC) {
      const list = byAddr.get(code.val[i]);
      if (list) list.push(i);
      else byAddr.set(code.val[i], [i]);
    }
  }
  const start = new Int32Array(code.n + 1);
  const lists: number[][] = [];
  for (let j = 0; j < code.n; j++) {
    const list = byAddr.get(code.addr[j]);
    if (list) lists.push(list);
    start[j + 1] = start[j] + (list ? list.length : 0);
  }
  return { start, from: Int32Array.from(lists.flat()) };
}

/** The data partitions, the function pointers no partition holds, and the functions reached with the object. */
export interface DataPartitions {
  partitions: Partition[];
  orphan: Partition;
  /** The partition an address is in, or -1. */
  partOf: (addr: number) => number;
  roots: Set<number>;
  /**
   * Names an .init_array/.fini_array slot holds by a symbolic relocation (R_X86_64_64, R_AARCH64_ABS64
   * against a preemptible function): the loader calls whatever the global scope binds them to.
   */
  rootNames: Set<number>;
}

/** Data partitions: every data address code references starts one; each holds the pointers relocated into it. */
export function dataPartitions(cx: ObjectContext, code: OpStream, fs: FunctionStarts): DataPartitions {
  const { elf, inExec, inData } = cx;
  const { startSet, fnOf } = fs;
  const dataRefAddrs = new Set<number>();
  for (let i = 0; i < code.n; i++) {
    const a = code.ref[i];
    if (!Number.isNaN(a) && inData(a) && startSet.has(a) === false) dataRefAddrs.add(a);
  }
  const partStarts = [...dataRefAddrs].sort((a, b) => a - b);
  const partitions: Partition[] = partStarts.map(() => ({ fns: [], names: [], parts: [] }));
  const orphan: Partition = { fns: [], names: [], parts: [] };
  const partOf = (addr: number) => floorIndex(partStarts, addr);
  const initSlots = new Set<number>();
  for (const range of [elf.dynamic.initArray, elf.dynamic.finiArray])
    if (range) for (let a = range[0]; a < range[0] + range[1]; a += 8) initSlots.add(a);
  const roots = new Set<number>();
  const rootNames = new Set<number>();
  for (const r of elf.relocations) {
    if (!inData(r.offset)) continue;
    const t = cx.slotTarget(r.offset);
    if (!t) continue;
    const pi = partOf(r.offset);
    const p = pi >= 0 ? partitions[pi] : orphan;
    if (t.name !== undefined) {
      p.names.push(t.name);
      if (initSlots.has(r.offset)) rootNames.add(t.name);
    } else if (t.local !== undefined) {
      if (startSet.has(t.local)) {
        p.fns.push(fnOf(t.local));
        if (initSlots.has(r.offset)) roots.add(fnOf(t.local));
      } else if (inExec(t.local) && fnOf(t.local) >= 0) p.fns.push(fnOf(t.local));
      else if (inData(t.local)) {
        const q = partOf(t.local);
        if (q >= 0) p.parts.push(q);
      }
    }
  }
  if (elf.type === ET_EXEC || elf.interp === undefined) {
    // the entry of an executable or of the dynamic loader itself
    if (inExec(elf.entry) && (elf.type === ET_EXEC || elf.interp === undefined)) roots.add(fnOf(elf.entry));
  }
  if (elf.dynamic.init !== undefined && inExec(elf.dynamic.init)) roots.add(fnOf(elf.dynamic.init));
  if (elf.dynamic.fini !== undefined && inExec(elf.dynamic.fini)) roots.add(fnOf(elf.dynamic.fini));
  return { partitions, orphan, partOf, roots, rootNames };
}
