import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parsePhase } from "../../src/record/builder.js";
import { countMismatches, profileFromLog, record } from "../../src/record/engines/strace/strace.js";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH as CLI } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  process.platform !== "linux"
    ? "needs Linux"
    : requireOrSkip(spawnSync("strace", ["-V"]).status === 0, "strace");
const calls = (p: Profile, name: string) =>
  p.syscalls[name] ? p.syscalls[name].setup + p.syscalls[name].work : 0;

describe("sysfence record on real workloads (strace)", { skip }, () => {
  const workloads: [string, string[]][] = [
    [
      "a shell pipeline of several processes",
      ["sh", "-c", "ls -la /usr/bin | head -5 >/dev/null; cat /etc/hostname >/dev/null"],
    ],
    [
      "a multi-threaded Node.js HTTP server under 200 requests",
      [process.execPath, `${REPO}test/fixtures/mt-server.mjs`],
    ],
    ["a file-system walk", ["find", "/usr/share/doc", "-maxdepth", "2", "-name", "*.gz"]],
  ];
  for (const [label, argv] of workloads) {
    it(`counts equal strace -c -f: ${label}`, async () => {
      const { profile, builder, status, log } = await record(argv, { checkCounts: true, pin: true });
      assert.equal(status, 0);
      assert.ok(log.summary.size > 10, "strace printed its summary");
      assert.deepEqual(countMismatches(profile, builder, log.summary), []);
      assert.equal(profile.complete, true);
    });
  }
  it("groups threads into process images and keeps argument values", async () => {
    const { profile } = await record([process.execPath, `${REPO}test/fixtures/mt-server.mjs`], {
      phase: parsePhase("listen"),
      phaseText: "listen",
    });
    const node = profile.processes.find((p) => p.exe.endsWith("node") && p.threads.length > 1);
    assert.ok(node, "node's threads are grouped under one process");
    assert.ok(node.threads.length >= 5);
    assert.ok(node.workStartedAt, "the work phase began at listen");
    assert.equal(profile.syscalls.listen.setup, 1);
    assert.ok(profile.syscalls.accept4.work > 0, "accepting is work");
    assert.equal(profile.syscalls.accept4.setup, 0);
    assert.ok(profile.syscalls.socket.args?.["0"]?.["2"], "socket(AF_INET=2) recorded as a value");
    assert.ok(profile.syscalls.clone3 || profile.syscalls.clone, "thread creation recorded");
  });
  it("--after marker: and --only-exe", async () => {
    const script =
      "cat /etc/hostname >/dev/null; echo SYSFENCE-MARK >/dev/null; cat /etc/hostname >/dev/null";
    const { profile } = await record(["sh", "-c", script], {
      phase: parsePhase("marker:SYSFENCE-MARK"),
      focus: { only: ["cat"] },
    });
    assert.ok(profile.processes.every((p) => p.exe.endsWith("cat")));
    assert.equal(profile.processes.length, 2);
    const [first, second] = profile.processes;
    const opens = (p: (typeof profile.processes)[number], phase: "setup" | "work") =>
      p.threads.reduce((a, t) => a + (t.syscalls.openat?.[phase] ?? 0), 0);
    assert.ok(
      opens(first, "setup") > 0 && opens(first, "work") === 0,
      "the first cat runs before the marker",
    );
    assert.ok(opens(second, "work") > 0 && opens(second, "setup") === 0, "the second cat runs after it");
    assert.ok(profile.paths["/etc/hostname"] >= 2);
  });
  it("--after delay: stamps strace's lines (only then) and splits the phases by time", async () => {
    const { straceArgs } = await import("../../src/record/engines/strace/strace.js");
    assert.ok(straceArgs("f", ["x"], parsePhase("delay:1")).includes("-ttt"));
    assert.ok(
      !straceArgs("f", ["x"], parsePhase("listen")).includes("-ttt"),
      "timestamps cost; not asked for",
    );
    const script = "cat /etc/hostname >/dev/null; sleep 0.6; cat /etc/hostname >/dev/null";
    const { profile } = await record(["sh", "-c", script], {
      phase: parsePhase("delay:0.3"),
      focus: { only: ["cat"] },
    });
    const [first, second] = profile.processes;
    const opens = (p: (typeof profile.processes)[number], phase: "setup" | "work") =>
      p.threads.reduce((a, t) => a + (t.syscalls.openat?.[phase] ?? 0), 0);
    assert.ok(opens(first, "setup") > 0 && opens(first, "work") === 0, "the first cat runs before 0.3 s");
    assert.ok(opens(second, "work") > 0 && opens(second, "setup") === 0, "the second cat after");
  });
  it("--from-strace reads a plain 'strace -f -o' log to the same counts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-rec-"));
    const log = join(dir, "t.log");
    spawnSync("strace", ["-f", "-C", "-o", log, "sh", "-c", "ls / >/dev/null; cat /etc/hostname >/dev/null"]);
    const { profile, builder, log: read } = await profileFromLog(log);
    assert.ok(read.summary.size > 10, "strace printed its summary");
    assert.deepEqual(countMismatches(profile, builder, read.summary), []);
    assert.ok(calls(profile, "execve") >= 3);
  });
  it("the CLI passes the exit status through and marks the profile incomplete", () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-rec-"));
    const out = join(dir, "p.json");
    const r = spawnSync(
      process.execPath,
      [CLI, "record", "-q", "--engine", "strace", "-o", out, "--", "sh", "-c", "exit 3"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 3);
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.equal(p.format, "sysfence-profile");
    assert.equal(p.complete, false);
    assert.equal(p.exitStatus, 3);
  });
  it("SIGTERM stops the recording and still writes the profile, marked incomplete", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-rec-"));
    const out = join(dir, "p.json");
    const child = spawn(
      process.execPath,
      [CLI, "record", "-q", "--engine", "strace", "-o", out, "--", "sleep", "30"],
      {
        stdio: "ignore",
      },
    );
    // (the program runs once the recording is under way; a fixed wait lost to a busy machine's start-up)
    for (let i = 0; i < 200 && spawnSync("pgrep", ["-f", "^sleep 30$"]).status !== 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 200));
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    assert.notEqual(
      spawnSync("pgrep", ["-f", "^sleep 30$"]).status,
      0,
      "the program was stopped, not left running",
    );
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.equal(p.complete, false);
    assert.ok(calls(p, "execve") >= 1);
  });
  it("without strace: one clear error saying how to install it", () => {
    const r = spawnSync(
      process.execPath,
      [CLI, "record", "--engine", "strace", "-o", "/tmp/x.json", "--", "/bin/true"],
      {
        encoding: "utf8",
        env: { ...process.env, PATH: "/nonexistent" },
      },
    );
    assert.equal(r.status, 127);
    assert.match(r.stderr, /strace is not installed; install it \(Debian\/Ubuntu: apt-get install strace/);
  });
});

describe("record names the executables it ran by absolute path", { skip }, () => {
  it("a command given as ./program is recorded as its absolute path, with its build-id (generate --static needs both)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-relexe-"));
    copyFileSync("/bin/true", join(dir, "prog"));
    chmodSync(join(dir, "prog"), 0o755);
    const r = spawnSync(
      process.execPath,
      [CLI, "record", "-q", "--engine", "strace", "-o", "p.json", "--", "./prog"],
      {
        cwd: dir,
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(readFileSync(join(dir, "p.json"), "utf8")) as Profile;
    const proc = p.processes.find((x) => x.exe.endsWith("/prog"));
    assert.ok(proc, JSON.stringify(p.processes.map((x) => x.exe)));
    assert.equal(proc.exe, join(dir, "prog"));
    assert.match(proc.buildId ?? "", /^[0-9a-f]{16,}$/);
  });
});
