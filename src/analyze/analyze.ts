// `analyze(path)`: the syscalls a program and everything it loads can make, from the ELF files alone —
// the upper bound a recording (the lower bound) is checked against. Reads the program, finds its
// libraries as the loader does (libraries.ts), builds each object's facts once per content (cached in
// the private store, object-cache.ts), and reaches across them (reach.ts).
import { resolve } from "node:path";
import { SysfenceError } from "../errors.js";
import type { ArchName } from "../syscalls/arches.js";
import { syscallName } from "../syscalls/table.js";
import { openPrivateStore, type PrivateStore } from "../util/private-store.js";
import { EM_AARCH64, EM_X86_64, readElf, readElfHead } from "./elf.js";
import { dropFactsScratch, type ObjectFacts, objectFacts } from "./facts.js";
import { decodeFacts, encodeFacts } from "./facts-codec.js";
import { type Built, defaultWorkers, FactsPool, workersAvailable } from "./facts-pool.js";
import { logicalPath, type Root } from "./libraries.js";
import { factsOf, lookupFacts } from "./object-cache.js";
import { objectContext } from "./object-context.js";
import { type ObjectHead, ObjectTable, type ReadObject } from "./object-table.js";
import { type LoadedFacts, reachSyscalls } from "./reach.js";
import { keepResult, readKeptResult, resultKey } from "./result-cache.js";

/** How analyze() reads a program: its architecture, the root its libraries are found in, the cache, and the callbacks told of notes and progress. */
export interface AnalyzeOptions {
  arch?: "x86_64" | "aarch64";
  /** Look up libraries, the interpreter and ld.so.cache inside this directory. */
  sysroot?: string;
  /** Libraries a recording saw the program dlopen (paths inside the root). */
  dlopened?: string[];
  /** Use the per-library cache (default true). */
  cache?: boolean;
  /** Told about cache problems (an untrusted directory). */
  onNote?: (note: string) => void;
  /** Told as the work goes: before each object is read (or found in the cache), and before the reach. */
  onProgress?: (progress: AnalyzeProgress) => void;
}

/** Where an analysis is: `objects` read so far (the libraries are found as the reading goes). */
export type AnalyzeProgress =
  | { step: "object"; objects: number; path: string }
  | { step: "reach"; objects: number };

export interface LibraryReport {
  path: string;
  soname?: string;
  buildId?: string;
  functions: number;
  reached: number;
  sites: number;
  unresolvedSites: number;
  cached: boolean;
  dlopened?: boolean;
}

/** What analyze() found: the syscalls the program can reach with the functions they are reached through, per-library counts, and what could not be resolved. */
export interface AnalyzeResult {
  program: string;
  arch: "x86_64" | "aarch64";
  syscalls: Record<string, { via: string[] }>;
  /** Reached syscall sites whose number could not be found. */
  unresolved: number;
  /** Every syscall any site in any loaded object can make, reached or not. */
  everySite: string[];
  libraries: LibraryReport[];
  /** Libraries named by DT_NEEDED that were not found. */
  missing: string[];
  notes: string[];
}

const MACHINES = { x86_64: EM_X86_64, aarch64: EM_AARCH64 } as const;

type LoadedObject = LoadedFacts & { real: string; cached: boolean };

/** Analyses a program and its libraries, in this thread. */
export function analyze(path: string, options: AnalyzeOptions = {}): AnalyzeResult {
  const run = begin(path, options);
  if (run.kept) return run.kept;
  const read = (real: string, shown: string): ReadObject => {
    const { facts, cached, identity } = factsOf(real, shown, run.store);
    return { head: facts, cached, facts, identity };
  };
  try {
    const table = discover(path, options, run, read);
    return finish(
      path,
      options,
      table,
      run,
      table.objects.map((o) => o.read.facts as ObjectFacts),
    );
  } finally {
    dropFactsScratch();
  }
}

/** analyzeAsync's options: analyze()'s, and how many worker threads may build facts. */
export interface AnalyzeAsyncOptions extends AnalyzeOptions {
  /**
   * Worker threads building the facts of objects not in the cache beside this thread (default: the CPUs
   * the load average leaves idle, less one, at most 7 — none on a busy machine); 0: none, as analyze().
   */
  workers?: number;
}

/**
 * analyze(), with the objects not in the cache read in worker threads while this one finds the libraries
 * (facts-pool.ts). The result is analyze()'s, byte for byte; so is an error: the one the first object in
 * load order that fails would throw.
 */
