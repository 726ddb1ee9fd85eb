// A whole result is kept in the analysis cache and given back only while everything it was made from
// holds: the same files found for the program (the loader's lookups done again), each with the identity it
// had. Real gcc output, the real file system, analyze() in this process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { analyze } from "../../src/analyze/analyze.js";
import { IDENTITY_SETTLE_MS } from "../../src/analyze/object-cache.js";
import { analysisCodeFiles, resultCache } from "../../src/analyze/result-cache.js";

const skip = process.platform !== "linux" || process.arch !== "x64" ? "needs Linux on x86_64" : false;
const gcc = spawnSync("gcc", ["--version"]).status === 0;
const freshCache = () => {
  process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), "sysfence-kept-"));
};
/** Waits until the files just written are settled: their identities are kept only then. */
const settle = () => new Promise((r) => setTimeout(r, IDENTITY_SETTLE_MS + 200));
/** The JSON a run prints, every object marked cached (a kept result is a cached run's). */
const asCached = (r: unknown) => JSON.stringify(r).replaceAll('"cached":false', '"cached":true');

describe("analysis cache: a kept result", { skip }, () => {
  it("is keyed by every module of the analysis: the x86 decoder's subfolder and the tables it reads", () => {
    // (only the folder's top level was hashed: an upgrade of the decoder alone got the old result back)
    const files = analysisCodeFiles().map((f) => f.replace(/.*\/dist\/src\//, ""));
    for (const f of ["analyze/analyze.js", "analyze/x86/decode.js", "syscalls/arches.js", "util/errno.js"])
      assert.ok(files.includes(f), `${f} not among ${files.join(" ")}`);
  });
  it("/bin/true: the second run is the kept result, the same JSON as the run that kept it", () => {
    freshCache();
    const stored = resultCache.stored;
    const first = analyze("/bin/true");
    assert.equal(resultCache.stored, stored + 1);
    const hits = resultCache.hits;
    const second = analyze("/bin/true");
    assert.equal(resultCache.hits, hits + 1);
    assert.equal(JSON.stringify(second), asCached(first));
    // another program path (or other options) is another entry
    analyze("/bin/true", { dlopened: ["/usr/lib/x86_64-linux-gnu/libm.so.6"] });
    assert.equal(resultCache.hits, hits + 1);
  });
});

describe("analysis cache: a kept result no longer holds", { skip: skip || (!gcc && "needs gcc") }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-kept-build-"));
  const first = join(dir, "first");
  const second = join(dir, "second");
  const cc = (...args: string[]) => {
    const r = spawnSync("gcc", args, { encoding: "utf8", cwd: dir });
    assert.equal(r.status, 0, r.stderr);
  };
  const lib = (into: string, call: string) => {
    writeFileSync(
      join(dir, "lib.c"),
      `#define _GNU_SOURCE\n#include <unistd.h>\nint work(void) { ${call}; return 0; }\n`,
    );
    cc("-shared", "-fPIC", "-Wl,-soname,libwork.so", "-o", join(into, "libwork.so"), "lib.c");
  };
  before(async () => {
    mkdirSync(first);
    mkdirSync(second);
    lib(second, "sync()");
    writeFileSync(join(dir, "main.c"), "int work(void);\nint main(void) { return work(); }\n");
    // RUNPATH first:second — libwork is in second until one is put into first
    cc("-o", "prog", "main.c", `-L${second}`, "-lwork", `-Wl,--enable-new-dtags,-rpath,${first}:${second}`);
    await settle();
  });

  it("a library found earlier in the search path: not the kept result", () => {
    freshCache();
    const prog = join(dir, "prog");
    assert.ok(Object.hasOwn(analyze(prog).syscalls, "sync"));
    const hits = resultCache.hits;
    assert.ok(Object.hasOwn(analyze(prog).syscalls, "sync"));
    assert.equal(resultCache.hits, hits + 1, "kept while nothing changed");
    lib(first, "syncfs(0)");
    const now = analyze(prog);
    assert.equal(resultCache.hits, hits + 1, "the library found first changed: a miss");
    assert.ok(Object.hasOwn(now.syscalls, "syncfs") && !Object.hasOwn(now.syscalls, "sync"));
    assert.equal(now.libraries[1].path, join(first, "libwork.so"));
  });

  it("a library rebuilt in place: not the kept result", async () => {
    await settle(); // the library the last test put into first
    freshCache();
    const prog = join(dir, "prog");
    analyze(prog);
    const hits = resultCache.hits;
    analyze(prog);
    assert.equal(resultCache.hits, hits + 1);
    lib(first, "fsync(0)");
    const now = analyze(prog);
    assert.equal(resultCache.hits, hits + 1, "its identity changed: a miss");
    assert.ok(Object.hasOwn(now.syscalls, "fsync") && !Object.hasOwn(now.syscalls, "syncfs"));
  });
});
