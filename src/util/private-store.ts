import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
} from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, relative, sep } from "node:path";
import { replaceFile } from "./output-file.js";

// A private, authenticated store under the user's cache directory: the program cache of `run --policy`
// and the per-library facts of `analyze` (docs/files-and-installs.md). Another user must not be able to
// plant an entry in it, so:
// - every directory from the user's home (or $XDG_CACHE_HOME) down to the store must be a real directory
//   owned by the caller or root and writable by nobody else — otherwise the store is not used at all;
// - directories are created 0700, entries 0600 through a private temp file (O_EXCL|O_NOFOLLOW) and rename;
// - an entry is used only when its HMAC-SHA256, keyed with a per-user secret (0600, in the same private
//   directory), matches: a file that did not come from this user's sysfence is a miss, never data.

const SECRET_BYTES = 32;
const MAC_BYTES = 32;
const { O_RDONLY, O_NOFOLLOW } = constants;

/** An open, trusted store. */
export interface PrivateStore {
  dir: string;
  /** The entry's bytes when present and authentic. */
  get(key: string): Buffer | undefined;
  put(key: string, data: Uint8Array): void;
}

/** Why the store was not used: `note` is set when that is worth telling the user (an unsafe directory). */
export interface NoStore {
  note?: string;
}

const euid = (): number => process.geteuid?.() ?? -1;

/** The directories from the trust anchor (home or the XDG base) down to the store, outermost first. */
export function storeChain(name: string, env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(home, ".cache");
  const rel = relative(home, base);
  const underHome = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
  const anchor = underHome ? home : base;
  const parts = relative(anchor, join(base, "sysfence", name))
    .split(sep)
    .filter(Boolean);
  const chain = [anchor];
  for (const p of parts) chain.push(join(chain[chain.length - 1], p));
  return chain;
}

/** Why `dir` cannot be trusted, or undefined when it can. */
function distrust(dir: string): string | undefined {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) return `${dir} is a symlink`;
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (st.uid !== euid() && st.uid !== 0)
    return `${dir} is owned by uid ${st.uid}, not by you (uid ${euid()})`;
  if (st.mode & 0o022) return `${dir} is writable by ${st.mode & 0o020 ? "its group" : "others"}`;
  return undefined;
}

/**
 * Opens the store `name` after checking every directory on its way; creates what is missing (0700) when
 * `create`. The anchor itself may be reached through a symlink (/home → /usr/home): it is resolved first.
 */
export function openPrivateStore(
  name: string,
  create: boolean,
  env: NodeJS.ProcessEnv = process.env,
  what = `${name} cache`,
): PrivateStore | NoStore {
  let chain: string[];
  try {
    const home = homedir();
    chain = storeChain(name, env, home);
    // a missing $XDG_CACHE_HOME is created like the rest (its parents are the user's business); a missing
    // home never is (a service user's HOME=/nonexistent must stay so)
    if (create && chain[0] !== home) mkdirSync(chain[0], { recursive: true, mode: 0o700 });
    const anchor = realpathSync(chain[0]);
    chain = chain.map((d) => anchor + d.slice(chain[0].length));
  } catch {
    return {}; // no home or base directory: nothing to store in
  }
  for (const dir of chain) {
    try {
      lstatSync(dir);
    } catch {
      if (!create) return {};
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch {
        return {}; // a read-only home is fine: the work is done again next time
      }
    }
    const why = distrust(dir);
    if (why) return { note: `not using the ${what}: ${why}` };
  }
  const dir = chain[chain.length - 1];
  const secret = readSecret(dir, create);
  if (typeof secret === "string") return { note: `not using the ${what}: ${secret}` };
  if (!secret) return {};
  return {
    dir,
    get: (key) => readEntry(dir, secret, key),
    put: (key, data) => writeEntry(dir, secret, key, data),
  };
}

/** Reads a small file without following a symlink. */
function readPrivate(path: string, limit: number): { data: Buffer; uid: number; mode: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > limit) return undefined;
    const data = Buffer.alloc(st.size);
    let off = 0;
    while (off < data.length) {
      const n = readSync(fd, data, off, data.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return { data: data.subarray(0, off), uid: st.uid, mode: st.mode };
  } finally {
    closeSync(fd);
  }
}

/** The per-user secret: a Buffer, undefined (none and not created), or why the file is not trusted. */
function readSecret(dir: string, create: boolean): Buffer | string | undefined {
  const path = join(dir, "secret");
  let f = readPrivate(path, 4096);
  if (!f && create) {
    try {
      replaceFile(dir, "secret", randomBytes(SECRET_BYTES));
    } catch {
      return undefined;
    }
    f = readPrivate(path, 4096);
  }
  if (!f) return undefined;
  if (f.uid !== euid()) return `${path} is owned by uid ${f.uid}`;
  if (f.mode & 0o077)
    return `${path} is readable or writable by others (mode ${(f.mode & 0o777).toString(8)})`;
  if (f.data.length !== SECRET_BYTES) return `${path} is not a sysfence secret (${f.data.length} bytes)`;
  return f.data;
}

function mac(secret: Buffer, key: string, body: Uint8Array): Buffer {
  return createHmac("sha256", secret).update(`sysfence-entry\0${key}\0`).update(body).digest();
}

const MAX_ENTRY_BYTES = 64 << 20;

/** Entry file `KEY.entry`: MAC (32) | data. */
function readEntry(dir: string, secret: Buffer, key: string): Buffer | undefined {
  if (!/^[0-9a-zA-Z._-]{1,128}$/.test(key)) return undefined;
  const f = readPrivate(join(dir, `${key}.entry`), MAX_ENTRY_BYTES);
  if (!f || f.uid !== euid() || f.data.length < MAC_BYTES) return undefined;
  const body = f.data.subarray(MAC_BYTES);
  return timingSafeEqual(f.data.subarray(0, MAC_BYTES), mac(secret, key, body)) ? body : undefined;
}

/**
 * Writes an entry by rename, without an fsync (an analysis wrote one per library: tens per run). A crash can
 * leave a renamed entry whose blocks never reached the disk (empty or zeros); its MAC then fails and it is a
 * miss, done again — never data. The secret is written with an fsync: a torn secret would disable the store.
 */
function writeEntry(dir: string, secret: Buffer, key: string, data: Uint8Array): void {
  if (!/^[0-9a-zA-Z._-]{1,128}$/.test(key)) return;
  try {
    replaceFile(dir, `${key}.entry`, Buffer.concat([mac(secret, key, data), data]), undefined, false);
  } catch {
    // a full disk is fine: the work is done again next time
  }
}
