// The `run` fast path as one module: `npm run build` bundles this file (with esbuild) into
// dist/run.bundle.mjs, so a launch loads one file instead of ~40. yaml, zod, commander and koffi stay
// outside and load only when needed.

import { runCommand } from "./commands/run.js";
import { parseRunArgs } from "./commands/run-args.js";
import type { CliIO } from "./io.js";

/** Runs `sysfence run WORDS… -- COMMAND…`. */
export async function runFast(words: string[], command: string[], io: CliIO): Promise<number | undefined> {
  return await runCommand(parseRunArgs(words), io, command);
}
