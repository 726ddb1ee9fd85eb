// One ELF object → what its code can do, per function: the syscall numbers its syscall instructions
// make (each number found by a backward scan over the block and its predecessors), the functions and
// imported symbols it calls, the functions whose address it takes, and the data it reads function
// pointers from. These facts depend on the object alone (cached by content, object-cache.ts); which
// functions are reached is decided across objects (reach.ts).
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
  concatStreams,
  type IsaInfo,
  K_CALL,
  K_ICALL,
  K_IJMP,
  K_JCC,
  K_JMP,
  K_MOVI,
  K_MOVR,
  K_NOP,
  K_RET,
  K_SYSCALL,
  K_ZERO,
  newStream,
  type OpStream,
  SLOT0,
  SLOTS,
  STACK_PARAM,
} from "./ops.js";
import { decodeX86, X86_64, X86_64_GO } from "./x86.js";

export const FACTS_VERSION = 6;

export interface FunctionFacts {
  /** Syscall numbers made here. */
  sys: number[];
  /** Syscall sites here whose number is not known (counted when the function is reached). */
  unresolved: number;
  /** When this function's syscall number is its argument k (a syscall(2)-like wrapper): k, else -1. */
  wrapperArg: number;
  calls: number[];
  /** Imported (or interposable) symbols called or loaded, by index into ObjectFacts.names. */
  imports: number[];
  /** Calls to imported symbols with the constants found in the argument registers (for wrappers elsewhere). */
  importArgs: [number, (number | null)[]][];
  /** Calls to local wrappers: the syscall number passed, or null when not found. */
  wrapperCalls: [number, number | null][];
  /** Local functions whose address this function takes. */
  refs: number[];
  /** Data partitions this function reads (their function pointers become reachable). */
  dataRefs: number[];
}

export interface Partition {
  fns: number[];
  names: number[];
  parts: number[];
}

export interface ObjectFacts {
  version: number;
  arch: "x86_64" | "aarch64";
  type: number;
  buildId?: string;
  soname?: string;
  needed: string[];
  runpath: string[];
  rpath: string[];
  interp?: string;
  go: boolean;
  starts: number[];
  fnNames: (string | null)[];
  functions: FunctionFacts[];
  names: string[];
  exports: Record<string, number>;
  roots: number[];
  partitions: Partition[];
  /** Function pointers in data no code reference reaches: taken as reached with the object. */
  orphan: Partition;
  /** Every syscall number any site in the object makes (reached or not), and the site counts. */
  allSyscalls: number[];
  sites: number;
  unresolvedSites: number;
}

const RELOC = {
  x86_64: { abs64: 1, globDat: 6, jumpSlot: 7, relative: 8, irelative: 37 },
  aarch64: { abs64: 257, globDat: 1025, jumpSlot: 1026, relative: 1027, irelative: 1032 },
};

