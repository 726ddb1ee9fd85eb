import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeProgram, encodeProgram, type Insn } from "../bpf/insn.js";
import { verifyProgram } from "../bpf/verify.js";
import type { Action } from "../policy/model.js";
import type { ArchName } from "../syscalls/arches.js";

// `sysfence run --policy FILE` compiles the same file for every launch; the compiled program is cached by
// the hash of everything that decides it (file content, options, arch, sysfence version). A cache that
// cannot be read or written is ignored; a cached program is re-verified before use.

const VERSION = "0.2.0";

/** What a cached launch needs besides the program: the exec guard's answer and arches. */
export interface LaunchInfo {
  execGuard?: Action;
  arches?: ArchName[];
}

function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "sysfence", "programs");
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

/** A cached program and its launch info, or undefined. */
export function cachedProgram(key: string): { program: Insn[]; launch: LaunchInfo } | undefined {
  try {
    const program = decodeProgram(readFileSync(join(cacheDir(), `${key}.bpf`)));
    const launch = JSON.parse(readFileSync(join(cacheDir(), `${key}.json`), "utf8")) as LaunchInfo;
    return verifyProgram(program).length === 0 ? { program, launch } : undefined;
  } catch {
    return undefined;
  }
}

/** Stores a program (atomically; silently skipped when the cache is not writable). */
export function storeProgram(key: string, entry: { program: readonly Insn[]; launch: LaunchInfo }): void {
  try {
    const dir = cacheDir();
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `${key}.${process.pid}.tmp`);
    // the launch info first: a program without it is a miss
    writeFileSync(tmp, JSON.stringify(entry.launch));
    renameSync(tmp, join(dir, `${key}.json`));
    writeFileSync(tmp, encodeProgram(entry.program));
    renameSync(tmp, join(dir, `${key}.bpf`));
  } catch {
    // a read-only home is fine: the next launch compiles again
  }
}
