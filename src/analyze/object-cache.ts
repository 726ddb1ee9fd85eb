// The per-object facts cache of `analyze` (and so of `generate --static`), in the private store. Facts are
// keyed by the object's content — its SHA-256, with the build-id in front for the reader — never by the
// build-id alone: a linker takes any build-id (`-Wl,--build-id=0x…`), so two different binaries can carry
// the same one. Hashing a large library on every run would lose the cache's speed, so a second entry maps
// the file's identity (device, inode, size, mtime, ctime) to its hash: while the identity holds, a lookup
// reads neither the file nor its bytes' hash; when any part changes, the content is hashed again.
//
// An identity is recorded only when it is settled: the file's ctime (which no one can set back) lies at
// least IDENTITY_SETTLE_MS in the past and the file did not change while it was read. Writes inside one
// timestamp tick do not move ctime, so a file still being written could otherwise pair its identity with
// bytes it no longer has (git's "racy" index entries).
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { SysfenceError } from "../errors.js";
import type { PrivateStore } from "../util/private-store.js";
import { readBuildId, readElf } from "./elf.js";
import { FACTS_VERSION, type ObjectFacts, objectFacts } from "./facts.js";
import { decodeFacts, encodeFacts } from "./facts-codec.js";

/** How old a file's ctime must be before its identity stands for its content. */
export const IDENTITY_SETTLE_MS = 2000;

/** Counts of content hashing since the process started (tests assert through this, not through time). */
export const contentHashing = { files: 0, bytes: 0 };

/** What the identity entry remembers: enough to name the facts entry without reading the file. */
interface Known {
  sha256: string;
  machine: number;
  buildId?: string;
}

type Stat = ReturnType<typeof statOf>;
const statOf = (fd: number) => fstatSync(fd, { bigint: true });

/** The identity of a file by its path (result-cache.ts), or undefined when it is not a regular file. */
export function identityOf(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return st.isFile() ? identity(st) : undefined;
  } catch {
    return undefined;
  }
}

/** The identity of an open file: device, inode, size, mtime and ctime (nanoseconds). */
function identity(st: Stat): string {
  return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(":");
}

const identityKey = (st: Stat) =>
  `id-${createHash("sha256")
    .update(`sysfence-identity\0${identity(st)}`)
    .digest("hex")}`;

/** The facts entry's key: content hash, machine and facts version; a usual-length build-id in front. */
function factsKey(k: Known): string {
  const id = k.buildId && k.buildId.length <= 40 ? `${k.buildId}-` : "";
  return `${id}${k.sha256}-v${FACTS_VERSION}-${k.machine}`;
}

function readKnown(store: PrivateStore, key: string): Known | undefined {
  const body = store.get(key);
  if (!body) return undefined;
  try {
    const k = JSON.parse(body.toString("utf8")) as Known;
    if (typeof k.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(k.sha256) || typeof k.machine !== "number")
      return undefined;
    if (k.buildId !== undefined && (typeof k.buildId !== "string" || !/^[0-9a-f]+$/.test(k.buildId)))
      return undefined;
    return k;
  } catch {
    return undefined;
  }
}

function readFacts(store: PrivateStore, key: string): ObjectFacts | undefined {
  const body = store.get(key);
  return body && decodeFacts(body, join(store.dir, `${key}.entry`));
}

function cannotRead(shown: string, e: unknown): never {
  throw new SysfenceError(
    "E_IO",
    `cannot read ${shown}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
    { cause: e },
  );
}

/**
 * An object looked up in the store: its facts when an entry for its content is there and authentic,
 * else its bytes and, with a store, `save` to store the facts' entry body once they are built.
 */
export type FactsLookup = (
  | { facts: ObjectFacts; cached: true }
  | { bytes: Buffer; cached: false; save?: (body: Buffer) => void }
) & {
  /** The file's identity when it stands for the content read (settled, unchanged while read; result-cache.ts). */
  identity?: string;
};

/** Facts of one object: from the store when an entry for its content is there and authentic. */
export function factsOf(
  real: string,
  shown: string,
  store: PrivateStore | undefined,
): { facts: ObjectFacts; cached: boolean; identity?: string } {
  const found = lookupFacts(real, shown, store);
  if (found.cached) return found;
  const facts = objectFacts(readElf(found.bytes, shown));
  found.save?.(encodeFacts(facts));
  return { facts, cached: false, identity: found.identity };
}

/** The object's facts from the store, or its bytes to build them from (factsOf, or a worker thread). */
export function lookupFacts(real: string, shown: string, store: PrivateStore | undefined): FactsLookup {
  let fd: number;
  try {
    fd = openSync(real, "r");
  } catch (e) {
    cannotRead(shown, e);
  }
  try {
    let before: Stat;
    try {
      before = statOf(fd);
      if (!before.isFile()) throw Object.assign(new Error("not a regular file"), { code: "EISDIR" });
    } catch (e) {
      cannotRead(shown, e);
    }
    const idKey = identityKey(before);
    if (store) {
      const known = readKnown(store, idKey);
      const facts = known && readFacts(store, factsKey(known));
      // an identity entry is only ever written for a settled identity
      if (facts) return { facts, cached: true, identity: identity(before) };
    }
    let bytes: Buffer;
    let after: Stat;
    try {
      bytes = readFileSync(fd);
      after = statOf(fd);
    } catch (e) {
      cannotRead(shown, e);
    }
    // without a store (--no-cache, or none can be trusted) the content is analysed and not hashed
    if (!store) return { bytes, cached: false };
    contentHashing.files++;
    contentHashing.bytes += bytes.length;
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const known: Known = { sha256, ...readBuildId(bytes, shown) };
    const key = factsKey(known);
    const rememberIdentity = () => {
      const settled = Number(after.ctimeNs / 1_000_000n) + IDENTITY_SETTLE_MS <= Date.now();
      if (settled && identity(after) === identity(before))
        store.put(idKey, Buffer.from(JSON.stringify(known)));
    };
    const settledNow = Number(after.ctimeNs / 1_000_000n) + IDENTITY_SETTLE_MS <= Date.now();
    const id = settledNow && identity(after) === identity(before) ? identity(before) : undefined;
    const facts = readFacts(store, key);
    if (facts) {
      rememberIdentity();
      return { facts, cached: true, identity: id };
    }
    const save = (body: Buffer) => {
      store.put(key, body);
      rememberIdentity();
    };
    return { bytes, cached: false, save, identity: id };
  } finally {
    closeSync(fd);
  }
}
