import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { REPO } from "../helpers/paths.js";

interface Sizes {
  measure(base: string): unknown[];
  problems(files: unknown[], known?: Record<string, number>): string[];
}

const SCRIPT = join(REPO, "scripts", "check-sizes.mjs");
const load = async (): Promise<Sizes> => (await import(pathToFileURL(SCRIPT).href)) as Sizes;

/** A tree with one source file holding `text`, measured. */
async function problemsOf(files: Record<string, string>, known?: Record<string, number>): Promise<string[]> {
  const sizes = await load();
  const base = mkdtempSync(join(tmpdir(), "sizes-"));
  try {
    for (const [name, text] of Object.entries(files)) {
      const path = join(base, "src", name);
      mkdirSync(join(path, ".."), { recursive: true });
      writeFileSync(path, text);
    }
    return sizes.problems(sizes.measure(base), known);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

const body = (n: number): string =>
  Array.from({ length: n - 2 }, (_, i) => `  const v${i} = ${i};`).join("\n");
const fn = (name: string, lines: number, above = ""): string =>
  `${above}export function ${name}(): void {\n${body(lines)}\n}\n`;

test("the source tree holds the size limits", () => {
  const run = spawnSync(process.execPath, [SCRIPT], { cwd: REPO, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
});

test("a function over 80 lines fails without a reason above it and passes with one", async () => {
  const bare = await problemsOf({ "a.ts": fn("big", 90) });
  assert.equal(bare.length, 1);
  assert.match(bare[0], /src\/a\.ts:1 big has 90 lines, over 80, with no reason/);
  assert.deepEqual(
    await problemsOf({ "a.ts": fn("big", 90, "// long: one table, read top to bottom\n") }),
    [],
  );
});

test("arrow functions and methods are measured by their names", async () => {
  const arrow = `export const big = (): void => {\n${body(85)}\n};\n`;
  assert.match((await problemsOf({ "a.ts": arrow }))[0], /a\.ts:1 big has 85 lines/);
  const method = `export class C {\n  m(): void {\n${body(85)}\n  }\n}\n`;
  assert.match((await problemsOf({ "a.ts": method }))[0], /a\.ts:2 m has 85 lines/);
});

test("no function may exceed 120 lines, reason or not, nor a file 400", async () => {
  const over = await problemsOf({ "a.ts": fn("huge", 121, "// long: no\n") });
  assert.match(over.join("\n"), /huge has 121 lines, over the limit of 120/);
  const file = Array.from({ length: 401 }, (_, i) => `export const c${i} = ${i};`).join("\n");
  assert.match(
    (await problemsOf({ "a.ts": `${file}\n` })).join("\n"),
    /src\/a\.ts has 401 lines, over the limit of 400/,
  );
  assert.deepEqual(await problemsOf({ "syscalls/generated/t.ts": `${file}\n` }), []);
});

test("more than 8 long functions fail even with reasons", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 9; i++) files[`f${i}.ts`] = fn(`f${i}`, 85, "// long: a reason\n");
  assert.match(
    (await problemsOf(files)).join("\n"),
    /9 functions have more than 80 lines, over the limit of 8/,
  );
  delete files["f8.ts"];
  assert.deepEqual(await problemsOf(files), []);
});

test("a function listed in KNOWN may shrink but not grow, and leaves the list once it is under the limit", async () => {
  const known = { "src/a.ts big": 100 };
  assert.deepEqual(await problemsOf({ "a.ts": fn("big", 95) }, known), []);
  assert.match(
    (await problemsOf({ "a.ts": fn("big", 101) }, known)).join("\n"),
    /src\/a\.ts big has grown to 101/,
  );
  assert.match(
    (await problemsOf({ "a.ts": fn("big", 60) }, known)).join("\n"),
    /src\/a\.ts big is listed in KNOWN but is no longer over its limit/,
  );
});
