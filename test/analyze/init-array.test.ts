// An .init_array entry written as a symbolic relocation (R_X86_64_64 / R_AARCH64_ABS64 against a global,
// preemptible constructor, as libcap's _libcap_initialize is) is a function the loader calls: analyze
// reaches it through the global scope, as it does relative entries.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { analyze } from "../../src/analyze/analyze.js";
import { readElf } from "../../src/analyze/elf.js";
import { objectFacts } from "../../src/analyze/facts.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const have = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const LIB = `${REPO}test/fixtures/init-array-lib.c`;
const MAIN = `${REPO}test/fixtures/init-array-main.c`;

function build(cc: string, dir: string, variant: "ctor" | "plain"): { lib: string; main: string } {
  const lib = join(dir, `libfx${variant}.so`);
  const main = join(dir, `main-${variant}`);
  const flags = variant === "plain" ? ["-DNOT_CTOR"] : [];
  let b = spawnSync(cc, ["-O2", "-fPIC", "-shared", ...flags, "-o", lib, LIB], { encoding: "utf8" });
  assert.equal(b.status, 0, b.stderr);
  b = spawnSync(cc, ["-O2", "-o", main, MAIN, lib, `-Wl,-rpath,${dir}`], { encoding: "utf8" });
  assert.equal(b.status, 0, b.stderr);
  return { lib, main };
}

/** The relocation that fills the object's .init_array slots: its type and symbol. */
function initArrayRelocs(lib: string) {
  const elf = readElf(readFileSync(lib), lib);
  const range = elf.dynamic.initArray;
  assert.ok(range, `${lib} has an .init_array`);
  return elf.relocations
    .filter((r) => r.offset >= range[0] && r.offset < range[0] + range[1])
    .map((r) => ({ type: r.type, symbol: r.symbol?.name }));
}

describe("analyze: .init_array entries given by symbolic relocations", () => {
  it("x86_64: a constructor named by R_X86_64_64 is reached at load; the same function unnamed is not", {
    skip:
      process.platform === "linux" && process.arch === "x64"
        ? requireOrSkip(have("gcc"), "gcc")
        : "needs Linux x86_64",
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-init-array-"));
    const ctor = build("gcc", dir, "ctor");
    const plain = build("gcc", dir, "plain");
    assert.ok(
      initArrayRelocs(ctor.lib).some((r) => r.type === 1 && r.symbol === "fx_init"),
      "the fixture's .init_array slot is R_X86_64_64 against fx_init",
    );
    assert.equal(spawnSync(ctor.main).status, 0, "the fixture runs");
    const r = analyze(ctor.main, { cache: false });
    assert.deepEqual(r.syscalls.getcpu?.via, ["initialisers of libfxctor.so"]);
    assert.equal(
      analyze(plain.main, { cache: false }).syscalls.getcpu,
      undefined,
      "control: not a constructor",
    );
  });

  it("aarch64: a constructor named by R_AARCH64_ABS64 is a load root of the object's facts", {
    skip:
      process.platform === "linux"
        ? requireOrSkip(have("aarch64-linux-gnu-gcc"), "gcc-aarch64-linux-gnu")
        : "needs Linux",
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-init-array-arm-"));
    const lib = join(dir, "libfxctor.so");
    const b = spawnSync("aarch64-linux-gnu-gcc", ["-O2", "-fPIC", "-shared", "-o", lib, LIB], {
      encoding: "utf8",
    });
    assert.equal(b.status, 0, b.stderr);
    assert.ok(
      initArrayRelocs(lib).some((r) => r.type === 257 && r.symbol === "fx_init"),
      "the fixture's .init_array slot is R_AARCH64_ABS64 against fx_init",
    );
    const facts = objectFacts(readElf(readFileSync(lib), lib));
    assert.deepEqual(
      facts.rootNames.map((n) => facts.names[n]),
      ["fx_init"],
    );
    const f = facts.functions.get(facts.exports.fx_init);
    assert.deepEqual(f.sys, [168], "fx_init makes getcpu (168 on aarch64)");
  });
});
