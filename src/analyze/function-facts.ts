// The last steps of objectFacts (facts.ts): what each function does (perFunction: its syscall sites, calls,
// imports, address references and data reads), then which functions are syscall(2)-like wrappers and what
// numbers their callers pass (wrappers).
import type { DataPartitions, FunctionStarts, ObjectContext } from "./object-context.js";
import { type JumpIndex, K_CALL, K_ICALL, K_JMP, K_SYSCALL, type OpStream } from "./ops.js";
import { argConstants, argRegister, UNLESS_UNKNOWN, valuesBefore } from "./values-before.js";

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

/** Everything the per-function scan reads: the object, its decoded code and the earlier steps' results. */
export interface CodeContext extends ObjectContext, FunctionStarts {
  code: OpStream;
  /** Jumps by target (jumpTargets). */
  preds: JumpIndex;
  /** PLT stub → GOT slot (pltSlots). */
  stubSlot: Map<number, number>;
  partOf: DataPartitions["partOf"];
}

/**
 * Direct calls and tail jumps to local functions, as flat quadruples (caller, insn index, callee, 1 for a
 * tail jump else 0): a tuple per call
 * was hundreds of thousands of arrays per large library, kept until wrappers() had read them.
 */
export type LocalCalls = number[];

export interface PerFunction {
  functions: FunctionFacts[];
  /** Every syscall number any site makes. */
  all: Set<number>;
  sites: number;
  unresolvedSites: number;
  localCalls: LocalCalls;
}

/** The lists a function has none of share this one until an item is added (frozen: a push throws). */
const NONE: never[] = Object.freeze([]) as unknown as never[];

/**
 * The items of one function's list (callees, imports, references, data partitions) in the order first
 * met, each once: a list and, per item, the last function (+ 1) it was added for — no Set per function
 * (five per function were much of an uncached analysis's garbage).
 */
class Once {
  list: number[] = NONE;
  private mark = new Int32Array(64);
  private stamp = 0;

  add(x: number): void {
    if (x >= this.mark.length) {
      const grown = new Int32Array(Math.max(x + 1, this.mark.length * 2));
      grown.set(this.mark);
      this.mark = grown;
    }
    if (this.mark[x] === this.stamp) return;
    this.mark[x] = this.stamp;
    if (this.list === NONE) this.list = [];
    this.list.push(x);
  }

  /** Starts function f's list. */
  begin(f: number): void {
    this.list = NONE;
    this.stamp = f + 1;
  }
}

/** One function under scan: its facts and the lists they are gathered in. */
interface Scan {
  f: number;
  first: number;
  ff: FunctionFacts;
  sys: Set<number> | undefined;
  calls: Once;
  imports: Once;
  refs: Once;
  dataRefs: Once;
}

const emptyFacts = (): FunctionFacts => ({
  sys: NONE,
  unresolved: 0,
  wrapperArg: -1,
  calls: NONE,
  imports: NONE,
  importArgs: NONE,
  wrapperCalls: NONE,
  refs: NONE,
  dataRefs: NONE,
});

/** Scans every function's instructions. */
export function perFunction(cx: CodeContext): PerFunction {
  const { code, starts, firstInsn } = cx;
  const out: PerFunction = {
    functions: starts.map(emptyFacts),
    all: new Set<number>(),
    sites: 0,
    unresolvedSites: 0,
    localCalls: [],
  };
  const s: Scan = {
    f: 0,
    first: 0,
    ff: out.functions[0],
    sys: undefined,
    calls: new Once(),
    imports: new Once(),
    refs: new Once(),
    dataRefs: new Once(),
  };
  const { kind, val } = code;
  for (let f = 0; f < starts.length; f++) {
    const ff = out.functions[f];
    const first = firstInsn[f];
    const end = f + 1 < starts.length ? firstInsn[f + 1] : code.n;
    // a jump leaves the function when its target is outside [lo, hi) (NaN: no target, as before)
    const lo = starts[f];
    const hi = f + 1 < starts.length ? starts[f + 1] : Number.POSITIVE_INFINITY;
    s.f = f;
    s.first = first;
    s.ff = ff;
    s.sys = undefined;
    s.calls.begin(f);
    s.imports.begin(f);
    s.refs.begin(f);
    s.dataRefs.begin(f);
    for (let i = first; i < end; i++) {
      const k = kind[i];
      if (k === K_SYSCALL) syscallSite(cx, out, s, i);
      else if (k === K_CALL || (k === K_JMP && (val[i] < lo || !(val[i] < hi)))) callSite(cx, out, s, i);
      else referenceSite(cx, s, i);
    }
    if (s.sys) ff.sys = [...s.sys].sort((a, b) => a - b);
    ff.calls = s.calls.list;
    ff.imports = s.imports.list;
    ff.refs = s.refs.list;
    ff.dataRefs = s.dataRefs.list;
  }
  return out;
}

