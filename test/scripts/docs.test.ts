import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { REPO } from "../helpers/paths.js";

interface Found {
  name: string;
  file: string;
  problem: string;
}
interface Docs {
  entryPoints(base: string): string[];
  undocumented(base: string): { checked: number; found: Found[] };
}

const SCRIPT = join(REPO, "scripts", "check-docs.mjs");
const load = async (): Promise<Docs> => (await import(pathToFileURL(SCRIPT).href)) as Docs;

/** A package with these source files (under src/) and its entry point dist/src/index.js, checked. */
async function check(
  files: Record<string, string>,
): Promise<{ checked: number; found: Found[]; entries: string[] }> {
  const docs = await load();
  const base = mkdtempSync(join(tmpdir(), "docs-"));
  try {
    writeFileSync(
      join(base, "package.json"),
      JSON.stringify({
        main: "dist/src/index.js",
        exports: {
          ".": { types: "./dist/src/index.d.ts", default: "./dist/src/index.js" },
          "./x.json": "./x.json",
        },
      }),
    );
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(base, "src", name, ".."), { recursive: true });
      writeFileSync(join(base, "src", name), text);
    }
    return { ...docs.undocumented(base), entries: docs.entryPoints(base) };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

test("the package's public symbols are each documented", () => {
  const run = spawnSync(process.execPath, [SCRIPT], { cwd: REPO, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /check-docs: \d+ public symbols of src\/index\.ts, each documented/);
});

test("a public symbol without a doc comment is found through re-exports, and a documented one is not", async () => {
  const r = await check({
    "index.ts":
      'export { documented, bare, LIST, type Shape, over } from "./a.js";\nexport * from "./b.js";\n',
    "a.ts": [
      "/** Adds one. */",
      "export function documented(x: number): number { return x + 1; }",
      "export function bare(): void {}",
      "// a line comment is not a doc comment",
      "export const LIST = [1, 2];",
      "export interface Shape { a: number }",
      "/** One of two overloads is enough. */",
      "export function over(x: string): string;",
      "export function over(x: number): number;",
      "export function over(x: unknown): unknown { return x; }",
      "export function notReExported(): void {}",
    ].join("\n"),
    "b.ts": "/** @internal */\nexport const hidden = 1;\nexport type Star = string;\n",
  });
  assert.deepEqual(r.entries, ["src/index.ts"], "the JSON export is not a source");
  assert.deepEqual(r.found.map((f) => `${f.file} ${f.name}: ${f.problem}`).sort(), [
    "src/a.ts LIST: has no doc comment",
    "src/a.ts Shape: has no doc comment",
    "src/a.ts bare: has no doc comment",
    "src/b.ts Star: has no doc comment",
    "src/b.ts hidden: is marked @internal but exported publicly",
  ]);
  assert.equal(r.checked, 7);
});
