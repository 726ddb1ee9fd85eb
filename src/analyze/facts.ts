// One ELF object → what its code can do, per function: the syscall numbers its syscall instructions
// make (each number found by a backward scan over the block and its predecessors), the functions and
// imported symbols it calls, the functions whose address it takes, and the data it reads function
// pointers from. These facts depend on the object alone (cached by content, object-cache.ts); which
// functions are reached is decided across objects (reach.ts).
import { type ElfFile, STT_FUNC, STT_GNU_IFUNC } from "./elf.js";
import { type FunctionFacts, perFunction, wrappers } from "./function-facts.js";
import {
  dataPartitions,
  decodeCode,
  functionStarts,
  jumpTargets,
  objectContext,
  type Partition,
  pltSlots,
} from "./object-context.js";
import { dropSpareStream, giveBackStream } from "./ops.js";

export type { FunctionFacts } from "./function-facts.js";
export type { Partition } from "./object-context.js";

export const FACTS_VERSION = 9;

/**
 * Facts by index (per function, per data partition): a built object's arrays, or decoded from a cache
 * entry one item at a time, each time it is asked for (facts-codec.ts) — a cached analysis visits about
 * half of its objects' functions and builds nothing for the rest.
 */
export class FactsTable<T> {
  private constructor(
    readonly length: number,
    private readonly make: (i: number) => T,
    private readonly made?: T[],
  ) {}

  static of<T>(items: T[]): FactsTable<T> {
    return new FactsTable(items.length, (i) => items[i], items);
  }

  /**
   * Items made when asked for and not kept: the reach asks for each once (a kept item outlived the young
   * generation, and every scavenge copied it — most of a cached run's collector time).
   */
  static lazy<T>(length: number, make: (i: number) => T): FactsTable<T> {
    return new FactsTable(length, make);
  }

  /** Item i (0 ≤ i < length). */
  get(i: number): T {
    return this.made ? this.made[i] : this.make(i);
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
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
  /** Function start addresses, ascending (a cached entry's are a Float64Array view). */
  starts: ArrayLike<number>;
  fnNames: (string | null)[];
  functions: FactsTable<FunctionFacts>;
  names: string[];
  exports: Record<string, number>;
  roots: number[];
  /** Names (index into names) of functions an .init_array/.fini_array slot holds by a symbolic relocation. */
  rootNames: number[];
  partitions: FactsTable<Partition>;
  /** Function pointers in data no code reference reaches: taken as reached with the object. */
  orphan: Partition;
  /** Every syscall number any site in the object makes (reached or not), and the site counts. */
  allSyscalls: number[];
  sites: number;
  unresolvedSites: number;
}

/**
 * Lets go of the memory objectFacts keeps between objects in this thread (the decoded stream): an
 * analysis is over.
 */
export function dropFactsScratch(): void {
  dropSpareStream();
}

/** Builds the facts of one ELF object: named steps over one context (object-context.ts, function-facts.ts). */
export function objectFacts(elf: ElfFile): ObjectFacts {
  const cx = objectContext(elf);
  const stubSlot = pltSlots(cx);
  const code = decodeCode(cx);
  const fs = functionStarts(cx, code);
  const preds = jumpTargets(code);
  const { partitions, orphan, partOf, roots, rootNames } = dataPartitions(cx, code, fs);
  const cc = { ...cx, ...fs, code, preds, stubSlot, partOf };
  const { functions, all, sites, unresolvedSites, localCalls } = perFunction(cc);
  wrappers(cc, functions, localCalls);
  giveBackStream(code);
  const { starts, startSet, fnOf, symName } = fs;

  const exports: Record<string, number> = {};
  for (const sym of elf.dynsym) {
    if (!sym.defined || (sym.type !== STT_FUNC && sym.type !== STT_GNU_IFUNC) || !sym.name) continue;
    const n = sym.name.replace(/@.*$/, "");
    if (!(n in exports) && startSet.has(sym.value)) exports[n] = fnOf(sym.value);
  }
  return {
    version: FACTS_VERSION,
    arch: cx.arch,
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
    functions: FactsTable.of(functions),
    names: cx.names,
    exports,
    roots: [...roots],
    rootNames: [...rootNames],
    partitions: FactsTable.of(partitions),
    orphan,
    allSyscalls: [...all].sort((a, b) => a - b),
    sites,
    unresolvedSites,
  };
}
