// An import binds to the first definition in load order, as the loader binds it: two libraries defining
// one function, linked in either order (real gcc output, the reach of analyze()).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { analyze } from "../../src/analyze/analyze.js";

const skip = process.platform !== "linux" || process.arch !== "x64" ? "needs Linux on x86_64" : false;
const gcc = spawnSync("gcc", ["--version"]).status === 0;

describe("analyze: an import binds to its first definition in load order", {
  skip: skip || (!gcc && "needs gcc"),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-binding-"));
  const cc = (...args: string[]) => {
    const r = spawnSync("gcc", args, { encoding: "utf8", cwd: dir });
    assert.equal(r.status, 0, r.stderr);
  };
  before(() => {
    writeFileSync(join(dir, "a.c"), "#include <unistd.h>\nint same(void) { sync(); return 1; }\n");
    writeFileSync(
      join(dir, "b.c"),
      "#define _GNU_SOURCE\n#include <unistd.h>\nint same(void) { return syncfs(0); }\n",
    );
    writeFileSync(join(dir, "main.c"), "int same(void);\nint main(void) { return same(); }\n");
    cc("-shared", "-fPIC", "-o", "liba.so", "a.c");
    cc("-shared", "-fPIC", "-o", "libb.so", "b.c");
    cc("-o", "ab", "main.c", "-Wl,--no-as-needed", "-L.", "-la", "-lb", `-Wl,-rpath,${dir}`);
    cc("-o", "ba", "main.c", "-Wl,--no-as-needed", "-L.", "-lb", "-la", `-Wl,-rpath,${dir}`);
  });

  it("liba loaded first (both needed): its same() (sync) is reached, libb's (syncfs) is not; and the other way round", () => {
    const ab = analyze(join(dir, "ab"), { cache: false }).syscalls;
    assert.deepEqual([Object.hasOwn(ab, "sync"), Object.hasOwn(ab, "syncfs")], [true, false]);
    assert.deepEqual(ab.sync.via, ["same"]);
    const ba = analyze(join(dir, "ba"), { cache: false }).syscalls;
    assert.deepEqual([Object.hasOwn(ba, "sync"), Object.hasOwn(ba, "syncfs")], [false, true]);
    assert.deepEqual(ba.syncfs.via, ["same"]);
  });
});