export async function analyzeAsync(path: string, options: AnalyzeAsyncOptions = {}): Promise<AnalyzeResult> {
  const workers = options.workers ?? defaultWorkers();
  if (!(workers >= 1) || !workersAvailable()) return analyze(path, options);
  const pool = new FactsPool(workers);
  try {
    const run = begin(path, options);
    if (run.kept) return run.kept;
    const building: Promise<ObjectFacts>[] = [];
    const read = (real: string, shown: string): ReadObject => {
      const found = lookupFacts(real, shown, run.store);
      const { identity } = found;
      if (found.cached) return { head: found.facts, cached: true, facts: found.facts, identity };
      const head = headOf(found.bytes, shown);
      const facts = pool.build(found.bytes, shown).then((built) => builtFacts(built, shown, found.save));
      facts.catch(() => {}); // thrown where awaited, in load order
      building.push(facts);
      return { head, cached: false, facts, identity };
    };
    let table: ObjectTable;
    try {
      table = discover(path, options, run, read);
    } catch (e) {
      // an object before the one that failed here may have failed in a worker: its error comes first
      await buildHere(pool);
      await inOrder(building);
      throw e;
    }
    await buildHere(pool);
    return finish(path, options, table, run, await inOrder(table.objects.map((o) => o.read.facts)));
  } finally {
    pool.close();
    dropFactsScratch();
  }
}

/** Builds the smallest objects waiting in this thread, one at a time, handing work to the workers between. */
async function buildHere(pool: FactsPool): Promise<void> {
  for (let t = pool.takeHere(); t; t = pool.takeHere()) {
    try {
      t.resolve({ facts: objectFacts(readElf(t.bytes, t.shown)) });
    } catch (e) {
      t.reject(e);
    }
    await new Promise((r) => setImmediate(r));
  }
}

/** The facts as built (the cache entry stored where there is a store). */
function builtFacts(built: Built, shown: string, save: ((body: Buffer) => void) | undefined): ObjectFacts {
  if ("facts" in built) {
    save?.(encodeFacts(built.facts));
    return built.facts;
  }
  save?.(built.body);
  const decoded = decodeFacts(built.body);
  if (!decoded) throw new SysfenceError("E_INTERNAL", `the facts of ${shown} did not decode.`);
  return decoded;
}

/** The values once all are settled; the first rejection in the list's order, if any. */
async function inOrder<T>(list: (T | Promise<T>)[]): Promise<T[]> {
  const settled = await Promise.allSettled(list);
  return settled.map((s) => {
    if (s.status === "rejected") throw s.reason;
    return s.value;
  });
}

/**
 * The head of an object whose facts a worker builds. Where reading it fails, or its machine is not one
 * analysed, the object is read whole here: the error is the one factsOf would throw.
 */
function headOf(bytes: Buffer, shown: string): ObjectHead {
  let elf: ReturnType<typeof readElfHead>;
  try {
    elf = readElfHead(bytes, shown);
  } catch (e) {
    readElf(bytes, shown);
    throw e;
  }
  const arch = elf.machine === EM_X86_64 ? "x86_64" : elf.machine === EM_AARCH64 ? "aarch64" : undefined;
  if (!arch) {
    objectContext(readElf(bytes, shown));
    throw new SysfenceError("E_INTERNAL", `${shown}: machine ${elf.machine} passed objectContext.`);
  }
  return {
    arch,
    soname: elf.dynamic.soname,
    needed: elf.dynamic.needed,
    runpath: elf.dynamic.runpath,
    rpath: elf.dynamic.rpath,
    interp: elf.interp,
  };
}

/** One analysis's notes and store; the kept result's key, and the result when it still stands. */
interface Run {
  notes: string[];
  note: (n: string) => void;
  store?: PrivateStore;
  keptKey?: string;
  kept?: AnalyzeResult;
}

function begin(path: string, options: AnalyzeOptions): Run {
  const notes: string[] = [];
  const note = (n: string) => {
    notes.push(n);
    options.onNote?.(n);
  };
  let store: PrivateStore | undefined;
  if (options.cache !== false) {
    const s = openPrivateStore("analysis", true, process.env, "analysis cache");
    if ("get" in s) store = s;
    else if (s.note) note(s.note);
  }
  if (!store) return { notes, note };
  const keptKey = resultKey(path, options);
  const kept = keptResult(path, options, store, keptKey);
  if (kept) {
    for (const n of kept.notes) options.onNote?.(n);
    options.onProgress?.({ step: "reach", objects: kept.libraries.length });
  }
  return { notes, note, store, keptKey, kept };
}

