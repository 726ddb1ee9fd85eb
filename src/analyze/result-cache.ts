// A whole analysis's result, kept in the analysis cache beside the per-object facts: a cached run of the
// same program then neither decodes facts nor reaches across them. It stands only while everything it was
// made from holds: the analysis code (a hash of its modules' text), the program path and options, each
// object's file identity (as the facts cache trusts it: settled, unchanged while read) and the libraries
// found — checked by finding them again, with the loader's own lookups on the file system, from the heads
// the entry keeps. Any difference is a miss and the analysis runs as without it.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { PrivateStore } from "../util/private-store.js";
import { FACTS_VERSION, type ObjectFacts } from "./facts.js";
import { identityOf } from "./object-cache.js";
import type { ObjectHead, ReadObject } from "./object-table.js";

/** What the key takes of analyze()'s options. */
interface KeyOptions {
  arch?: string;
  sysroot?: string;
  dlopened?: readonly string[];
}

/** What this module needs of analyze()'s result. */
interface ResultShape {
  libraries: { cached: boolean }[];
  missing: string[];
}

/** What the entry keeps of each object, in load order. */
export interface KeptObject {
  real: string;
  identity: string;
  head: ObjectHead;
}

interface Kept<R extends ResultShape> {
  objects: KeptObject[];
  result: R;
}

/** Counts since the process started (tests assert through this). */
export const resultCache = { hits: 0, stored: 0 };

let codeHash: string | undefined;

/**
 * A hash of the analysis code: the text of this folder's modules, its subfolders' (the x86 decoder) and the
 * syscall tables and errno names it reads — a change to any of them is another analysis.
 */
function analysisCode(): string {
  if (codeHash) return codeHash;
  const h = createHash("sha256");
  for (const f of analysisCodeFiles()) {
    try {
      h.update(f).update("\0").update(readFileSync(f)).update("\0");
    } catch {
      h.update(f).update("\0missing\0");
    }
  }
  codeHash = h.digest("hex");
  return codeHash;
}

/** The files analysisCode hashes. */
export function analysisCodeFiles(): string[] {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const up = fileURLToPath(new URL("../", import.meta.url));
  return [
    ...readdirSync(here, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".js"))
      .sort()
      .map((f) => here + f),
    `${up}syscalls/table.js`,
    `${up}syscalls/arches.js`,
    `${up}syscalls/generated/x86_64.js`,
    `${up}syscalls/generated/aarch64.js`,
    `${up}util/errno.js`,
    `${up}errors.js`,
  ];
}

/** The entry's key: the code, the facts version, the program as given and where it is, the options. */
export function resultKey(path: string, options: KeyOptions): string {
  const what = JSON.stringify([
    FACTS_VERSION,
    analysisCode(),
    path,
    resolve(path),
    options.arch ?? null,
    options.sysroot ? resolve(options.sysroot) : null,
    options.dlopened ?? [],
  ]);
  return `result-${createHash("sha256").update(what).digest("hex")}`;
}

/** The kept entry, or undefined (none, or not one this code wrote). */
function readKept<R extends ResultShape>(store: PrivateStore, key: string): Kept<R> | undefined {
  const body = store.get(key);
  if (!body) return undefined;
  try {
    const k = JSON.parse(body.toString("utf8")) as Kept<R>;
    return Array.isArray(k.objects) && k.result && Array.isArray(k.result.missing) ? k : undefined;
  } catch {
    return undefined;
  }
}

const MISS = new Error("not the kept result");

/** The facts of an object found again for a kept result: never read (the result is already made). */
const NO_FACTS = {} as ObjectFacts;

/**
 * The kept result when `findAgain` — the analysis's own finding of the libraries, reading each object
 * through the function it is given — finds the same files, each with the identity kept, and the same
 * missing libraries; else undefined.
 */
export function readKeptResult<R extends ResultShape>(
  store: PrivateStore,
  key: string,
  findAgain: (read: (real: string) => ReadObject) => { reals: string[]; missing: string[] },
): R | undefined {
  const kept = readKept<R>(store, key);
  if (!kept) return undefined;
  const byReal = new Map(kept.objects.map((o) => [o.real, o]));
  const read = (real: string): ReadObject => {
    const k = byReal.get(real);
    if (!k || identityOf(real) !== k.identity) throw MISS;
    return { head: k.head, cached: true, facts: NO_FACTS };
  };
  try {
    const found = findAgain(read);
    const same =
      found.reals.length === kept.objects.length &&
      found.reals.every((r, i) => r === kept.objects[i].real) &&
      JSON.stringify(found.missing) === JSON.stringify(kept.result.missing);
    if (!same) return undefined;
  } catch {
    return undefined; // a file changed or went: the analysis runs (and says what is wrong, if anything)
  }
  resultCache.hits++;
  return kept.result;
}

/** Keeps a result (as a cached run reports it: every object cached) when every object's identity stands. */
export function keepResult<R extends ResultShape>(
  store: PrivateStore,
  key: string,
  objects: readonly { real: string; read: ReadObject }[],
  result: R,
): void {
  const kept: KeptObject[] = [];
  for (const { real, read } of objects) {
    if (!read.identity) return;
    const h = read.head; // a cached object's head is its whole facts: only the head's fields
    const head = {
      arch: h.arch,
      soname: h.soname,
      needed: h.needed,
      runpath: h.runpath,
      rpath: h.rpath,
      interp: h.interp,
    };
    kept.push({ real, identity: read.identity, head });
  }
  const cachedResult = { ...result, libraries: result.libraries.map((l) => ({ ...l, cached: true })) };
  store.put(key, Buffer.from(JSON.stringify({ objects: kept, result: cachedResult } satisfies Kept<R>)));
  resultCache.stored++;
}
