// record --pid/--container --duration N: the window is N seconds of recording from the moment the engine
// sees every call. It was counted from before the engine attached; bpftrace takes seconds to start (LLVM
// compiles its script), so a short --duration recorded a fraction of a second, or nothing: a Docker
// container's shell loop recorded for 3 s showed one of its children.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { recordAttached } from "../../src/record/attach.js";
import { requireOrSkip } from "../helpers/require.js";

const root = process.platform === "linux" && process.getuid?.() === 0;
const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

describe("record of a running process: --duration counts from the engine's attachment", {
  skip: !root ? "needs root (bpf engine)" : requireOrSkip(has("bpftrace") && has("busybox"), "bpftrace"),
}, () => {
  it("a call made just after the bpf engine attached is in a 1 s recording (bpftrace's start-up is not)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-window-"));
    const made = join(dir, "made");
    // waits for SIGUSR1 (sent once the engine sees every call), then makes a call it never made before
    const child = spawn(
      "sh",
      ["-c", `trap 'sleep 0.2; /bin/busybox mkdir ${made}; exit 0' USR1; while true; do sleep 0.05; done`],
      { stdio: "ignore" },
    );
    try {
      const { profile } = await recordAttached(child.pid as number, {
        engine: "bpf",
        durationSeconds: 1,
        onAttached: () => child.kill("SIGUSR1"),
      });
      assert.ok(existsSync(made), "the child ran mkdir");
      assert.ok(profile.syscalls.mkdir, "mkdir, made after the engine attached, is recorded");
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
