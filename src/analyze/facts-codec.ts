// The stored form of an object's facts (the body of an analysis cache entry, object-cache.ts): binary, so a
// cached analysis neither parses megabytes of JSON nor builds an object per function up front — it reads
// a small JSON head (names, exports, roots, libraries needed) and keeps the per-function and per-partition
// facts as typed arrays, decoded one function at a time when the reach first visits it (FactsTable).
//
// Layout (the host's byte order, which the header records; sections 8-byte aligned):
//   header   10 × u32: magic "SFAF", byte-order mark 0x01020304, FACTS_VERSION, head bytes, fnNames
//            bytes, functions (F), partitions (P), ints (I), values (V), 0
//   head     JSON of every ObjectFacts field but starts, functions, partitions and fnNames
//   fnNames  JSON of fnNames (parsed only when asked for: the reach never does); zero-padded to 8
//   starts   F × f64: function start addresses
//   values   V × f64: per function its syscall numbers, the argument constants of its import calls and
//            the numbers it passes to local wrappers (NaN for null)
//   offsets  (F + 1) × i32 into ints, (F + 1) × i32 into values, (P + 1) × i32 into ints
//   ints     I × i32: per function [unresolved, wrapperArg, then the counts of sys, calls, imports,
//            importArgs, wrapperCalls, refs, dataRefs; then calls, imports, (name, argument count) per
//            import call, wrapper callees, refs, dataRefs]; per partition [counts of fns, names, parts;
//            then fns, names, parts]
// The entry's HMAC (util/private-store.ts) already stands for its integrity; decoding still checks that
// every count and offset fits, and anything else is a miss (undefined), never an exception.
import { SysfenceError } from "../errors.js";
import { FACTS_VERSION, FactsTable, type FunctionFacts, type ObjectFacts, type Partition } from "./facts.js";

const MAGIC = 0x46414653; // "SFAF" little-endian
const BOM = 0x01020304;
const HEADER_WORDS = 10;
const FN_FIXED = 9; // unresolved, wrapperArg and seven counts
const PART_FIXED = 3;

const pad8 = (n: number) => (n + 7) & ~7;

type Head = Omit<ObjectFacts, "starts" | "functions" | "partitions" | "fnNames">;

/** The entry body of an object's facts. */
export function encodeFacts(facts: ObjectFacts): Buffer {
  const { starts, functions, partitions, fnNames, ...rest } = facts;
  const head = Buffer.from(JSON.stringify(rest));
  const names = Buffer.from(JSON.stringify(fnNames));
  const text = head.length + names.length;
  const ints: number[] = [];
  const vals: number[] = [];
  const F = functions.length;
  const P = partitions.length;
  const fnInt = new Int32Array(F + 1);
  const fnVal = new Int32Array(F + 1);
  const partInt = new Int32Array(P + 1);
  for (let i = 0; i < F; i++) {
    fnInt[i] = ints.length;
    fnVal[i] = vals.length;
    const f = functions.get(i);
    ints.push(f.unresolved, f.wrapperArg, f.sys.length, f.calls.length, f.imports.length);
    ints.push(f.importArgs.length, f.wrapperCalls.length, f.refs.length, f.dataRefs.length);
    for (const c of f.calls) ints.push(c);
    for (const n of f.imports) ints.push(n);
    for (const [name, args] of f.importArgs) ints.push(name, args.length);
    for (const [callee] of f.wrapperCalls) ints.push(callee);
    for (const r of f.refs) ints.push(r);
    for (const d of f.dataRefs) ints.push(d);
    for (const n of f.sys) vals.push(n);
    for (const [, args] of f.importArgs) for (const a of args) vals.push(a ?? Number.NaN);
    for (const [, n] of f.wrapperCalls) vals.push(n ?? Number.NaN);
  }
  fnInt[F] = ints.length;
  fnVal[F] = vals.length;
  for (let p = 0; p < P; p++) {
    partInt[p] = ints.length;
    const q = partitions.get(p);
    ints.push(q.fns.length, q.names.length, q.parts.length);
    for (const x of q.fns) ints.push(x);
    for (const x of q.names) ints.push(x);
    for (const x of q.parts) ints.push(x);
  }
  partInt[P] = ints.length;
  const header = new Uint32Array([
    MAGIC,
    BOM,
    FACTS_VERSION,
    head.length,
    names.length,
    F,
    P,
    ints.length,
    vals.length,
    0,
  ]);
  return Buffer.concat([
    Buffer.from(header.buffer),
    head,
    names,
    Buffer.alloc(pad8(text) - text),
    Buffer.from(Float64Array.from(starts).buffer),
    Buffer.from(Float64Array.from(vals).buffer),
    Buffer.from(fnInt.buffer),
    Buffer.from(fnVal.buffer),
    Buffer.from(partInt.buffer),
    Buffer.from(Int32Array.from(ints).buffer),
  ]);
}