/**
 * The kept result when the libraries found again from its heads are the same files, unchanged (each one
 * found is told to onProgress, as in a run without it; a miss then starts again from the program).
 */
function keptResult(path: string, options: AnalyzeOptions, store: PrivateStore, key: string) {
  return readKeptResult<AnalyzeResult>(store, key, (read) => {
    const quiet: Run = { notes: [], note: () => {}, store };
    const table = discover(path, options, quiet, read);
    return { reals: table.objects.map((o) => o.real), missing: table.missing };
  });
}

/** The program and every object it loads, read (or being read) in load order. */
function discover(
  path: string,
  options: AnalyzeOptions,
  run: Run,
  read: (real: string, shown: string) => ReadObject,
): ObjectTable {
  const programReal = resolve(path);
  // the program is read once: its head says its architecture (an unknown machine is an E_ANALYZE there)
  options.onProgress?.({ step: "object", objects: 0, path });
  const program = read(programReal, path);
  const arch = program.head.arch;
  if (options.arch && options.arch !== arch)
    throw new SysfenceError("E_ANALYZE", `${path} is an ${arch} program, not ${options.arch}.`);
  const root: Root = {
    sysroot: options.sysroot ? resolve(options.sysroot) : undefined,
    machine: MACHINES[arch],
    triplet: arch === "x86_64" ? "x86_64-linux-gnu" : "aarch64-linux-gnu",
    platform: arch,
  };
  const table = new ObjectTable(root, arch, read, options.onProgress);
  table.add(programReal, path, { role: "program" }, program);
  table.loadAll(options.dlopened ?? [], run.note);
  return table;
}

/** The reach over the objects' facts, as the result. */
function finish(
  path: string,
  options: AnalyzeOptions,
  table: ObjectTable,
  run: Run,
  facts: ObjectFacts[],
): AnalyzeResult {
  const objects: LoadedObject[] = table.objects.map(({ read, ...o }, i) => ({
    ...o,
    facts: facts[i],
    cached: read.cached,
  }));
  const { missing } = table;
  for (const o of objects)
    if (o.facts.go)
      run.note(
        `${o.name} is a Go binary: its syscall sites take the number from their callers; unresolved sites are counted`,
      );
  if (missing.length) run.note(`not found: ${missing.join(", ")} — their calls are not in the result`);
  options.onProgress?.({ step: "reach", objects: objects.length });
  const result = resultOf(path, table.arch, table.root, objects, missing, run.notes);
  if (run.store && run.keptKey) keepResult(run.store, run.keptKey, table.objects, result);
  return result;
}

const PLAIN_NAME = /^[a-z0-9_ ]*$/;
const rank = (c: number) => (c === 0x20 ? 0 : c === 0x5f ? 1 : c); // then digits (0x30…), letters (0x61…)

/**
 * The order localeCompare gives syscall names: for [a-z0-9_ ] that is ICU's root order (space, "_", digits,
 * letters; a prefix first), compared here without building a collator — its first use cost tens of
 * milliseconds of every analysis. Any other name goes to localeCompare.
 */
export function nameOrder(a: string, b: string): number {
  if (!PLAIN_NAME.test(a) || !PLAIN_NAME.test(b)) return a.localeCompare(b);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = rank(a.charCodeAt(i)) - rank(b.charCodeAt(i));
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** The reach across the loaded objects, as analyze()'s result. */
function resultOf(
  path: string,
  arch: "x86_64" | "aarch64",
  root: Root,
  objects: readonly LoadedObject[],
  missing: string[],
  notes: string[],
): AnalyzeResult {
  const r = reachSyscalls(objects as LoadedObject[]);
  const syscalls: Record<string, { via: string[] }> = {};
  const name = (nr: number) => syscallName(arch as ArchName, nr) ?? `nr ${nr}`;
  for (const [nr, via] of [...r.syscalls.entries()].sort((a, b) => nameOrder(name(a[0]), name(b[0]))))
    syscalls[name(nr)] = { via };
  const every = new Set<string>();
  for (const o of objects) for (const n of o.facts.allSyscalls) every.add(name(n));
  return {
    program: path,
    arch,
    syscalls,
    unresolved: r.unresolved,
    everySite: [...every].sort(),
    libraries: objects.map((o, i) => ({
      path: logicalPath(root, o.real),
      soname: o.facts.soname,
      buildId: o.facts.buildId,
      functions: o.facts.starts.length,
      reached: r.reached[i],
      sites: o.facts.sites,
      unresolvedSites: o.facts.unresolvedSites,
      cached: o.cached,
      dlopened: o.dlopened || undefined,
    })),
    missing,
    notes,
  };
}
