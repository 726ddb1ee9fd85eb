import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { decodeProgram, encodeProgram, type Insn } from "../bpf/insn.js";
import { verifyProgram } from "../bpf/verify.js";

// `sysfence run --policy FILE` compiles the same file for every launch; the compiled program is cached by
// the hash of everything that decides it (file content, options, arch, sysfence version). A cache that
// cannot be read or written is ignored; a cached program is re-verified before use.

const VERSION = "0.1.0";

function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "sysfence", "programs");
}

/** The cache key for a policy file's content and the options that shape the program. */
export function programKey(policyText: string, options: unknown): string {
  return createHash("sha256")
    .update(`${VERSION}\0${process.arch}\0${JSON.stringify(options)}\0`)
    .update(policyText)
    .digest("hex");
}

/** A cached program, or undefined. */
export function cachedProgram(key: string): Insn[] | undefined {
  try {
    const program = decodeProgram(readFileSync(join(cacheDir(), `${key}.bpf`)));
    return verifyProgram(program).length === 0 ? program : undefined;
  } catch {
    return undefined;
  }
}

/** Stores a program (atomically; silently skipped when the cache is not writable). */
export function storeProgram(key: string, program: readonly Insn[]): void {
  try {
    const dir = cacheDir();
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `${key}.${process.pid}.tmp`);
    writeFileSync(tmp, encodeProgram(program));
    renameSync(tmp, join(dir, `${key}.bpf`));
  } catch {
    // a read-only home is fine: the next launch compiles again
  }
}
