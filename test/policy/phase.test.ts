import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-phase-"));
const work = join(dir, "work.yaml");
writeFileSync(
  work,
  "version: 1\nphase: work\ndefaultAction: kill-process\nsyscalls:\n  - names: [read, write, exit_group]\n    action: allow\n",
);

describe("a work-phase policy (phase: work) is refused by whatever would start the program under it", () => {
  it("sysfence run refuses it with one line saying what to use instead, and runs nothing", async () => {
    const marker = join(dir, "ran");
    const r = await runCli("run", "--policy", work, "--", "/bin/sh", "-c", `echo > ${marker}`);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /work\.yaml is a work-phase policy \(phase: work\): sysfence run would start the program/,
    );
    assert.match(r.stderr, /without --phase work/);
    assert.equal(existsSync(marker), false, "nothing ran");
  });
  it("the launching exports refuse it; libseccomp C and raw BPF without a launcher write it", async () => {
    for (const f of ["systemd", "oci", "k8s"]) {
      const r = await runCli("export", work, "--format", f);
      assert.equal(r.code, 2, `${f}: ${r.stderr}`);
      assert.match(r.stderr, /is a work-phase policy/);
    }
    const c = await runCli("export", work, "--format", "libseccomp-c");
    assert.equal(c.code, 0, c.stderr);
  });
});