/** Binary search: the index of the last element ≤ x, or -1. */
export function floorIndex(sorted: ArrayLike<number>, x: number, n = sorted.length): number {
  let lo = 0;
  let hi = n - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

const MAX_STEPS = 400;

/** The parameter a register holds at a function's entry: an argument register, or a stack slot above the return address. */
function paramOf(isa: IsaInfo, r: number): number {
  const k = isa.argRegs.indexOf(r);
  if (k >= 0) return k;
  if (isa === X86_64 || isa === X86_64_GO) {
    if (r > SLOT0 && r < SLOT0 + SLOTS) return STACK_PARAM + (r - SLOT0 - 1);
  }
  return -1;
}

/**
 * Where the caller has parameter k at the call: a register, or its [rsp+8(k-10)] — one slot higher at a
 * tail jump, which pushes no return address.
 */
export function argRegister(isa: IsaInfo, k: number, tail = false): number {
  return k >= STACK_PARAM ? SLOT0 + (k - STACK_PARAM) + (tail ? 1 : 0) : isa.argRegs[k];
}

/**
 * The values register `reg` can hold just before instruction `at`, scanning back within the function that
 * starts at instruction `first`: constants, argument registers the value came in (params), or unknown.
 */
export function valuesBefore(
  s: OpStream,
  isa: IsaInfo,
  preds: Map<number, number[]>,
  first: number,
  at: number,
  reg: number,
): { values: Set<number>; params: Set<number>; unknown: boolean } {
  const values = new Set<number>();
  const params = new Set<number>();
  let unknown = false;
  const seen = new Set<number>();
  const work: [number, number][] = [[at - 1, reg]];
  let steps = 0;
  // an instruction index i is examined for register r; then its predecessors
  while (work.length) {
    const [start, r0] = work.pop() as [number, number];
    let i = start;
    let r = r0;
    for (;;) {
      if (i < first) {
        const k = paramOf(isa, r);
        if (k >= 0) params.add(k);
        else unknown = true;
        break;
      }
      const key = i * 32 + r;
      if (seen.has(key)) break;
      seen.add(key);
      if (++steps > MAX_STEPS) {
        unknown = true;
        break;
      }
      const kind = s.kind[i];
      if (kind === K_MOVI && s.reg[i] === r) {
        values.add(s.val[i]);
        break;
      }
      if (kind === K_ZERO && s.reg[i] === r) {
        values.add(0);
        break;
      }
      if (kind === K_MOVR && s.reg[i] === r) r = s.reg2[i];
      else if (s.wmask[i] & (1 << r)) {
        unknown = true;
        break;
      } else if ((kind === K_CALL || kind === K_ICALL) && isa.callerSaved & (1 << r)) {
        unknown = true;
        break;
      } else if (kind === K_SYSCALL && isa.syscallClobbers & (1 << r)) {
        unknown = true;
        break;
      }
      // predecessors: jumps to here, and the fall-through from the instruction before
      const from = preds.get(s.addr[i]);
      if (from) for (const j of from) if (j >= first) work.push([j, r]);
      if (i === first) {
        const k = paramOf(isa, r);
        if (k >= 0) params.add(k);
        else unknown = true;
        break;
      }
      const prev = s.kind[i - 1];
      if (prev === K_JMP || prev === K_RET || prev === K_IJMP) {
        // a block no jump we decoded leads to: alignment padding (dead), or a jump-table target whose
        // entry value is not known
        if (!from && s.kind[i] !== K_NOP) unknown = true;
        break;
      }
      i--;
    }
  }
  return { values, params, unknown };
}

/** Builds the facts of one ELF object. */
export function objectFacts(elf: ElfFile): ObjectFacts {
  const arch = elf.machine === EM_X86_64 ? "x86_64" : elf.machine === EM_AARCH64 ? "aarch64" : undefined;
  if (!arch)
    throw new SysfenceError("E_ANALYZE", `${elf.file}: machine ${elf.machine} is not x86_64 or aarch64.`);
  const isa = arch === "x86_64" ? (elf.go ? X86_64_GO : X86_64) : AARCH64;
  const R = RELOC[arch];
  const decode = (code: Uint8Array, base: number, into?: OpStream) =>
    arch === "x86_64" ? decodeX86(code, base, into) : decodeAarch64(code, base, into);

  const exec = elf.sections
    .filter((sec) => sec.flags & SHF_EXECINSTR && sec.size > 0 && sec.type !== 8)
    .sort((a, b) => a.addr - b.addr);
  const isPlt = (name: string) => name.startsWith(".plt") || name === ".iplt";
  const inExec = (a: number) =>
    exec.some((sec) => !isPlt(sec.name) && a >= sec.addr && a < sec.addr + sec.size);
  const dataSections = elf.sections.filter(
    (sec) => !(sec.flags & SHF_EXECINSTR) && sec.addr > 0 && sec.size > 0 && (sec.flags & 2) !== 0,
  );
  const inData = (a: number) => dataSections.some((sec) => a >= sec.addr && a < sec.addr + sec.size);

  // relocations by the address they patch
  const relocAt = new Map<number, (typeof elf.relocations)[number]>();
  for (const r of elf.relocations) relocAt.set(r.offset, r);

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

  /** What a pointer-sized slot at `addr` holds: a local address or a symbol name. */
  const slotTarget = (addr: number): { local?: number; name?: number } | undefined => {
    const r = relocAt.get(addr);
    if (!r) return undefined;
    if (r.type === R.relative || r.type === R.irelative) return { local: r.addend };
    if (r.type === R.jumpSlot || r.type === R.globDat || r.type === R.abs64) {
      if (!r.symbol) return { local: r.addend };
      if (r.symbol.defined && r.symbol.type !== STT_FUNC && r.symbol.type !== STT_GNU_IFUNC)
        return { local: r.symbol.value + r.addend };
      return { name: nameOf(r.symbol.name) };
    }
    return undefined;
  };

  // PLT stubs: the GOT slot each stub jumps through
  const stubSlot = new Map<number, number>();
  for (const sec of exec.filter((x) => isPlt(x.name))) {
    const code = elf.bytes.subarray(sec.offset, sec.offset + sec.size);
    const st = decode(code, sec.addr, newStream(64));
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

  // the code
  const code = concatStreams(
    exec
      .filter((sec) => !isPlt(sec.name))
      .map((sec) => decode(elf.bytes.subarray(sec.offset, sec.offset + sec.size), sec.addr)),
  );

  // function starts
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

  // jumps by target
  const preds = new Map<number, number[]>();
  for (let i = 0; i < code.n; i++) {
    const k = code.kind[i];
    if (k === K_JMP || k === K_JCC) {
      const t = code.val[i];
      const list = preds.get(t);
      if (list) list.push(i);
      else preds.set(t, [i]);
    }
  }

  // data partitions: every data address code references starts one
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
  for (const r of elf.relocations) {
    if (!inData(r.offset)) continue;
    const t = slotTarget(r.offset);
    if (!t) continue;
    const pi = partOf(r.offset);
    const p = pi >= 0 ? partitions[pi] : orphan;
    if (t.name !== undefined) p.names.push(t.name);
    else if (t.local !== undefined) {
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

  // per function
  const functions: FunctionFacts[] = starts.map(() => ({
    sys: [],
    unresolved: 0,
    wrapperArg: -1,
    calls: [],
    imports: [],
    importArgs: [],
    wrapperCalls: [],
    refs: [],
    dataRefs: [],
  }));
  const all = new Set<number>();
  let sites = 0;
  let unresolvedSites = 0;
  const localCalls: [number, number, number, boolean][] = []; // [caller, insn index, callee, tail jump?]
  for (let f = 0; f < starts.length; f++) {
    const ff = functions[f];
    const first = firstInsn[f];
    const end = f + 1 < starts.length ? firstInsn[f + 1] : code.n;
    const sys = new Set<number>();
    const calls = new Set<number>();
    const imports = new Set<number>();
    const refs = new Set<number>();
    const dataRefs = new Set<number>();
    for (let i = first; i < end; i++) {
      const k = code.kind[i];
      if (k === K_SYSCALL) {
        sites++;
        const v = valuesBefore(code, isa, preds, first, i, isa.nrReg);
        for (const n of v.values) {
          sys.add(n);
          all.add(n);
        }
        if (v.params.size === 1 && !v.unknown && v.values.size === 0) ff.wrapperArg = [...v.params][0];
        else if (v.unknown || v.params.size) {
          ff.unresolved++;
          unresolvedSites++;
        }
        continue;
      }
      const target = code.val[i];
      if (k === K_CALL || (k === K_JMP && (target < starts[f] || fnOf(target) !== f))) {
        const slot = stubSlot.get(target);
        if (slot !== undefined) {
          const t = slotTarget(slot);
          if (t?.name !== undefined) {
            imports.add(t.name);
            if (k === K_CALL) pushArgs(ff, t.name, argConstants(code, isa, preds, first, i));
          } else if (t?.local !== undefined && inExec(t.local)) {
            if (fnOf(t.local) >= 0) calls.add(fnOf(t.local));
            else ff.unresolved++;
          }
        } else if (inExec(target)) {
          const callee = fnOf(target);
          // code before the first function start (a damaged or unusual file): nothing is known of it, so
          // the call is counted as unresolved (the result says it is partial) rather than followed
          if (callee < 0) ff.unresolved++;
          else {
            calls.add(callee);
            localCalls.push([f, i, callee, k !== K_CALL]);
          }
        }
        continue;
      }
      const ref = code.ref[i];
      if (Number.isNaN(ref)) continue;
      // a call or load through a GOT slot, a function's address, or data
      const t = slotTarget(ref);
      if (t?.name !== undefined) {
        imports.add(t.name);
        if (k === K_ICALL) pushArgs(ff, t.name, argConstants(code, isa, preds, first, i));
      } else if (t?.local !== undefined && inExec(t.local)) {
        if (fnOf(t.local) >= 0) refs.add(fnOf(t.local));
      } else if (startSet.has(ref) || (inExec(ref) && fnOf(ref) !== f)) {
        if (fnOf(ref) >= 0) refs.add(fnOf(ref));
      } else if (inData(ref)) {
        const p = partOf(ref);
        if (p >= 0) dataRefs.add(p);
      }
    }
    ff.sys = [...sys].sort((a, b) => a - b);
    ff.calls = [...calls];
    ff.imports = [...imports];
    ff.refs = [...refs];
    ff.dataRefs = [...dataRefs];
  }
  // wrappers of wrappers (Go: callers → syscall.Syscall → its ABI0 body): a function that passes its own
  // parameter on as a wrapper's number is a wrapper too
  for (let round = 0; round < 4; round++) {
    let changed = false;
    for (const [caller, i, callee, tail] of localCalls) {
      const k = functions[callee].wrapperArg;
      if (k < 0 || functions[caller].wrapperArg >= 0 || caller === callee) continue;
      const v = valuesBefore(code, isa, preds, firstInsn[caller], i, argRegister(isa, k, tail));
      if (v.params.size === 1 && v.values.size === 0 && !v.unknown) {
        functions[caller].wrapperArg = [...v.params][0];
        changed = true;
      }
    }
    if (!changed) break;
  }
  // calls to local wrappers: the number passed in the wrapper's argument register
  for (const [caller, i, callee, tail] of localCalls) {
    const k = functions[callee].wrapperArg;
    if (k < 0 || functions[caller].wrapperArg >= 0) continue;
    const v = valuesBefore(code, isa, preds, firstInsn[caller], i, argRegister(isa, k, tail));
    const known = !v.unknown && v.params.size === 0 && v.values.size > 0;
    if (known) for (const n of v.values) functions[caller].wrapperCalls.push([callee, n]);
    else functions[caller].wrapperCalls.push([callee, null]);
  }

  const exports: Record<string, number> = {};
  for (const sym of elf.dynsym) {
    if (!sym.defined || (sym.type !== STT_FUNC && sym.type !== STT_GNU_IFUNC) || !sym.name) continue;
    const n = sym.name.replace(/@.*$/, "");
    if (!(n in exports) && startSet.has(sym.value)) exports[n] = fnOf(sym.value);
  }
  return {
    version: FACTS_VERSION,
    arch,
    type: elf.type,
    buildId: elf.buildId,
    soname: elf.dynamic.soname,
    needed: elf.dynamic.needed,
    runpath: elf.dynamic.runpath,
    rpath: elf.dynamic.rpath,
    interp: elf.interp,
    go: elf.go,
    starts,
    fnNames: starts.map((a) => symName.get(a) ?? null),
    functions,
    names,
    exports,
    roots: [...roots],
    partitions,
    orphan,
    allSyscalls: [...all].sort((a, b) => a - b),
    sites,
    unresolvedSites,
  };
}

/** Keeps a call's argument constants only when there is one (a wrapper's callers need nothing else). */
function pushArgs(ff: FunctionFacts, name: number, args: (number | null)[]): void {
  if (args.some((a) => a !== null)) ff.importArgs.push([name, args]);
}

/** The constant in each argument register before a call (null when not one known constant). */
function argConstants(
  s: OpStream,
  isa: IsaInfo,
  preds: Map<number, number[]>,
  first: number,
  at: number,
): (number | null)[] {
  return isa.argRegs.map((r) => {
    const v = valuesBefore(s, isa, preds, first, at, r);
    return !v.unknown && v.params.size === 0 && v.values.size === 1 ? [...v.values][0] : null;
  });
}
