// Threads that replace or outlive their process's leader (test/fixtures/thread-exec.c), under every engine
// and from an imported strace log: an exec by a second thread takes over the leader's pid, and the new
// program's calls belong to the new program (the bpf engine lost them, the strace engine gave them to the
// old one); a leader that exits first leaves the process running, and its last thread's exit is the
// process's.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const root = process.getuid?.() === 0;
const engines = [
  ...(spawnSync("strace", ["-V"]).status === 0 ? ["strace"] : []),
  ...(root && existsSync("/sys/kernel/tracing/events/raw_syscalls") ? ["ftrace"] : []),
  ...(root ? ["bpf"] : []),
];
const skip = requireOrSkip(engines.includes("strace"), "strace");
const dir = mkdtempSync(join(tmpdir(), "sysfence-thread-exec-"));
const program = join(dir, "thread-exec");

function record(args: string[], status: number): Profile {
  const out = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(process.execPath, [CLI_PATH, "record", "-q", "-o", out, ...args], { encoding: "utf8" });
  assert.equal(r.status, status, r.stderr);
  return JSON.parse(readFileSync(out, "utf8")) as Profile;
}
const sum = (t: Profile["processes"][number]["threads"][number]) =>
  Object.values(t.syscalls).reduce((a, c) => a + c.setup + c.work, 0);
/** An image's calls by name, over its threads. */
function calls(p: Profile["processes"][number]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of p.threads)
    for (const [n, c] of Object.entries(t.syscalls)) out[n] = (out[n] ?? 0) + c.setup + c.work;
  return out;
}

describe("threads that replace or outlive their leader", { skip }, () => {
  execFileSync("gcc", ["-O2", "-pthread", "-o", program, `${REPO}test/fixtures/thread-exec.c`]);
  const cat = ["/bin/cat", "/etc/hostname"];

  it("an exec by a second thread: the new program's calls are its own, under the leader's pid (every engine)", () => {
    const images: Record<string, Record<string, number>> = {};
    const check = (what: string, profile: Profile) => {
      const execed = profile.processes.filter((p) => p.exe === "/bin/cat");
      assert.equal(execed.length, 1, `${what}: one /bin/cat image (${profile.processes.map((p) => p.exe)})`);
      const [c] = execed;
      const before = profile.processes.find((p) => p.exe.endsWith("thread-exec") && p.threads.length === 2);
      assert.ok(before, `${what}: the image that made the thread, with both threads`);
      assert.equal(c.pid, before.pid, `${what}: the exec'd program runs under the leader's pid`);
      assert.deepEqual(
        c.threads.map((t) => t.tid),
        [c.pid],
        `${what}: its one thread has the leader's tid`,
      );
      assert.ok((calls(c).read ?? 0) >= 1 && (calls(c).write ?? 0) >= 1, `${what}: cat read and wrote`);
      images[what] = calls(c);
    };
    for (const engine of engines)
      check(engine, record(["--engine", engine, "--", program, "exec", ...cat], 0));
    // the same log imported
    const log = join(dir, "exec.log");
    spawnSync("strace", ["-f", "-o", log, program, "exec", ...cat], { stdio: "ignore" });
    check("--from-strace", record(["--from-strace", log], 0));
    // cat's calls are the same whoever recorded them
    const [first, ...rest] = Object.entries(images);
    for (const [what, c] of rest) assert.deepEqual(c, first[1], `${what} vs ${first[0]}`);
  });

  it("a leader that exits first: the other thread's calls are counted and its exit is the process's", () => {
    for (const engine of engines) {
      const profile = record(["--engine", engine, "--", program, "leader-exits"], 7);
      assert.equal(profile.exitStatus, 7, engine);
      const image = profile.processes.find((p) => p.threads.length === 2);
      assert.ok(image, `${engine}: the image with both threads`);
      const other = image.threads.find((t) => t.tid !== image.pid);
      assert.equal(other?.syscalls.write?.setup, 5, `${engine}: the thread's writes after the leader's end`);
      assert.ok(other && sum(other) >= 6, engine);
      assert.equal(image.exitStatus, 7, `${engine}: the process's exit status`);
    }
  });
});
