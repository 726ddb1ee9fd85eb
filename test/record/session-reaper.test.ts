// The reaper (session.ts) outlives a SIGKILLed sysfence and kills the recorded program's tree. It is a
// shell started with the first pids it is given (the first progress tick, 100 ms in), not at every
// recording's start: a reaper without pids kills nothing, and its fork of sysfence's Node and the shell's
// start were on the path of every recording's start (record -- /bin/true ends before the first tick).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ProfileBuilder } from "../../src/record/builder.js";
import { watch } from "../../src/record/session.js";
import { descendantsOf } from "../../src/util/proc-tree.js";

/** The commands (comm) of this process's children. */
const children = () =>
  descendantsOf(process.pid).map((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, "utf8").trim();
    } catch {
      return "?";
    }
  });

describe("record's reaper", () => {
  it("is not started while there is no program to watch", async () => {
    const before = children().filter((c) => c === "sh").length;
    const w = watch(new ProfileBuilder(["x"], { kind: "none" }), {}, () => undefined);
    await new Promise((r) => setTimeout(r, 250));
    const during = children().filter((c) => c === "sh").length;
    w.stop();
    assert.equal(during, before, "no reaper shell without pids");
  });

  it("is started with the program's pid at the first tick, and ends when the recording does", async () => {
    const program = spawn("sleep", ["5"], { stdio: "ignore" });
    const w = watch(new ProfileBuilder(["sleep"], { kind: "none" }), {}, () => program.pid);
    try {
      await new Promise((r) => setTimeout(r, 250));
      assert.ok(children().includes("sh"), `a reaper shell among ${children().join(" ")}`);
    } finally {
      w.stop();
      program.kill("SIGKILL");
    }
    for (let i = 0; i < 100 && children().includes("sh"); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(!children().includes("sh"), "the reaper left (told done)");
  });
});
