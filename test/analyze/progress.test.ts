// The analysis tells its progress through a callback and never prints: the CLI decides what a terminal sees.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import type { StaticProgress } from "../../src/generate/static-input.js";
import { type AnalyzeProgress, analyze, generatePolicy } from "../../src/index.js";
import { syntheticProfile } from "../helpers/profiles.js";

process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), "sysfence-analyze-progress-"));

/** Runs `f` with process.stdout/stderr writes captured; what was written. */
function silent<T>(f: () => T): { value: T; written: string } {
  let written = "";
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const capture = (chunk: string | Uint8Array) => {
    written += String(chunk);
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    return { value: f(), written };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

it("analyze() reports each object before reading it, then the reach; it prints nothing", () => {
  const seen: AnalyzeProgress[] = [];
  const { value: r, written } = silent(() =>
    analyze("/usr/bin/true", { cache: false, onProgress: (p) => seen.push(p) }),
  );
  assert.equal(written, "");
  assert.deepEqual(seen[0], { step: "object", objects: 0, path: "/usr/bin/true" });
  const objects = seen.filter((p) => p.step === "object");
  assert.deepEqual(
    objects.map((p) => p.objects),
    objects.map((_, i) => i),
  );
  assert.equal(objects.length, r.libraries.length);
  assert.deepEqual(seen.at(-1), { step: "reach", objects: r.libraries.length });
});

it("generatePolicy() passes its static analysis's progress on, program by program", () => {
  const seen: StaticProgress[] = [];
  const profile = syntheticProfile({ read: {}, exit_group: {} }, { exe: "/usr/bin/true" });
  const { written } = silent(() =>
    generatePolicy(profile, { static: "on", onProgress: (p) => seen.push(p) }),
  );
  assert.equal(written, "");
  assert.ok(seen.length >= 3);
  for (const p of seen) assert.deepEqual([p.program, p.programs, p.elf], [1, 1, "/usr/bin/true"]);
  assert.equal(seen.at(-1)?.step, "reach");
});
