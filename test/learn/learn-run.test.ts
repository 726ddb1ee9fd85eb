// The learning mode against the real kernel: a program records a baseline, a pinned policy is generated
// from it, and each use the baseline never made is learned (run --learn), patched (audit --patch) and run
// again under the patched policy.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { seccompPolicyFor } from "../../src/policy/landlock.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import type { Profile } from "../../src/record/profile.js";
import { ARCHES, nativeArch } from "../../src/syscalls/arches.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { CLI_PATH, spawnCli } from "../helpers/cli.js";
import { helperFile } from "../helpers/paths.js";

const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "sysfence-learn-"));
const learnee = join(dir, "learnee");
const A = join(dir, "A");
const policy = join(dir, "pin.yaml");
/** Two TCP ports for the bind case (the run's pid keeps parallel runs apart). */
const PORTS = [20000 + (process.pid % 20000), 20001 + (process.pid % 20000)];

const cli = (args: string[], asNobody = false) => {
  const r = spawnCli(args, { asNobody, cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const profileOf = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Profile;
/** The decision of a (patched) policy file for one call, as a run here gives it (Landlock held). */
const decides = (file: string, name: string, args: bigint[]) =>
  referenceDecide(seccompPolicyFor(parsePolicy(readFileSync(file, "utf8"), { file }).policy, true), {
    arch: ARCHES.x86_64.audit,
    nr: syscallNumber("x86_64", name) as number,
    args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6),
  }).kind;
/** Seccomp records in the kernel log from the test program (by its path, which no other program has). */
const recordsOfLearnee = () =>
  execFileSync("dmesg", { encoding: "utf8" })
    .split("\n")
    .filter((l) => /type=1326|seccomp/.test(l) && l.includes(`exe="${learnee}"`)).length;

describe("run --learn against the kernel", {
  skip: !root && "needs root (records with strace as another user)",
}, () => {
  before(() => {
    chmodSync(dir, 0o755);
    execFileSync("gcc", ["-O2", "-pthread", "-o", learnee, helperFile("learnee.c")]);
    mkdirSync(A);
    chmodSync(A, 0o777);
    // the baseline: a fork and exec of the child, an fcntl command, an AF_INET socket and one option level,
    // a file written in A; no uname
    const r = cli([
      "record",
      "-q",
      "--engine",
      "strace",
      "-o",
      join(dir, "rec.json"),
      "--",
      learnee,
      "calls",
      A,
      "0",
    ]);
    assert.equal(r.status, 0, r.stderr);
    chmodSync(join(A, "base.txt"), 0o666);
    const g = cli(["generate", join(dir, "rec.json"), "--args", "pin", "--static", "off", "-o", policy]);
    assert.equal(g.status, 0, g.stderr);
    chmodSync(policy, 0o644);
  });

  it("an unprivileged learning run counts every unseen call exactly (40,001: one thread, four at once, an exec'd child), and the patched policy runs clean", () => {
    const outDir = join(dir, "nobody");
    mkdirSync(outDir);
    chmodSync(outDir, 0o777);
    const out = join(outDir, "calls.json");
    const plain = spawnSync(learnee, ["calls", A, "20000"], { encoding: "utf8" });
    const before = recordsOfLearnee();
    const r = cli(["run", "--policy", policy, "--learn", out, "--", learnee, "calls", A, "20000"], true);
    const after = recordsOfLearnee();
    assert.equal(r.status, plain.status, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, plain.stdout);
    assert.match(r.stderr, /recorded and let through/);
    const p = profileOf(out);
    assert.equal(p.engine.name, "learn");
    assert.equal(p.syscalls.uname?.setup, 40001, JSON.stringify(p.syscalls));
    const main = p.processes.find((x) => x.threads.length === 5);
    assert.ok(main, "the main process with its four threads");
    const perThread = main.threads.map((t) => t.syscalls.uname?.setup ?? 0).sort((a, b) => b - a);
    assert.deepEqual(perThread, [20000, 5000, 5000, 5000, 5000]);
    const child = p.processes.find((x) => x !== main);
    assert.equal(child?.threads[0].syscalls.uname?.setup, 1, "the exec'd child's one call");
    assert.equal(child?.exe, learnee);
    assert.ok(child?.buildId, "its image's build-id");
    // the fix loop closes
    const patched = join(dir, "calls-patched.yaml");
    const a = cli(["audit", "--patch", policy, out, "-o", patched]);
    assert.match(a.stderr, /uname: allowed/);
    assert.equal(a.status, 0, a.stderr);
    chmodSync(patched, 0o644);
    const beforeAgain = recordsOfLearnee();
    const again = cli(["run", "--policy", patched, "--", learnee, "calls", A, "20000"], true);
    assert.equal(again.status, 0, again.stderr);
    // its flags: [log] log nothing either: the clone3 answers come from the quiet filter
    assert.equal(recordsOfLearnee(), beforeAgain, "the patched policy's run writes no kernel-log record");
    // nothing left to learn: no notification
    const out2 = join(outDir, "calls-again.json");
    const before2 = recordsOfLearnee();
    const l2 = cli(["run", "--policy", patched, "--learn", out2, "--", learnee, "calls", A, "20000"], true);
    assert.equal(l2.status, 0, l2.stderr);
    assert.deepEqual(profileOf(out2).syscalls, {});
    assert.match(l2.stderr, /nothing to learn/);
    // the policy's flags: [log] and its 40,001 refusals would have logged; a learning run logs nothing
    assert.equal(after, before, "a learning run writes nothing to the kernel log");
    assert.equal(recordsOfLearnee(), before2, "nor does one under the patched policy");
  });

  const cases: {
    mode: string;
    args?: string[];
    added: RegExp;
    /** a value never seen that the patched policy must still refuse */
    stillRefused: () => void;
  }[] = [
    {
      mode: "fcntl",
      added: /fcntl when arg1 == F_GETFL/,
      stillRefused: () => assert.notEqual(decides(join(dir, "p-fcntl.yaml"), "fcntl", [1n, 6n]), "allow"),
    },
    {
      mode: "sockopt",
      added: /setsockopt when arg1 == IPPROTO_TCP/,
      stillRefused: () =>
        assert.notEqual(decides(join(dir, "p-sockopt.yaml"), "setsockopt", [3n, 41n, 1n]), "allow"),
    },
    {
      mode: "inet6",
      added: /socket when arg0 == AF_INET6/,
      stillRefused: () =>
        assert.notEqual(decides(join(dir, "p-inet6.yaml"), "socket", [17n, 3n, 0n]), "allow"),
    },
    {
      mode: "uname",
      added: /uname: allowed/,
      stillRefused: () => assert.notEqual(decides(join(dir, "p-uname.yaml"), "sysinfo", []), "allow"),
    },
    {
      mode: "listen",
      args: [String(PORTS[0])],
      added: new RegExp(`landlock bindTcp: ${PORTS[0]}`),
      stillRefused: () => {
        // another port, never bound: the kernel's Landlock refuses it
        const c = cli([
          "run",
          "--policy",
          join(dir, "p-listen.yaml"),
          "--",
          learnee,
          "listen",
          A,
          String(PORTS[1]),
        ]);
        assert.notEqual(c.status, 0, "binding a port never learned is refused");
        assert.match(c.stderr, /bind failed/);
      },
    },
    {
      mode: "newdir",
      args: [join(dir, "B")],
      added: /landlock write: .*\/B \(learned: cw\)/,
      stillRefused: () => {
        // a third directory, never written: the kernel's Landlock still refuses it
        const c = cli([
          "run",
          "--policy",
          join(dir, "p-newdir.yaml"),
          "--",
          learnee,
          "newdir",
          A,
          join(dir, "C"),
        ]);
        assert.notEqual(c.status, 0, "writing into a directory never learned is refused");
        assert.match(c.stderr, /Permission denied/);
      },
    },
  ];
  for (const c of cases)
    it(`the loop closes on a new ${c.mode === "newdir" ? "directory written (a Landlock decision)" : c.mode}: learned, patched narrowly, run clean`, () => {
      for (const d of [join(dir, "B"), join(dir, "C")]) if (!existsSync(d)) mkdirSync(d);
      const use = [learnee, c.mode, A, ...(c.args ?? [])];
      const today = cli(["run", "--policy", policy, "--", ...use]);
      assert.notEqual(today.status, 0, "the pinned policy breaks this use");
      const out = join(dir, `o-${c.mode}.json`);
      const l = cli(["run", "--policy", policy, "--learn", out, "--", ...use]);
      assert.equal(l.status, 0, l.stderr);
      const patched = join(dir, `p-${c.mode}.yaml`);
      const a = cli(["audit", "--patch", policy, out, "-o", patched]);
      assert.match(a.stderr, c.added);
      const again = cli(["run", "--policy", patched, "--", ...use]);
      assert.equal(again.status, 0, again.stderr);
      c.stillRefused();
    });

  it("a bind on a port the policy lists is not learned: a socket address is not a file created in /", () => {
    // after the listen case: p-listen.yaml has PORTS[0] in bindTcp (sshd's listen was learned as a create
    // of "inet:127.0.0.1:2222" beneath /, which no write list holds)
    const patched = join(dir, "p-listen.yaml");
    assert.ok(existsSync(patched), "the listen case ran first");
    const out = join(dir, "listen-again.json");
    const l = cli(["run", "--policy", patched, "--learn", out, "--", learnee, "listen", A, String(PORTS[0])]);
    assert.equal(l.status, 0, l.stderr);
    assert.deepEqual(Object.keys(profileOf(out).paths), [], JSON.stringify(profileOf(out).pathAccess));
    assert.match(l.stderr, /nothing to learn/);
  });

  it("a signal to a process outside the sandbox (Landlock's signal scope) is learned and left for a person", () => {
    // generate's default (static analysis) allows kill where Landlock scopes signals
    const scoped = join(dir, "scoped.yaml");
    const g = cli(["generate", join(dir, "rec.json"), "--args", "pin", "-o", scoped]);
    assert.equal(g.status, 0, g.stderr);
    const today = cli(["run", "--policy", scoped, "--", learnee, "signal", A]);
    assert.match(
      today.stderr,
      /kill\(parent, 0\) failed: Operation not permitted/,
      "the kernel's Landlock refuses it",
    );
    const out = join(dir, "signal.json");
    const l = cli(["run", "--policy", scoped, "--learn", out, "--", learnee, "signal", A]);
    assert.equal(l.status, 0, l.stderr);
    assert.ok(
      Object.keys(profileOf(out).paths).some((p) => p.startsWith("signal:")),
      "the target is recorded",
    );
    const a = cli(["audit", "--patch", scoped, out, "-o", join(dir, "never.yaml")]);
    assert.match(a.stderr, /left for a person: a signal to /);
    assert.ok(!existsSync(join(dir, "never.yaml")));
  });

  it("SIGTERM to sysfence goes to the program; the profile is written whole", async () => {
    const out = join(dir, "term.json");
    const child = spawn(
      process.execPath,
      [CLI_PATH, "run", "--policy", policy, "--learn", out, "--", "sleep", "30"],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    // once sleep sleeps (in clock_nanosleep or nanosleep): under load sysfence may take seconds to get
    // there; a fixed wait once killed it early, and a sleep merely started had not slept yet
    const sleeping = ["clock_nanosleep", "nanosleep"].map((n) => syscallNumber(nativeArch(), n));
    const running = () =>
      descendants(child.pid as number).some(
        (p) => comm(p) === "sleep" && sleeping.includes(Number(syscallOf(p).split(" ")[0])),
      );
    for (let i = 0; i < 300 && !running(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(running(), `sleep runs under sysfence: ${stderr}`);
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    assert.equal(code, 143, stderr);
    const p = profileOf(out);
    assert.equal(p.complete, false, "an interrupted learning run is not complete");
    assert.equal(p.signal, "SIGTERM");
    assert.ok(p.syscalls.clock_nanosleep || p.syscalls.nanosleep, "sleep's own calls were learned");
  });

  it("refuses a run it cannot finish before anything starts: an unwritable OUT, --learn with --log", () => {
    const bad = cli(["run", "--policy", policy, "--learn", "/proc/nope/out.json", "--", "true"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /out\.json/);
    const both = cli(["run", "--policy", policy, "--log", "--learn", join(dir, "x.json"), "--", "true"]);
    assert.equal(both.status, 125, "run's own failure before exec: 125, never the program's 1 or 2");
    assert.ok(!existsSync(join(dir, "x.json")));
  });
});

describe("run --learn judges the Landlock layer as the kernel applies it", {
  skip: (process.getuid?.() !== 0 || !existsSync("/bin/busybox")) && "needs root and busybox-static",
}, () => {
  it("a forked process's own /proc/self write is refused (learned as /proc/PID, left for a person); mkdir onto an existing name is not learned", () => {
    // sshd's session child writes its own /proc/self/loginuid: the policy's /proc/self is the launched
    // process's, so the kernel refuses the child's — learning said it was allowed. A mkdir of /root that
    // fails with EEXIST was learned as a create in /, and the patch added write: / (every file)
    const d = mkdtempSync(join(tmpdir(), "sysfence-learn-proc-"));
    const policy = join(d, "p.yaml");
    writeFileSync(
      policy,
      "defaultAction: allow\nlandlock:\n  read: [/]\n  write: [/proc/self/oom_score_adj]\n  execute: [/bin/busybox]\n  devices: [/dev/null]\n  scope: [signal]\nsyscalls: []\n",
    );
    const script = "echo 0 > /proc/self/oom_score_adj; (echo 0 > /proc/self/oom_score_adj); mkdir /tmp; true";
    const use = ["/bin/busybox", "sh", "-c", script];
    const run = spawnCli(["run", "--policy", policy, "--", ...use], {});
    assert.match(
      run.stderr,
      /can't create \/proc\/self\/oom_score_adj: Permission denied/,
      "the kernel refuses the child's",
    );
    const out = join(d, "l.json");
    const l = spawnCli(["run", "--policy", policy, "--learn", out, "--", ...use], {});
    assert.equal(l.status, 0, l.stderr);
    const learned = JSON.parse(readFileSync(out, "utf8")) as Profile;
    const paths = Object.keys(learned.pathAccess ?? {});
    assert.equal(paths.length, 1, JSON.stringify(learned.pathAccess));
    assert.match(paths[0], /^\/proc\/\d+\/oom_score_adj$/);
    const a = spawnCli(["audit", "--patch", policy, out, "-o", join(d, "never.yaml")], {});
    assert.match(
      a.stderr,
      /left for a person: \/proc\/\d+\/oom_score_adj .*a forked process's own \/proc entry/,
    );
    assert.ok(!existsSync(join(d, "never.yaml")), "nothing to add");
  });
});

/** Every descendant of `pid` (/proc/PID/task/PID/children, recursively). */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** /proc/PID/syscall: the number of the call the task is blocked in, and its arguments ("" when gone). */
function syscallOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/syscall`, "utf8");
  } catch {
    return "";
  }
}
