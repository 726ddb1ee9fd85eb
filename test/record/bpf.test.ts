// The bpf engine: sysfence's eBPF programs count in the kernel; its profile must equal the strace engine's of the same
// workload (engine, pids and paths aside: it reads only executed files), and anything it drops is counted.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH } from "../helpers/cli.js";
import { comparable } from "../helpers/profiles.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  requireOrSkip(process.getuid?.() === 0, "root") ||
  requireOrSkip(existsSync("/sys/kernel/btf/vmlinux"), "the kernel's BTF") ||
  requireOrSkip(spawnSync("strace", ["-V"]).status === 0, "strace");

const dir = mkdtempSync(join(tmpdir(), "sysfence-bpf-"));
function record(
  engine: string,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  options: string[] = [],
): { profile: Profile; stderr: string } {
  const out = join(dir, `${engine}-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(
    process.execPath,
    [CLI_PATH, "record", "-q", "--engine", engine, ...options, "-o", out, "--", ...argv],
    {
      encoding: "utf8",
      env: { ...process.env, ...env },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return { profile: JSON.parse(readFileSync(out, "utf8")) as Profile, stderr: r.stderr };
}

describe("record --engine bpf", { skip }, () => {
  const workloads: [string, string[]][] = [
    ["a syscall-heavy program", ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=20000", "status=none"]],
    [
      "a tree of processes and execs",
      ["sh", "-c", "ls / >/dev/null; cat /etc/hostname >/dev/null; sort /etc/passwd >/dev/null; exit 3"],
    ],
  ];
  for (const [what, argv] of workloads) {
    it(`${what}: the profile equals the strace engine's (engine, pids and paths aside)`, () => {
      const exit3 = argv.join(" ").includes("exit 3");
      const run = (engine: string) => {
        const out = join(dir, `${engine}-${what.length}.json`);
        const r = spawnSync(
          process.execPath,
          [CLI_PATH, "record", "-q", "--engine", engine, "-o", out, "--", ...argv],
          {
            encoding: "utf8",
          },
        );
        assert.equal(r.status, exit3 ? 3 : 0, r.stderr);
        return JSON.parse(readFileSync(out, "utf8")) as Profile;
      };
      const b = run("bpf");
      const s = run("strace");
      assert.equal(b.engine.name, "bpf");
      assert.equal(b.engine.lostEvents, undefined, b.engine.lost);
      // sort grows its heap by one brk more or fewer from run to run (both engines count what it did)
      assert.equal(comparable(b, ["brk"]), comparable(s, ["brk"]));
    });
  }

  it("calls counted in sys_enter's per-CPU cache reach the profile, also when their slot is taken over", () => {
    // repeats of a (thread, syscall) add up in its cache slot: close (3) and mknodat (259) share a
    // thread's slot, so each mknodat takes the slot over from the three closes before it (their repeats go
    // to the count map) and the next close takes it back; two threads on one CPU interleave their slots
    const code = [
      "import os, stat, threading, tempfile",
      "d = tempfile.mkdtemp()",
      "def work(k):",
      "    p = os.path.join(d, f'f{k}')",
      "    for i in range(300):",
      "        os.mknod(p, 0o600 | stat.S_IFIFO)",
      "        for _ in range(3): os.close(os.dup(0))",
      "        os.unlink(p)",
      "ts = [threading.Thread(target=work, args=(k,)) for k in range(2)]",
      "for t in ts: t.start()",
      "for t in ts: t.join()",
      "os.rmdir(d)",
    ].join("\n");
    const argv = ["taskset", "-c", "0", "/usr/bin/python3", "-c", code];
    const counts = (p: Profile) =>
      Object.fromEntries(["close", "mknodat", "unlink"].map((n) => [n, p.syscalls[n]?.setup]));
    const b = record("bpf", argv).profile;
    const s = record("strace", argv).profile;
    assert.equal(b.complete, true, b.engine.lost);
    assert.equal(b.syscalls.mknodat?.setup, 600);
    assert.deepEqual(counts(b), counts(s));
  });

  it("a count map that overflows is counted as loss, never silently dropped; generate refuses it", () => {
    const { profile, stderr } = record("bpf", ["sh", "-c", "ls / >/dev/null; cat /etc/hostname >/dev/null"], {
      SYSFENCE_BPF_MAP_KEYS: "8",
    });
    assert.ok((profile.engine.lostEvents ?? 0) > 0, "the overflow was counted");
    assert.match(profile.engine.lost ?? "", /calls past the count map's 8 keys/);
    assert.match(stderr, /marked incomplete/);
    const file = join(dir, "lossy.json");
    spawnSync("sh", ["-c", `cat > ${file}`], { input: JSON.stringify(profile) });
    const g = spawnSync(process.execPath, [CLI_PATH, "generate", file], { encoding: "utf8" });
    assert.equal(g.status, 2);
    assert.match(g.stderr, /lost events.*--allow-incomplete/);
  });

  it("clone3's register is an address, never recorded as flags (a policy from it would allow any clone)", () => {
    const { profile } = record("bpf", [
      "python3",
      "-c",
      "import threading; t = threading.Thread(target=print); t.start(); t.join()",
    ]);
    assert.ok(profile.syscalls.clone3, "python starts its thread with clone3");
    assert.equal(profile.syscalls.clone3.args, undefined);
  });

  it("--after listen counts the work phase in the kernel", () => {
    const { profile } = record("bpf", [
      "python3",
      "-c",
      "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); s.getsockname(); s.close()",
    ]);
    // (record without --after: everything is setup)
    assert.equal(profile.syscalls.listen?.setup, 1);
    const { profile: p } = record(
      "bpf",
      [
        "python3",
        "-c",
        "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); s.getsockname(); s.close()",
      ],
      {},
      ["--after", "listen"],
    );
    assert.equal(p.syscalls.listen.setup, 1);
    assert.equal(p.syscalls.getsockname.work, 1, "after listen: work");
    assert.equal(p.syscalls.getsockname.setup, 0);
  });
});

describe("--after delay:SECONDS with every engine", () => {
  it("splits the phases by time the same way under strace, ftrace and bpf", { skip }, async () => {
    const script = "cat /etc/hostname >/dev/null; sleep 0.8; cat /etc/hostname >/dev/null";
    for (const engine of ["strace", "ftrace", "bpf"]) {
      const { profile } = record(engine, ["sh", "-c", script], {}, [
        "--after",
        "delay:0.4",
        "--only-exe",
        "cat",
      ]);
      const [first, second] = profile.processes;
      const opens = (p: (typeof profile.processes)[number], phase: "setup" | "work") =>
        p.threads.reduce((a, t) => a + (t.syscalls.openat?.[phase] ?? 0), 0);
      assert.equal(profile.processes.length, 2, engine);
      assert.ok(
        opens(first, "setup") > 0 && opens(first, "work") === 0,
        `${engine}: the first cat runs before 0.4 s`,
      );
      assert.ok(opens(second, "work") > 0 && opens(second, "setup") === 0, `${engine}: the second cat after`);
    }
  });
});
