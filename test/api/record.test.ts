// The library's record entry: a strace log (fromLog) with checkCounts gives the comparison as a result
// field (no internal builder leaves the library); exactly one way of recording is taken; a cgroup is
// recorded by the bpf engine only.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, it } from "node:test";
import { recordProgram } from "../../src/api/record.js";

const UNIFIED = "/sys/fs/cgroup/unified";

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

  it("refuses none or several of argv, pid, container, cgroup and fromLog", async () => {
    await assert.rejects(recordProgram({}), /exactly one of argv, pid, container, cgroup and fromLog/);
    await assert.rejects(
      recordProgram({ argv: ["true"], fromLog: "x.log" }),
      /exactly one of argv, pid, container, cgroup and fromLog/,
    );
    await assert.rejects(recordProgram({ pid: 1, cgroup: "/x" }), /exactly one of/);
  });

  it("cgroup: a directory that is no cgroup, and an engine other than bpf, are refused", async () => {
    await assert.rejects(recordProgram({ cgroup: tmpdir() }), /not a cgroup/);
    if (existsSync(`${UNIFIED}/cgroup.procs`))
      await assert.rejects(
        recordProgram({ cgroup: UNIFIED, engine: "ftrace" }),
        /only the bpf engine records a cgroup/,
      );
  });

  it("cgroup: an empty cgroup v2 recorded for a second gives an incomplete profile and says why", {
    skip: !(
      process.getuid?.() === 0 &&
      existsSync(`${UNIFIED}/cgroup.procs`) &&
      existsSync("/sys/kernel/btf/vmlinux")
    )
      ? `root, the kernel's BTF and a cgroup2 mount at ${UNIFIED} are needed`
      : false,
  }, async () => {
    const cg = `${UNIFIED}/sysfence-api-${process.pid}`;
    mkdirSync(cg);
    try {
      let processes: number | undefined;
      const r = await recordProgram({
        cgroup: cg,
        durationSeconds: 1,
        onAttached: (n) => {
          processes = n;
        },
      });
      assert.equal(processes, 0);
      assert.deepEqual(r.cgroup, { path: cg, version: 2 });
      assert.equal(r.engine, "bpf");
      assert.equal(r.profile.complete, false);
      assert.match(r.warnings.join("\n"), /no calls were seen from the processes of cgroup/);
    } finally {
      rmdirSync(cg);
    }
  });
});
