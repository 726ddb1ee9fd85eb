// record --cgroup PATH: every process of a cgroup (and the cgroups under it), those that join it after the
// recording is live (caught in the kernel by the cgroup's id on v2: from their exec, or their first fork),
// and their descendants; a process outside is not recorded. A cgroup v1 is read again every 100 ms and a
// process that joined is reported lost for what it did before; bad input is one clear error.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { listEbpf } from "../../src/ebpf/disasm.js";
import { cgroupPids, cgroupTarget } from "../../src/record/cgroup.js";
import type { KernelLayout, MapFds } from "../../src/record/engines/bpf/program-parts.js";
import { processExec, processFork } from "../../src/record/engines/bpf/programs.js";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH } from "../helpers/cli.js";
import { requireOrSkip } from "../helpers/require.js";

const UNIFIED = "/sys/fs/cgroup/unified";
const V1 = "/sys/fs/cgroup/pids";
const root = process.getuid?.() === 0;
const skip =
  requireOrSkip(root, "root") ||
  requireOrSkip(existsSync("/sys/kernel/btf/vmlinux"), "the kernel's BTF") ||
  requireOrSkip(existsSync(join(UNIFIED, "cgroup.procs")), `a cgroup2 mount at ${UNIFIED}`);
const skipV1 =
  requireOrSkip(root, "root") ||
  requireOrSkip(existsSync("/sys/kernel/btf/vmlinux"), "the kernel's BTF") ||
  requireOrSkip(existsSync(join(V1, "cgroup.procs")), `a cgroup v1 pids hierarchy at ${V1}`);
const dir = mkdtempSync(join(tmpdir(), "sysfence-cgroup-"));

/** Programs under names of their own, so a profile's images say which process ran what. */
const prog = (name: string, from: string) => {
  const p = join(dir, name);
  if (!existsSync(p)) copyFileSync(from, p);
  return p;
};

const made: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
  // a cgroup is removed once empty (its processes' exits are seen a little after the kill)
  for (const cg of made.reverse())
    for (let i = 0; i < 50 && existsSync(cg); i++)
      try {
        rmdirSync(cg);
      } catch {
        spawnSync("sleep", ["0.1"]);
      }
});

/** A new cgroup under `parent`, removed after the tests. */
const cgroup = (parent: string, name: string) => {
  const cg = join(parent, `sysfence-test-${process.pid}-${name}`);
  mkdirSync(cg);
  made.push(cg);
  return cg;
};

/** A shell that joins cgroup `cg` (writes its pid to cgroup.procs) and then runs `script` (sh -c). */
const joiner = (cg: string, script: string) => {
  const c = spawn("sh", ["-c", `echo $$ > ${cg}/cgroup.procs && ${script}`], { stdio: "ignore" });
  children.push(c);
  return c;
};

/** Starts record with `args`; resolves with its stderr so far once the live line is printed. */
const startRecord = (args: string[]) => {
  const rec = spawn(process.execPath, [CLI_PATH, "record", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let stdout = "";
  rec.stdout.on("data", (d) => {
    stdout += d;
  });
  const ended = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) =>
    rec.on("exit", (code) => resolve({ code, stderr, stdout })),
  );
  const live = new Promise<string>((resolve) =>
    rec.stderr.on("data", (d) => {
      stderr += d;
      if (/recording cgroup .* \(live, \d+ processes\)/.test(stderr)) resolve(stderr);
    }),
  );
  return {
    live: Promise.race([live, ended.then((e) => e.stderr)]),
    ended,
    kill: (s: NodeJS.Signals) => rec.kill(s),
  };
};

const until = async (ok: () => boolean, what: string) => {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ok(), what);
};

