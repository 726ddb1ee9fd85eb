// Which functions of a program and its libraries can run, and so which syscalls they can make. Roots:
// every function of the program itself (its own code is live), every loaded object's initialisers and
// finalisers, the dynamic loader's entry, and everything a dlopened library exports. From a reached
// function: its callees, the functions whose address it takes, the function pointers in the data it
// reads, and the imported symbols it calls — found in the global scope in load order, as the loader
// binds them. Pure: it takes facts.
import type { FunctionFacts, ObjectFacts, Partition } from "./facts.js";

export interface LoadedFacts {
  /** A short name for messages (soname or file name). */
  name: string;
  facts: ObjectFacts;
  /** Loaded by dlopen (a recording saw it): everything it exports is a root. */
  dlopened?: boolean;
  /** The program (its every function is a root) or the dynamic loader (its entry is). */
  role?: "program" | "interpreter";
}

export interface Reach {
  /** Syscall number → why it is reachable (up to 5 reasons). */
  syscalls: Map<number, string[]>;
  /** Reached syscall sites (and wrapper calls) whose number is not known. */
  unresolved: number;
  /** Reached functions per object. */
  reached: number[];
}

const MAX_VIA = 5;

/**
 * The reach's work list as parallel lists (a tuple per entry was most of a cached run's garbage), each
 * function queued by push() once: a later entry for a function already queued would be skipped when
 * its turn came (the first entry is taken first), so it is not made.
 */
class WorkList {
  private readonly queued: Uint8Array[];
  private readonly ois: number[] = [];
  private readonly fns: number[] = [];
  private readonly vias: string[] = [];
  oi = 0;
  fn = 0;
  via = "";

  constructor(objects: LoadedFacts[]) {
    this.queued = objects.map((o) => new Uint8Array(o.facts.starts.length));
  }

  get length(): number {
    return this.fns.length;
  }

  addOnce(oi: number, fn: number, via: string): void {
    if (this.queued[oi][fn]) return;
    this.queued[oi][fn] = 1;
    this.add(oi, fn, via);
  }

  add(oi: number, fn: number, via: string): void {
    this.ois.push(oi);
    this.fns.push(fn);
    this.vias.push(via);
  }

  /** Entry w, read into oi, fn and via (this, not a new object). */
  take(w: number): this {
    this.oi = this.ois[w];
    this.fn = this.fns[w];
    this.via = this.vias[w];
    return this;
  }
}

/** More objects than one analysis loads: a bound import is one number, OBJECTS * function + object. */
const OBJECTS = 2 ** 20;

const UNREAD = -2;

/**
 * The global scope's binding of a name: its first definition in load order, as OBJECTS * function + object,
 * or -1. Looked up object by object for each name an object imports, once (a map of every export of every
 * object cost more: node's own binary exports tens of thousands of names, a few hundred are bound).
 */
function bindName(objects: LoadedFacts[], name: string): number {
  for (let oi = 0; oi < objects.length; oi++) {
    const exports = objects[oi].facts.exports;
    if (Object.hasOwn(exports, name)) return OBJECTS * exports[name] + oi;
  }
  return -1;
}

/** Each object's imports as the global scope binds them, and the wrapper argument of a target, each read once. */
class Binder {
  // a target as OBJECTS * fn + oi, -1 for none, NaN before it is looked up
  private readonly bound: Float64Array[];
  // the syscall(2)-like wrappers' argument (functions.get makes a function's facts each time it is asked)
  private readonly wrapperArgs: Int32Array[];

  constructor(private readonly objects: LoadedFacts[]) {
    this.bound = objects.map((o) => new Float64Array(o.facts.names.length).fill(Number.NaN));
    this.wrapperArgs = objects.map((o) => new Int32Array(o.facts.starts.length).fill(UNREAD));
  }

  /** Name nameIdx of object oi bound: OBJECTS * function + object, or -1. */
  resolve(oi: number, nameIdx: number): number {
    let t = this.bound[oi][nameIdx];
    if (Number.isNaN(t)) {
      t = bindName(this.objects, this.objects[oi].facts.names[nameIdx]);
      this.bound[oi][nameIdx] = t;
    }
    return t;
  }

  /** The argument a function takes the syscall number in, when it is a syscall(2)-like wrapper; else -1. */
  wrapperArg(oi: number, fn: number): number {
    let k = this.wrapperArgs[oi][fn];
    if (k === UNREAD) {
      k = this.objects[oi].facts.functions.get(fn).wrapperArg;
      this.wrapperArgs[oi][fn] = k;
    }
    return k;
  }
}