/** A syscall instruction: the numbers it makes, or the parameter it takes the number from (a wrapper). */
function syscallSite(cx: CodeContext, out: PerFunction, s: Scan, i: number): void {
  const { ff } = s;
  out.sites++;
  const v = valuesBefore(cx.code, cx.isa, cx.preds, s.first, i, cx.isa.nrReg);
  for (const n of v.values) {
    s.sys ??= new Set();
    s.sys.add(n);
    out.all.add(n);
  }
  if (v.params.size === 1 && !v.unknown && v.values.size === 0) ff.wrapperArg = [...v.params][0];
  else if (v.unknown || v.params.size) {
    ff.unresolved++;
    out.unresolvedSites++;
  }
}

/** A call, or a jump out of the function: through a PLT stub to an import, or to a local function. */
function callSite(cx: CodeContext, out: PerFunction, s: Scan, i: number): void {
  const { code, isa, preds, inExec, fnOf } = cx;
  const { ff, f, first } = s;
  const k = code.kind[i];
  const target = code.val[i];
  const slot = cx.stubSlot.get(target);
  if (slot !== undefined) {
    const t = cx.slotTarget(slot);
    if (t?.name !== undefined) {
      s.imports.add(t.name);
      if (k === K_CALL) pushArgs(ff, t.name, argConstants(code, isa, preds, first, i));
    } else if (t?.local !== undefined && inExec(t.local)) {
      if (fnOf(t.local) >= 0) s.calls.add(fnOf(t.local));
      else ff.unresolved++;
    }
  } else if (inExec(target)) {
    const callee = fnOf(target);
    // code before the first function start (a damaged or unusual file): nothing is known of it, so
    // the call is counted as unresolved (the result says it is partial) rather than followed
    if (callee < 0) ff.unresolved++;
    else {
      s.calls.add(callee);
      out.localCalls.push(f, i, callee, k !== K_CALL ? 1 : 0);
    }
  }
}

/** Any other instruction with an address: a call or load through a GOT slot, a function's address, or data. */
function referenceSite(cx: CodeContext, s: Scan, i: number): void {
  const { code, isa, preds, inExec, inData, fnOf } = cx;
  const ref = code.ref[i];
  if (Number.isNaN(ref)) return;
  const t = cx.slotTarget(ref);
  if (t?.name !== undefined) {
    s.imports.add(t.name);
    if (code.kind[i] === K_ICALL) pushArgs(s.ff, t.name, argConstants(code, isa, preds, s.first, i));
  } else if (t?.local !== undefined && inExec(t.local)) {
    if (fnOf(t.local) >= 0) s.refs.add(fnOf(t.local));
  } else if (cx.startSet.has(ref) || (inExec(ref) && fnOf(ref) !== s.f)) {
    if (fnOf(ref) >= 0) s.refs.add(fnOf(ref));
  } else if (inData(ref)) {
    const p = cx.partOf(ref);
    if (p >= 0) s.dataRefs.add(p);
  }
}

/** Keeps (a copy of) a call's argument constants only when there is one (a wrapper's callers need nothing else). */
function pushArgs(ff: FunctionFacts, name: number, args: (number | null)[]): void {
  if (!args.some((a) => a !== null)) return;
  if (ff.importArgs === NONE) ff.importArgs = [];
  ff.importArgs.push([name, args.slice()]);
}

/**
 * Wrappers of wrappers (Go: callers → syscall.Syscall → its ABI0 body): a function that passes its own
 * parameter on as a wrapper's number is a wrapper too. Then the calls to local wrappers: the number passed
 * in the wrapper's argument register.
 */
export function wrappers(cx: CodeContext, functions: FunctionFacts[], localCalls: LocalCalls): void {
  const { code, isa, preds, firstInsn } = cx;
  for (let round = 0; round < 4; round++) {
    let changed = false;
    for (let c = 0; c < localCalls.length; c += 4) {
      const caller = localCalls[c];
      const i = localCalls[c + 1];
      const callee = localCalls[c + 2];
      const tail = localCalls[c + 3] === 1;
      const k = functions[callee].wrapperArg;
      if (k < 0 || functions[caller].wrapperArg >= 0 || caller === callee) continue;
      const v = valuesBefore(
        code,
        isa,
        preds,
        firstInsn[caller],
        i,
        argRegister(isa, k, tail),
        UNLESS_UNKNOWN,
      );
      if (v.params.size === 1 && v.values.size === 0 && !v.unknown) {
        functions[caller].wrapperArg = [...v.params][0];
        changed = true;
      }
    }
    if (!changed) break;
  }
  for (let c = 0; c < localCalls.length; c += 4) {
    const caller = localCalls[c];
    const i = localCalls[c + 1];
    const callee = localCalls[c + 2];
    const tail = localCalls[c + 3] === 1;
    const k = functions[callee].wrapperArg;
    if (k < 0 || functions[caller].wrapperArg >= 0) continue;
    const v = valuesBefore(code, isa, preds, firstInsn[caller], i, argRegister(isa, k, tail), UNLESS_UNKNOWN);
    const known = !v.unknown && v.params.size === 0 && v.values.size > 0;
    const ff = functions[caller];
    if (ff.wrapperCalls === NONE) ff.wrapperCalls = [];
    if (known) for (const n of v.values) ff.wrapperCalls.push([callee, n]);
    else ff.wrapperCalls.push([callee, null]);
  }
}
