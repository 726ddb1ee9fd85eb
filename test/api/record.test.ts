// The library's record entry: a strace log (fromLog) with checkCounts gives the comparison as a result
// field (no internal builder leaves the library); exactly one way of recording is taken.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, it } from "node:test";
import { recordProgram } from "../../src/api/record.js";

describe("api recordProgram", () => {
  it("fromLog with checkCounts: strace's own counts compared, equal for a real log", async () => {
    const dir = mkdtempSync(`${tmpdir()}/sysfence-api-record-`);
    try {
      const log = `${dir}/ls.strace`;
      const s = spawnSync("strace", ["-f", "-C", "-o", log, "ls", "/"], { encoding: "utf8" });
      assert.equal(s.status, 0, s.stderr);
      const r = await recordProgram({ fromLog: log, checkCounts: true });
      assert.equal(r.engine, "strace-log");
      assert.ok(r.counts && r.counts.compared > 0, "strace's summary was read");
      assert.deepEqual(r.counts?.differences, []);
      assert.ok(!("builder" in r));
      assert.ok(Object.keys(r.profile.syscalls).includes("execve"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses none or several of argv, pid, container and fromLog", async () => {
    await assert.rejects(recordProgram({}), /exactly one of argv, pid, container and fromLog/);
    await assert.rejects(
      recordProgram({ argv: ["true"], fromLog: "x.log" }),
      /exactly one of argv, pid, container and fromLog/,
    );
  });
});