describe("record --cgroup: the cgroup named (pure checks)", () => {
  it("a missing path, a file and a directory that is no cgroup are refused, each naming the fix", () => {
    assert.throws(
      () => cgroupTarget(join(dir, "nope")),
      /--cgroup .*nope: no such directory .*give an existing cgroup/,
    );
    assert.throws(() => cgroupTarget(CLI_PATH), /not a directory; give a cgroup's directory/);
    assert.throws(
      () => cgroupTarget(dir),
      /not a cgroup \(its file system's statfs type is 0x[0-9a-f]+, not cgroup2's 0x63677270/,
    );
  });

  it("a v2 cgroup's id is its directory's inode number, at its depth below the hierarchy's root", {
    skip,
  }, () => {
    const cg = cgroup(UNIFIED, "pure");
    const sub = join(cg, "sub");
    mkdirSync(sub);
    made.push(sub);
    const t = cgroupTarget(`${sub}/`);
    assert.equal(t.version, 2);
    assert.equal(t.path, sub);
    assert.equal(t.id, statSync(sub, { bigint: true }).ino);
    assert.deepEqual(t.levels, [2], "unified/…-pure/sub: two levels below the root (id 1)");
    assert.deepEqual(cgroupPids(cg), [], "no process in it yet");
  });

  it("with a cgroup filter, fork and exec ask the kernel for the task's ancestor cgroup; without, never", () => {
    const m = Object.fromEntries(
      ["st", "img", "args", "c", "d", "e", "sig", "tot", "rb", "scratch", "want", "cfg"].map((k, i) => [
        k,
        i + 3,
      ]),
    ) as unknown as MapFds;
    const k = {
      taskPid: 8,
      taskTgid: 12,
      taskExitCode: 16,
      taskSignal: 24,
      signalLive: 4,
      binprmFilename: 32,
      syscallNr: 120,
    } as KernelLayout;
    const filter = { id: 4242n, levels: [1] };
    const text = (b: Buffer) => listEbpf(b);
    for (const program of [processFork, processExec]) {
      assert.doesNotMatch(text(program(m, k)), /ancestor_cgroup/);
      const with_ = text(program(m, k, filter));
      assert.match(with_, /get_current_ancestor_cgroup_id/);
      assert.match(with_, /0x1092\b/, "the id (4242)");
    }
  });
});

describe("record --cgroup on a cgroup v2 (the kernel follows it)", { skip }, () => {
  it("records the cgroup's processes and those that join it live, not a process outside; --duration ends it", async () => {
    const cg = cgroup(UNIFIED, "v2");
    const sub = join(cg, "sub");
    mkdirSync(sub);
    made.push(sub);
    const inside = prog("inside-ls", "/bin/ls");
    const outside = prog("outside-ls", "/bin/ls");
    const joined = prog("joined-mkdir", "/bin/mkdir");
    // one process in a cgroup under the one recorded, one outside it, both listing a directory in a loop
    joiner(sub, `exec sh -c 'while :; do ${inside} / >/dev/null; sleep 0.1; done'`);
    children.push(
      spawn("sh", ["-c", `while :; do ${outside} / >/dev/null; sleep 0.1; done`], { stdio: "ignore" }),
    );
    await until(() => cgroupPids(cg).length > 0, "the loop joined the cgroup");
    const out = join(dir, "v2.json");
    const rec = startRecord(["--cgroup", cg, "--duration", "4", "--json", "-o", out]);
    const live = await rec.live;
    assert.match(live, new RegExp(`sysfence record: recording cgroup ${cg} \\(live, [1-9]\\d* processes\\)`));
    // after the live line: a process joins and execs (as docker exec does), another joins and forks
    const made1 = join(dir, "made-by-exec");
    const j1 = joiner(cg, `exec ${joined} ${made1}`);
    // (python joins itself, with no exec after: its child is caught at the fork)
    const j2 = spawn(
      "python3",
      [
        "-c",
        `import os
open("${cg}/cgroup.procs", "w").write(str(os.getpid()))
pid = os.fork()
if pid == 0:
    [os.getpriority(os.PRIO_PROCESS, 0) for _ in range(7)]
    os._exit(0)
os.waitpid(pid, 0)`,
      ],
      { stdio: "ignore" },
    );
    children.push(j2);
    await Promise.all([j1, j2].map((c) => new Promise((r) => c.on("exit", r))));
    const r = await rec.ended;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(made1));
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    const exes = p.processes.map((x) => x.exe);
    assert.ok(exes.includes(inside), `the process in the cgroup below: ${exes.join(" ")}`);
    assert.ok(exes.includes(joined), `the process that joined and exec'd: ${exes.join(" ")}`);
    assert.ok(!exes.includes(outside), "the process outside the cgroup is not recorded");
    assert.ok(p.syscalls.getdents64, "the loop's ls");
    assert.ok(p.syscalls.mkdir || p.syscalls.mkdirat, "the joiner's mkdir");
    assert.ok(
      (p.syscalls.getpriority?.work ?? 0) >= 7,
      "the child forked by a process that joined without an exec",
    );
    assert.equal(p.complete, true, p.engine.lost);
    assert.deepEqual(JSON.parse(r.stdout).cgroup, cg);
  });
});

describe("record --cgroup: the end of a recording without --duration", { skip }, () => {
  it("SIGTERM ends it with the profile written; the cgroup's removal ends it too", async () => {
    const cg = cgroup(UNIFIED, "term");
    const looping = prog("term-ls", "/bin/ls");
    const loop = joiner(cg, `exec sh -c 'while :; do ${looping} / >/dev/null; sleep 0.1; done'`);
    await until(() => cgroupPids(cg).length > 0, "the loop joined the cgroup");
    const out = join(dir, "term.json");
    const rec = startRecord(["--cgroup", cg, "-o", out]);
    const child = await rec.live;
    assert.match(child, /\(live, [1-9]\d* processes\)/);
    await new Promise((r) => setTimeout(r, 500));
    rec.kill("SIGTERM");
    const r = await rec.ended;
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.ok(p.processes.some((x) => x.exe === looping));
    loop.kill("SIGKILL");
    const empty = cgroup(UNIFIED, "gone");
    const rec2 = startRecord(["--cgroup", empty, "-o", join(dir, "gone.json")]);
    assert.match(await rec2.live, /\(live, 0 processes\)/);
    rmdirSync(empty);
    const r2 = await rec2.ended;
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /no calls were seen from the processes of cgroup/);
  });
});