/** An offset table is usable: starts at `from`, never decreases, ends at `to`. */
function monotone(off: Int32Array, from: number, to: number): boolean {
  if (off[0] !== from || off[off.length - 1] !== to) return false;
  for (let i = 1; i < off.length; i++) if (off[i] < off[i - 1]) return false;
  return true;
}

/**
 * A record whose counts do not add up to its offsets. The entry's MAC held, so sysfence itself wrote it:
 * an encoder bug, not an attack — said once, with the file to remove.
 */
function damaged(where: string, what: string): never {
  throw new SysfenceError(
    "E_ANALYZE",
    `the analysis cache entry ${where} is damaged (${what} does not fit its offsets); delete it, or run with --no-cache.`,
  );
}

/**
 * Facts from an entry body (`where` names its file for an error); undefined when it is not one: another
 * version or byte order, a truncated body, offsets that do not fit. Each function's and partition's
 * record is checked when it is first decoded (a check of every record up front cost a cached run more than
 * the records it used).
 */
export function decodeFacts(body: Buffer, where = "in memory"): ObjectFacts | undefined {
  try {
    // typed arrays need aligned offsets: a body at an odd place in its buffer is copied once
    const b = body.byteOffset % 8 === 0 ? body : Buffer.from(body);
    if (b.length < HEADER_WORDS * 4) return undefined;
    const words = new Uint32Array(b.buffer, b.byteOffset, HEADER_WORDS);
    const [magic, bom, version, headLen, namesLen, F, P, I, V] = words;
    if (magic !== MAGIC || bom !== BOM || version !== FACTS_VERSION) return undefined;
    const at = HEADER_WORDS * 4;
    const headEnd = at + headLen;
    const startsAt = at + pad8(headLen + namesLen);
    const valsAt = startsAt + F * 8;
    const offAt = valsAt + V * 8;
    const intsAt = offAt + (2 * (F + 1) + P + 1) * 4;
    if (intsAt + I * 4 !== b.length) return undefined;
    const head = JSON.parse(b.toString("utf8", at, headEnd)) as Head;
    const namesJson = b.subarray(headEnd, headEnd + namesLen);
    const starts = new Float64Array(b.buffer, b.byteOffset + startsAt, F);
    const vals = new Float64Array(b.buffer, b.byteOffset + valsAt, V);
    const fnInt = new Int32Array(b.buffer, b.byteOffset + offAt, F + 1);
    const fnVal = new Int32Array(b.buffer, b.byteOffset + offAt + (F + 1) * 4, F + 1);
    const partInt = new Int32Array(b.buffer, b.byteOffset + offAt + 2 * (F + 1) * 4, P + 1);
    const ints = new Int32Array(b.buffer, b.byteOffset + intsAt, I);
    if (!monotone(fnVal, 0, V) || !monotone(fnInt, 0, partInt[0]) || !monotone(partInt, fnInt[F], I))
      return undefined;
    const functions = FactsTable.lazy(F, (i) => {
      const f = functionAt(ints, fnInt[i], vals, fnVal[i]);
      if (f.end !== fnInt[i + 1] || f.endVal !== fnVal[i + 1]) damaged(where, `function ${i}`);
      return f.facts;
    });
    const partitions = FactsTable.lazy(P, (p) => {
      const o = partInt[p];
      const end = o + PART_FIXED + ints[o] + ints[o + 1] + ints[o + 2];
      if (
        o + PART_FIXED > partInt[p + 1] ||
        end !== partInt[p + 1] ||
        Math.min(ints[o], ints[o + 1], ints[o + 2]) < 0
      )
        damaged(where, `partition ${p}`);
      return partitionAt(ints, o);
    });
    const facts: ObjectFacts = { ...head, starts, functions, partitions, fnNames: NONE };
    let fnNames: ObjectFacts["fnNames"] | undefined;
    Object.defineProperty(facts, "fnNames", {
      enumerable: true,
      get: () => {
        try {
          fnNames ??= JSON.parse(namesJson.toString("utf8")) as ObjectFacts["fnNames"];
        } catch {
          fnNames = Array.from(starts, () => null); // names are for people; a damaged list names nothing
        }
        return fnNames;
      },
    });
    return facts;
  } catch {
    return undefined; // a damaged head
  }
}

