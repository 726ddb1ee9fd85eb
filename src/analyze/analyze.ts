// `analyze(path)`: the syscalls a program and everything it loads can make, from the ELF files alone —
// the upper bound a recording (the lower bound) is checked against. Reads the program, finds its
// libraries as the loader does (libraries.ts), builds each object's facts once per content (cached in
// the private store, object-cache.ts), and reaches across them (reach.ts).
import { basename, resolve } from "node:path";
import { SysfenceError } from "../errors.js";
import type { ArchName } from "../syscalls/arches.js";
import { syscallName } from "../syscalls/table.js";
import { openPrivateStore, type PrivateStore } from "../util/private-store.js";
import { EM_AARCH64, EM_X86_64 } from "./elf.js";
import type { ObjectFacts } from "./facts.js";
import { findLibrary, logicalPath, type Root, realInRoot, rightMachine } from "./libraries.js";
import { factsOf } from "./object-cache.js";
import { type LoadedFacts, reachSyscalls } from "./reach.js";

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

/** Analyses a program and its libraries. */
export function analyze(path: string, options: AnalyzeOptions = {}): AnalyzeResult {
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
  const programReal = resolve(path);
  // the program is read once: its facts say its architecture (an unknown machine is an E_ANALYZE there)
  options.onProgress?.({ step: "object", objects: 0, path });
  const program = factsOf(programReal, path, store);
  const arch = program.facts.arch;
  if (options.arch && options.arch !== arch)
    throw new SysfenceError("E_ANALYZE", `${path} is an ${arch} program, not ${options.arch}.`);
  const root: Root = {
    sysroot: options.sysroot ? resolve(options.sysroot) : undefined,
    machine: MACHINES[arch],
    triplet: arch === "x86_64" ? "x86_64-linux-gnu" : "aarch64-linux-gnu",
    platform: arch,
  };
  const table = new ObjectTable(root, arch, store, options.onProgress);
  table.add(programReal, path, { role: "program" }, program);
  table.loadAll(options.dlopened ?? [], note);
  const { objects, missing } = table;
  for (const o of objects)
    if (o.facts.go)
      note(
        `${o.name} is a Go binary: its syscall sites take the number from their callers; unresolved sites are counted`,
      );
  if (missing.length) note(`not found: ${missing.join(", ")} — their calls are not in the result`);
  options.onProgress?.({ step: "reach", objects: objects.length });
  return resultOf(path, arch, root, objects, missing, notes);
}

type LoadedObject = LoadedFacts & { real: string; cached: boolean };

/**
 * The objects of one analysis in load order (the program first), found as the loader finds them: its
 * needed libraries breadth-first, the interpreter, then the recorded dlopened libraries and theirs.
 */
class ObjectTable {
  readonly objects: LoadedObject[] = [];
  readonly missing: string[] = [];
  private readonly byReal = new Map<string, number>();
  private readonly bySoname = new Map<string, number>();

  constructor(
    private readonly root: Root,
    private readonly arch: "x86_64" | "aarch64",
    private readonly store: PrivateStore | undefined,
    private readonly onProgress: AnalyzeOptions["onProgress"],
  ) {}

  /** The object's index, read (or found in the cache) the first time its real path is seen. */
  add(
    real: string,
    shown: string,
    extra: Partial<LoadedFacts>,
    read?: { facts: ObjectFacts; cached: boolean },
  ) {
    const known = this.byReal.get(real);
    if (known !== undefined) return known;
    if (!read) this.onProgress?.({ step: "object", objects: this.objects.length, path: shown });
    const { facts, cached } = read ?? factsOf(real, shown, this.store);
    if (facts.arch !== this.arch)
      throw new SysfenceError("E_ANALYZE", `${shown} is ${facts.arch}, the program ${this.arch}.`);
    const i = this.objects.length;
    this.objects.push({ name: facts.soname ?? basename(shown), facts, real, cached, ...extra });
    this.byReal.set(real, i);
    if (facts.soname) this.bySoname.set(facts.soname, i);
    return i;
  }

  /** Everything the program (object 0) loads: needed libraries, the interpreter, the dlopened ones. */
  loadAll(dlopened: readonly string[], note: (n: string) => void): void {
    this.loadDeps(0);
    const interp = this.objects[0].facts.interp;
    if (interp) {
      const real = realInRoot(this.root, interp);
      if (!real) this.missing.push(interp);
      else {
        const j = this.add(real, interp, {});
        this.objects[j].role = this.objects[j].role ?? "interpreter";
      }
    }
    for (const d of dlopened) {
      const real = realInRoot(this.root, d);
      if (!real) {
        note(
          `the recorded library ${d} was not found${this.root.sysroot ? ` under ${this.root.sysroot}` : ""}`,
        );
        continue;
      }
      if (!rightMachine(this.root, real)) {
        note(`${d} (opened by the recording) is not an ${this.arch} shared object; left out`);
        continue;
      }
      // a library the program loaded at start (ld.so opens them too) is not a dlopened one
      if (this.byReal.has(real)) continue;
      this.loadDeps(this.add(real, d, { dlopened: true }));
    }
  }

  /** The needed libraries of object `from` and theirs, breadth-first, as the loader builds the global scope. */
  private loadDeps(from: number): void {
    const root = this.root;
    const program = this.objects[0];
    const programPath = { path: logicalPath(root, program.real), rpath: program.facts.rpath };
    const queue = [from];
    while (queue.length) {
      const oi = queue.shift() as number;
      const o = this.objects[oi];
      for (const name of o.facts.needed) {
        if (this.bySoname.has(name)) continue;
        const real = findLibrary(
          root,
          name,
          { path: logicalPath(root, o.real), runpath: o.facts.runpath, rpath: o.facts.rpath },
          oi === 0 ? undefined : programPath,
        );
        if (!real) {
          if (!this.missing.includes(name)) this.missing.push(name);
          continue;
        }
        const before = this.objects.length;
        const j = this.add(real, logicalPath(root, real), {});
        if (j === before) queue.push(j);
      }
    }
  }
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
