// Option values read one way everywhere: integers through one parser that names the option and the value
// (`--pid abc` is not `--pid NaN`), and a C function name that is an identifier before it is pasted into C.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseIntegerOption, repeatable } from "../../src/cli/options.js";
import { runCli } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const DOCKER = `${REPO}examples/docker-default.json`;

describe("integer options", () => {
  it("parseIntegerOption takes whole numbers in range and names the option and value otherwise", () => {
    assert.equal(parseIntegerOption("--runs", "7", { min: 1 }), 7);
    for (const bad of ["abc", "", "1.5", "1e3", "0x10", "-3", "0", "12abc", "99999999999999999999"])
      assert.throws(
        () => parseIntegerOption("--runs", bad, { min: 1, max: 1000 }),
        (e: Error) => e.message === `--runs '${bad}': give a whole number, from 1 to 1000.`,
        bad,
      );
  });
  it("record --pid abc is a usage error naming --pid and abc", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "sysfence-opts-")), "p.json");
    const r = await runCli("record", "--pid", "abc", "-o", out);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--pid 'abc': give a process id, from 1 to 2147483647\./);
    assert.doesNotMatch(r.stderr, /NaN/);
  });
  it("bench --iterations and --runs are checked before anything runs", async () => {
    const it = await runCli("bench", DOCKER, "--iterations", "lots");
    assert.equal(it.code, 2);
    assert.match(it.stderr, /--iterations 'lots': give a whole number/);
    const runs = await runCli("bench", DOCKER, "--runs", "0", "--workload", "true");
    assert.equal(runs.code, 2);
    assert.match(runs.stderr, /--runs '0': give a whole number, from 1 to 1000\./);
  });
  it("demo --clients and --rounds go through the same parser", async () => {
    const r = await runCli("demo", "--clients", "many");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--clients 'many': give a whole number/);
  });
  it("repeatable collects one value per use", () => {
    assert.deepEqual(repeatable("b", repeatable("a", undefined)), ["a", "b"]);
  });
});

describe("export --function-name", () => {
  for (const format of ["libseccomp-c", "bpf-c"]) {
    it(`${format}: only a C identifier that is not a keyword`, async () => {
      const evil = await runCli(
        "export",
        DOCKER,
        "--format",
        format,
        "--function-name",
        'x(void){system("id");}int y',
      );
      assert.equal(evil.code, 2);
      assert.equal(evil.stdout, "", "no C written");
      assert.match(
        evil.stderr,
        /--function-name "x\(void\)\{system\(\\"id\\"\);\}int y" is not a C identifier/,
      );
      const digit = await runCli("export", DOCKER, "--format", format, "--function-name", "1install");
      assert.equal(digit.code, 2);
      const keyword = await runCli("export", DOCKER, "--format", format, "--function-name", "int");
      assert.equal(keyword.code, 2);
      assert.match(keyword.stderr, /--function-name "int" is a C keyword/);
      const ok = await runCli("export", DOCKER, "--format", format, "--function-name", "install_filter_2");
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /\binstall_filter_2\(/);
    });
  }
});
