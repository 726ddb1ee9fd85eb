import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO } from "../helpers/paths.js";

/** The source files under a folder of the repository (recursively). */
function sources(dir: string): string[] {
  return readdirSync(join(REPO, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.(ts|mjs|js|py|c)$/.test(f))
    .map((f) => join(dir, f));
}

test("every docs/*.md a comment in src, scripts or bench cites exists", () => {
  const missing: string[] = [];
  for (const file of ["src", "scripts", "bench"].flatMap(sources)) {
    const text = readFileSync(join(REPO, file), "utf8");
    for (const m of text.matchAll(/\bdocs\/([\w.-]+\.md)\b/g))
      if (!existsSync(join(REPO, "docs", m[1]))) missing.push(`${file} cites docs/${m[1]}`);
  }
  assert.deepEqual(missing, []);
});
