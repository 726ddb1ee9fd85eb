// The `record` command as one module: `npm run build` bundles this file (with esbuild) into
// dist/record.bundle.mjs, so a recording starts after loading one file instead of ~70 (the bpf engine's
// start-up is a goal: docs/record.md). yaml, zod, commander and koffi stay outside; the launcher and the
// strace scanner's workers are started from their own files under dist/src.

export { registerRecord } from "./commands/record.js";