/** The numbers a function passes in argument k at its calls to import n (each told to record); how many. */
function wrapperNumbers(f: FunctionFacts, n: number, k: number, record: (nr: number) => void): number {
  let known = 0;
  for (const [name, args] of f.importArgs) {
    if (name !== n) continue;
    const nr = args[k];
    if (nr !== null) {
      record(nr);
      known++;
    }
  }
  return known;
}

export function reachSyscalls(objects: LoadedFacts[]): Reach {
  const binder = new Binder(objects);
  const reached = objects.map((o) => new Uint8Array(o.facts.starts.length));
  const partsReached = objects.map((o) => new Uint8Array(o.facts.partitions.length));
  const objectTouched = new Uint8Array(objects.length);
  const syscalls = new Map<number, string[]>();
  let unresolved = 0;
  const work = new WorkList(objects);

  const record = (nr: number, via: string) => {
    const list = syscalls.get(nr);
    if (!list) syscalls.set(nr, [via]);
    else if (list.length < MAX_VIA && !list.includes(via)) list.push(via);
  };
  const touch = (oi: number) => {
    if (objectTouched[oi]) return;
    objectTouched[oi] = 1;
    const o = objects[oi];
    const why = o.role === "interpreter" ? `the dynamic loader (${o.name})` : `initialisers of ${o.name}`;
    for (const f of o.facts.roots) work.add(oi, f, why);
    // an initialiser named by a symbolic relocation runs as the global scope binds it
    for (const n of o.facts.rootNames) {
      const t = resolveName(oi, n);
      if (t >= 0) push(t % OBJECTS, Math.floor(t / OBJECTS), why);
    }
    reachPartition(oi, o.facts.orphan, `function pointers in ${o.name}`);
  };
  const push = (oi: number, fn: number, via: string) => {
    if (fn < 0 || reached[oi][fn]) return;
    work.addOnce(oi, fn, via);
  };
  const resolveName = (oi: number, nameIdx: number) => binder.resolve(oi, nameIdx);
  const viaImport = (oi: number, nameIdx: number, via: string) =>
    objects[oi].role === "program" ? objects[oi].facts.names[nameIdx] : via;
  function reachPartition(oi: number, p: Partition, via: string) {
    for (const f of p.fns) push(oi, f, via);
    for (const n of p.names) {
      const t = resolveName(oi, n);
      if (t >= 0) push(t % OBJECTS, Math.floor(t / OBJECTS), viaImport(oi, n, via));
    }
    for (const q of p.parts) {
      if (partsReached[oi][q]) continue;
      partsReached[oi][q] = 1;
      reachPartition(oi, objects[oi].facts.partitions.get(q), via);
    }
  }

  objects.forEach((o, oi) => {
    if (o.role === "program") {
      for (let f = 0; f < o.facts.starts.length; f++) push(oi, f, `${o.name} (its own code)`);
    }
    if (o.role === "program" || o.role === "interpreter" || o.dlopened) touch(oi);
    if (o.dlopened)
      for (const [name, f] of Object.entries(o.facts.exports)) push(oi, f, `${name} (dlopened ${o.name})`);
  });
  // the loader runs every loaded object's initialisers
  for (let oi = 0; oi < objects.length; oi++) touch(oi);

  // breadth first: a syscall's first reason is the shortest way to it
  for (let w = 0; w < work.length; w++) {
    const { oi, fn, via } = work.take(w);
    if (reached[oi][fn]) continue;
    reached[oi][fn] = 1;
    const o = objects[oi];
    const f = o.facts.functions.get(fn);
    for (const n of f.sys) record(n, via);
    unresolved += f.unresolved;
    for (const [, n] of f.wrapperCalls) {
      if (n === null) unresolved++;
      else record(n, via);
    }
    for (const c of f.calls) push(oi, c, via);
    for (const r of f.refs) push(oi, r, via);
    for (const p of f.dataRefs) {
      if (partsReached[oi][p]) continue;
      partsReached[oi][p] = 1;
      reachPartition(oi, o.facts.partitions.get(p), via);
    }
    for (const n of f.imports) {
      const t = resolveName(oi, n);
      if (t < 0) continue;
      const toi = t % OBJECTS;
      const tfn = Math.floor(t / OBJECTS);
      const label = viaImport(oi, n, via);
      push(toi, tfn, label);
      const k = binder.wrapperArg(toi, tfn);
      // a call to a syscall(2)-like wrapper in another object: the numbers at this function's call sites
      if (k >= 0 && wrapperNumbers(f, n, k, (nr) => record(nr, label)) === 0) unresolved++;
    }
  }
  return { syscalls, unresolved, reached: reached.map((r) => r.reduce((a, b) => a + b, 0)) };
}
