import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { buildIdOfFile } from "../../src/analyze/elf.js";
import { elfOfProgram, findInPath, programFile } from "../../src/analyze/program-file.js";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-progfile-"));
const bin = join(dir, "bin");
mkdirSync(bin);
const script = (name: string, text: string) => {
  const p = join(bin, name);
  writeFileSync(p, text);
  chmodSync(p, 0o755);
  return p;
};
const env = { PATH: `${bin}:/usr/bin:/bin` };
const sh = "/bin/sh";

describe("program files: PATH and #! as the shell and kernel follow them", () => {
  it("looks a name up in PATH (first executable regular file), and says so when it is not there", () => {
    script("notexec", "#!/bin/sh\n");
    chmodSync(join(bin, "notexec"), 0o644);
    assert.equal(findInPath("true", env), "/usr/bin/true");
    assert.throws(() => findInPath("notexec", { PATH: bin }), /'notexec' is not in PATH/);
    assert.equal(findInPath("./x", env, "/tmp"), "/tmp/x");
  });

  it("follows #! to the interpreter, /usr/bin/env NAME through PATH, -S and settings, nested scripts", () => {
    const a = script("a", `#!${sh} -e\necho a\n`);
    assert.deepEqual(programFile(a, env), { elf: sh, scripts: [a] });
    const b = script("b", "#!/usr/bin/env -S LC_ALL=C a --flag\n");
    assert.deepEqual(programFile("b", env), { elf: sh, scripts: [b, a] });
    const c = script("c", "#!  /usr/bin/env true  \n");
    assert.deepEqual(programFile(c, env), { elf: "/usr/bin/true", scripts: [c] });
    assert.equal(
      elfOfProgram(b, env)?.buildId,
      buildIdOfFile(sh),
      "a script's build-id is its interpreter's",
    );
    const loop = script("loop", `#!${join(bin, "loop")}\n`);
    assert.throws(() => programFile(loop, env), /more than 4 nested #! interpreters/);
    const empty = script("empty", "#!   \n");
    assert.throws(() => programFile(empty, env), /names no interpreter/);
  });

  it("sysfence analyze takes a script or a bare name (it was 'not a valid ELF file' / ENOENT)", async () => {
    const s = script("tool", "#!/usr/bin/env true\n");
    const r = await runCli("analyze", s);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /is a #! script; analysing its interpreter \/usr\/bin\/true/);
    assert.match(r.stdout, /^\/usr\/bin\/true \(x86_64\)/);
    const byName = await runCli("analyze", "true");
    assert.equal(byName.code, 0, byName.stderr);
  });
});
