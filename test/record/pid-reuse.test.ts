// Many short processes while the kernel reuses pids (pid_max lowered for the test): every image keeps its
// own program and exit status under the kernel-side engines, and bpftrace is never stopped half-way
// through printing its counts (a second SIGINT while it printed killed it: every count of a recording of
// 1000 processes was lost, and the profile still said complete).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const root = process.getuid?.() === 0;
const engines = [
  ...(root && existsSync("/sys/kernel/tracing/events/raw_syscalls") ? ["ftrace"] : []),
  ...(root ? ["bpf"] : []),
];
const skip = requireOrSkip(
  engines.length > 0 && existsSync("/proc/sys/kernel/pid_max"),
  "root with ftrace or bpf",
);
const dir = mkdtempSync(join(tmpdir(), "sysfence-pid-reuse-"));

/** Images and exit statuses per program, folded entries counted by their images and endings. */
function endings(p: Profile): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const x of p.processes) {
    out[x.exe] ??= {};
    const e = out[x.exe];
    if (x.endings) for (const [k, n] of Object.entries(x.endings)) e[k] = (e[k] ?? 0) + n;
    else if (x.exitStatus !== undefined) e[String(x.exitStatus)] = (e[String(x.exitStatus)] ?? 0) + 1;
  }
  return out;
}

describe("pids the kernel reuses during a recording", { skip }, () => {
  const spawner = join(dir, "spawner");
  execFileSync("gcc", ["-O2", "-o", spawner, `${REPO}test/fixtures/spawner.c`]);
  it("1200 short processes in 1700 pids: each image its own program and status (ftrace, bpf)", () => {
    const pidMax = "/proc/sys/kernel/pid_max";
    const before = readFileSync(pidMax, "utf8").trim();
    for (const engine of engines) {
      const out = join(dir, `${engine}.json`);
      writeFileSync(pidMax, "2000");
      let r: ReturnType<typeof spawnSync>;
      try {
        r = spawnSync(
          process.execPath,
          [CLI_PATH, "record", "-q", "--engine", engine, "-o", out, "--", spawner, "1200"],
          {
            encoding: "utf8",
          },
        );
      } finally {
        writeFileSync(pidMax, before);
      }
      assert.equal(r.status, 0, String(r.stderr));
      const profile = JSON.parse(readFileSync(out, "utf8")) as Profile;
      assert.equal(profile.complete, true, `${engine}: ${profile.engine.lost ?? ""}`);
      const e = endings(profile);
      assert.deepEqual(e["/bin/true"], { 0: 600 }, `${engine}: /bin/true`);
      assert.deepEqual(e["/bin/false"], { 1: 600 }, `${engine}: /bin/false`);
      assert.equal(profile.syscalls.execve.setup, 1201, engine);
    }
  });
});
