// The `run` fast path as one module: `npm run build` bundles this file (with esbuild) into
// dist/run.bundle.mjs, so a launch loads one file instead of ~40. yaml, zod, commander and koffi stay
// outside and load only when needed.

export { runCommand } from "./commands/run.js";
export { parseRunWords } from "./commands/run-args.js";
