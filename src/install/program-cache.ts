import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeProgram, encodeProgram, type Insn } from "../bpf/insn.js";
import { verifyProgram } from "../bpf/verify.js";
import type { Action } from "../policy/model.js";
import type { ArchName } from "../syscalls/arches.js";
import { replaceFile } from "../util/output-file.js";

// `sysfence run --policy FILE` compiles the same file for every launch; the compiled program is cached by
// the hash of everything that decides it (file content, options, arch, sysfence version). The cache is a
// place another user must not be able to plant an allow-all program in (docs/program-cache.md):
// - every directory from the user's home (or $XDG_CACHE_HOME) down to the cache must be a real directory
//   owned by the caller or root and writable by nobody else — otherwise the cache is not used at all;
// - directories are created 0700, entries 0600 through a private temp file (O_EXCL|O_NOFOLLOW) and rename;
// - an entry is used only when its HMAC-SHA256, keyed with a per-user secret (0600, in the same private
//   directory), matches: a file that did not come from this user's sysfence is a miss, never a program.

const VERSION = "0.3.0";
const SECRET_BYTES = 32;
const MAC_BYTES = 32;
const MAX_ENTRY_BYTES = 1 << 20;
const { O_RDONLY, O_NOFOLLOW } = constants;

/** What a cached launch needs besides the program: the exec guard's answer and arches. */
export interface LaunchInfo {
  execGuard?: Action;
  arches?: ArchName[];
}

export interface CachedEntry {
  program: Insn[];
  launch: LaunchInfo;
}

/** An open, trusted cache directory and its secret. */
export interface ProgramCache {
  dir: string;
  get(key: string): CachedEntry | undefined;
  put(key: string, entry: { program: readonly Insn[]; launch: LaunchInfo }): void;
}

/** Why the cache was not used: `note` is set when that is worth telling the user (an unsafe directory). */
export interface NoCache {
  note?: string;
}

const euid = (): number => process.geteuid?.() ?? -1;

/** The directories from the trust anchor (home or the XDG base) down to the cache, outermost first. */
export function cacheChain(env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(home, ".cache");
  const rel = relative(home, base);
  const underHome = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
  const anchor = underHome ? home : base;
  const parts = relative(anchor, join(base, "sysfence", "programs"))
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
 * Opens the cache after checking every directory on its way; creates what is missing (0700) when `create`.
 * The anchor itself may be reached through a symlink (/home → /usr/home): it is resolved first.
 */
export function openProgramCache(
  create: boolean,
  env: NodeJS.ProcessEnv = process.env,
): ProgramCache | NoCache {
  let chain: string[];
  try {
    chain = cacheChain(env);
    // a missing $XDG_CACHE_HOME is created like the rest (its parents are the user's business)
    if (create) mkdirSync(chain[0], { recursive: true, mode: 0o700 });
    const anchor = realpathSync(chain[0]);
    chain = chain.map((d) => anchor + d.slice(chain[0].length));
  } catch {
    return {}; // no home or base directory: nothing to cache in
  }
  for (const dir of chain) {
    try {
      lstatSync(dir);
    } catch {
      if (!create) return {};
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch {
        return {}; // a read-only home is fine: the next launch compiles again
      }
    }
    const why = distrust(dir);
    if (why) return { note: `not using the program cache: ${why}` };
  }
  const dir = chain[chain.length - 1];
  const secret = readSecret(dir, create);
  if (typeof secret === "string") return { note: `not using the program cache: ${secret}` };
  if (!secret) return {};
  return {
    dir,
    get: (key) => readEntry(dir, secret, key),
    put: (key, entry) => writeEntry(dir, secret, key, entry),
  };
}

/** Reads a small file without following a symlink; its fstat is checked by `accept` first. */
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
  return createHmac("sha256", secret).update(`sysfence-program\0${key}\0`).update(body).digest();
}

/** Entry file: MAC (32) | launch JSON length (u32 LE) | launch JSON | program. */
function readEntry(dir: string, secret: Buffer, key: string): CachedEntry | undefined {
  if (!/^[0-9a-f]{64}$/.test(key)) return undefined;
  const f = readPrivate(join(dir, `${key}.prog`), MAX_ENTRY_BYTES);
  if (!f || f.uid !== euid() || f.data.length < MAC_BYTES + 4) return undefined;
  const body = f.data.subarray(MAC_BYTES);
  if (!timingSafeEqual(f.data.subarray(0, MAC_BYTES), mac(secret, key, body))) return undefined;
  try {
    const n = body.readUInt32LE(0);
    const launch = JSON.parse(body.subarray(4, 4 + n).toString("utf8")) as LaunchInfo;
    const program = decodeProgram(body.subarray(4 + n));
    return verifyProgram(program).length === 0 ? { program, launch } : undefined;
  } catch {
    return undefined;
  }
}

function writeEntry(
  dir: string,
  secret: Buffer,
  key: string,
  entry: { program: readonly Insn[]; launch: LaunchInfo },
): void {
  const launch = Buffer.from(JSON.stringify(entry.launch));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(launch.length, 0);
  const body = Buffer.concat([len, launch, encodeProgram(entry.program)]);
  try {
    replaceFile(dir, `${key}.prog`, Buffer.concat([mac(secret, key, body), body]));
  } catch {
    // a full disk is fine: the next launch compiles again
  }
}

/** This build of sysfence: the code file's size and mtime (a rebuilt compiler never reads old entries). */
function buildId(): string {
  try {
    const st = statSync(fileURLToPath(import.meta.url));
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return "";
  }
}

/** The cache key for a policy file's content and the options that shape the program. */
export function programKey(policyText: string, options: unknown): string {
  return createHash("sha256")
    .update(`${VERSION}\0${buildId()}\0${process.arch}\0${JSON.stringify(options)}\0`)
    .update(policyText)
    .digest("hex");
}
