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
  const objects: (LoadedFacts & { real: string; cached: boolean })[] = [];
  const byReal = new Map<string, number>();
  const bySoname = new Map<string, number>();
  const missing: string[] = [];
  const add = (
    real: string,
    shown: string,
    extra: Partial<LoadedFacts>,
    read?: { facts: ObjectFacts; cached: boolean },
  ): number => {
    const known = byReal.get(real);
    if (known !== undefined) return known;
    if (!read) options.onProgress?.({ step: "object", objects: objects.length, path: shown });
    const { facts, cached } = read ?? factsOf(real, shown, store);
    if (facts.arch !== arch)
      throw new SysfenceError("E_ANALYZE", `${shown} is ${facts.arch}, the program ${arch}.`);
    const i = objects.length;
    objects.push({ name: facts.soname ?? basename(shown), facts, real, cached, ...extra });
    byReal.set(real, i);
    if (facts.soname) bySoname.set(facts.soname, i);
    return i;
  };
  add(programReal, path, { role: "program" }, program);
  const programPath = { path: logicalPath(root, programReal), rpath: program.facts.rpath };
  // breadth-first, as the loader builds the global scope
  const loadDeps = (from: number) => {
    const queue = [from];
    while (queue.length) {
      const oi = queue.shift() as number;
      const o = objects[oi];
      for (const name of o.facts.needed) {
        if (bySoname.has(name)) continue;
        const real = findLibrary(
          root,
          name,
          { path: logicalPath(root, o.real), runpath: o.facts.runpath, rpath: o.facts.rpath },
          oi === 0 ? undefined : programPath,
        );
        if (!real) {
          if (!missing.includes(name)) missing.push(name);
          continue;
        }
        const before = objects.length;
        const j = add(real, logicalPath(root, real), {});
        if (j === before) queue.push(j);
      }
    }
  };
  loadDeps(0);
  const interp = objects[0].facts.interp;
  if (interp) {
    const real = realInRoot(root, interp);
    if (!real) missing.push(interp);
    else {
      const j = add(real, interp, {});
      objects[j].role = objects[j].role ?? "interpreter";
    }
  }
  for (const d of options.dlopened ?? []) {
    const real = realInRoot(root, d);
    if (!real) {
      note(`the recorded library ${d} was not found${root.sysroot ? ` under ${root.sysroot}` : ""}`);
      continue;
    }
    if (!rightMachine(root, real)) {
      note(`${d} (opened by the recording) is not an ${arch} shared object; left out`);
      continue;
    }
    // a library the program loaded at start (ld.so opens them too) is not a dlopened one
    if (byReal.has(real)) continue;
    const j = add(real, d, { dlopened: true });
    loadDeps(j);
  }
  for (const o of objects)
    if (o.facts.go)
      note(
        `${o.name} is a Go binary: its syscall sites take the number from their callers; unresolved sites are counted`,
      );
  if (missing.length) note(`not found: ${missing.join(", ")} — their calls are not in the result`);

  options.onProgress?.({ step: "reach", objects: objects.length });
  const r = reachSyscalls(objects);
  const syscalls: Record<string, { via: string[] }> = {};
  const name = (nr: number) => syscallName(arch as ArchName, nr) ?? `nr ${nr}`;
  for (const [nr, via] of [...r.syscalls.entries()].sort((a, b) => name(a[0]).localeCompare(name(b[0]))))
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