/** A shared empty list for the many functions without calls, imports or references (never written to). */
const NONE: never[] = [];
Object.freeze(NONE);

function list(ints: Int32Array, at: number, n: number): number[] {
  if (n === 0) return NONE;
  const out = new Array<number>(n);
  for (let k = 0; k < n; k++) out[k] = ints[at + k];
  return out;
}

const EMPTY_FN: FunctionFacts = {
  sys: NONE,
  unresolved: 0,
  wrapperArg: -1,
  calls: NONE,
  imports: NONE,
  importArgs: NONE,
  wrapperCalls: NONE,
  refs: NONE,
  dataRefs: NONE,
};

const orNull = (v: number) => (Number.isNaN(v) ? null : v);

/** The function whose record starts at ints[o] and vals[v], and where its record ends. */
function functionAt(
  ints: Int32Array,
  o: number,
  vals: Float64Array,
  v: number,
): { facts: FunctionFacts; end: number; endVal: number } {
  if (o + FN_FIXED > ints.length) return { facts: EMPTY_FN, end: -1, endVal: -1 };
  for (let k = 2; k < FN_FIXED; k++) if (ints[o + k] < 0) return { facts: EMPTY_FN, end: -1, endVal: -1 };
  const nSys = ints[o + 2];
  const nCalls = ints[o + 3];
  const nImports = ints[o + 4];
  const nArgs = ints[o + 5];
  const nWrap = ints[o + 6];
  const nRefs = ints[o + 7];
  const nData = ints[o + 8];
  let i = o + FN_FIXED;
  const calls = list(ints, i, nCalls);
  i += nCalls;
  const imports = list(ints, i, nImports);
  i += nImports;
  const sys: number[] = nSys ? [] : NONE;
  for (let k = 0; k < nSys; k++) sys.push(vals[v++]);
  const importArgs: FunctionFacts["importArgs"] = nArgs ? [] : NONE;
  for (let a = 0; a < nArgs; a++, i += 2) {
    const argc = ints[i + 1];
    if (!(argc >= 0 && v + argc <= vals.length)) return { facts: EMPTY_FN, end: -1, endVal: -1 };
    const args: (number | null)[] = [];
    for (let k = 0; k < argc; k++) args.push(orNull(vals[v++]));
    importArgs.push([ints[i], args]);
  }
  const wrapperCalls: FunctionFacts["wrapperCalls"] = nWrap ? [] : NONE;
  for (let w = 0; w < nWrap; w++) wrapperCalls.push([ints[i++], orNull(vals[v++])]);
  const refs = list(ints, i, nRefs);
  i += nRefs;
  const dataRefs = list(ints, i, nData);
  i += nData;
  const facts = {
    sys,
    unresolved: ints[o],
    wrapperArg: ints[o + 1],
    calls,
    imports,
    importArgs,
    wrapperCalls,
    refs,
    dataRefs,
  };
  return { facts, end: i, endVal: v };
}

function partitionAt(ints: Int32Array, o: number): Partition {
  const nFns = ints[o];
  const nNames = ints[o + 1];
  const nParts = ints[o + 2];
  const at = o + PART_FIXED;
  return {
    fns: list(ints, at, nFns),
    names: list(ints, at + nFns, nNames),
    parts: list(ints, at + nFns + nNames, nParts),
  };
}
