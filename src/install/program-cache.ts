import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { decodeProgram, encodeProgram, type Insn } from "../bpf/insn.js";
import { verifyProgram } from "../bpf/verify.js";
import type { Action } from "../policy/model.js";
import type { ArchName } from "../syscalls/arches.js";
import { type NoStore, openPrivateStore } from "../util/private-store.js";
import { type Program, withSplit } from "./quiet.js";
import type { LaunchLandlock } from "./run.js";

// `sysfence run --policy FILE` compiles the same file for every launch; the compiled program is cached by
// the hash of everything that decides it (file content, options, arch, sysfence version), in a private,
// authenticated store (util/private-store.ts: trusted directories only, 0600 entries, a per-user HMAC).

const VERSION = "0.3.0";

/** What a cached launch needs besides the program: the exec guard's answer and arches. */
export interface LaunchInfo {
  execGuard?: Action;
  arches?: ArchName[];
  /** Install with SECCOMP_FILTER_FLAG_LOG (the policy's flags: [log]). */
  log?: boolean;
  /** The policy's Landlock layer as planned for this kernel (the key holds the kernel's ABI). */
  landlock?: LaunchLandlock;
}

export interface CachedEntry {
  program: Insn[];
  launch: LaunchInfo;
}

/** An open, trusted program cache. */
export interface ProgramCache {
  dir: string;
  get(key: string): CachedEntry | undefined;
  put(key: string, entry: { program: Program; launch: LaunchInfo }): void;
}

/** Opens the program cache (`create`: make the directories and secret when missing). */
export function openProgramCache(
  create: boolean,
  env: NodeJS.ProcessEnv = process.env,
): ProgramCache | NoStore {
  const store = openPrivateStore("programs", create, env, "program cache");
  if (!("get" in store)) return store;
  return {
    dir: store.dir,
    get: (key) => {
      const body = store.get(key);
      if (!body || body.length < 4) return undefined;
      try {
        const n = body.readUInt32LE(0);
        const { split: splitHex, ...launch } = JSON.parse(
          body.subarray(4, 4 + n).toString("utf8"),
        ) as LaunchInfo & {
          split?: { quiet: string; loud: string };
        };
        const program = decodeProgram(body.subarray(4 + n));
        const split = splitHex && {
          quiet: decodeProgram(Buffer.from(splitHex.quiet, "hex")),
          loud: decodeProgram(Buffer.from(splitHex.loud, "hex")),
        };
        const bad = [program, ...(split ? [split.quiet, split.loud] : [])].some(
          (p) => verifyProgram(p).length,
        );
        return bad ? undefined : { program: withSplit(program, split) as Insn[], launch };
      } catch {
        return undefined;
      }
    },
    put: (key, entry) => {
      // a logging install's split (quiet.ts) travels with its program
      const split = entry.program.split;
      const launch = Buffer.from(
        JSON.stringify(
          split
            ? {
                ...entry.launch,
                split: {
                  quiet: encodeProgram(split.quiet).toString("hex"),
                  loud: encodeProgram(split.loud).toString("hex"),
                },
              }
            : entry.launch,
        ),
      );
      const len = Buffer.alloc(4);
      len.writeUInt32LE(launch.length, 0);
      store.put(key, Buffer.concat([len, launch, encodeProgram(entry.program)]));
    },
  };
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