describe("record --cgroup on a cgroup v1 (read again every 100 ms)", { skip: skipV1 }, () => {
  it("records its processes and one that joins, whose calls before the next reading are reported lost", async () => {
    const cg = cgroup(V1, "v1");
    const inside = prog("inside-v1-ls", "/bin/ls");
    const joined = prog("joined-v1-mkdir", "/bin/mkdir");
    joiner(cg, `exec sh -c 'while :; do ${inside} / >/dev/null; sleep 0.1; done'`);
    await until(() => cgroupPids(cg).length > 0, "the loop joined the cgroup");
    const out = join(dir, "v1.json");
    const rec = startRecord(["--cgroup", cg, "--duration", "3", "-o", out]);
    assert.match(await rec.live, /recording cgroup .* \(live, [1-9]\d* processes\)/);
    const made1 = join(dir, "made-v1");
    // it joins, waits past a reading, then runs its program (a child of a traced process)
    const j = joiner(cg, `sleep 0.5; ${joined} ${made1}`);
    await new Promise((resolve) => j.on("exit", resolve));
    const r = await rec.ended;
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    const exes = p.processes.map((x) => x.exe);
    assert.ok(exes.includes(inside), exes.join(" "));
    assert.ok(exes.includes(joined), exes.join(" "));
    assert.equal(p.complete, false);
    assert.match(
      p.engine.lost ?? "",
      /between joining the cgroup \(v1: it has no id the kernel can filter by\)/,
    );
  });
});

describe("record --cgroup: bad input", () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [CLI_PATH, "record", ...args], { encoding: "utf8" });
  it("a missing path, no cgroup, another engine, a second target or a command is one clear error", () => {
    const cases: [string[], RegExp][] = [
      [["--cgroup", join(dir, "nope")], /--cgroup .*nope: no such directory/],
      [["--cgroup", dir], /not a cgroup/],
      [["--cgroup", dir, "--pid", "1"], /give one of --pid PID, --cgroup PATH, not more/],
      [["--cgroup", dir, "ls"], /--cgroup records a cgroup's processes: give no command/],
      [["--cgroup", dir, "--after", "listen"], /--cgroup has no start-up phase/],
    ];
    if (existsSync(join(UNIFIED, "cgroup.procs")))
      cases.push([["--cgroup", UNIFIED, "--engine", "strace"], /only the bpf engine records a cgroup/]);
    for (const [args, message] of cases) {
      const r = cli(...args, "-o", join(dir, "bad.json"));
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(join(dir, "bad.json")), "nothing written");
    }
  });
});
