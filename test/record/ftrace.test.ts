import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parsePhase } from "../../src/record/builder.js";
import { recordFtrace } from "../../src/record/engines/ftrace/ftrace.js";
import { record } from "../../src/record/engines/strace/strace.js";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH } from "../helpers/cli.js";
import { comparable } from "../helpers/profiles.js";
import { requireOrSkip } from "../helpers/require.js";

function tracefsUsable(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  if (!existsSync("/sys/kernel/tracing/events/raw_syscalls"))
    spawnSync("mount", ["-t", "tracefs", "nodev", "/sys/kernel/tracing"], { stdio: "ignore" });
  return existsSync("/sys/kernel/tracing/events/raw_syscalls");
}
const skip =
  process.platform !== "linux"
    ? "needs Linux"
    : requireOrSkip(tracefsUsable() && spawnSync("strace", ["-V"]).status === 0, "tracefs (root) and strace");
const totals = (p: Profile) =>
  Object.fromEntries(Object.entries(p.syscalls).map(([k, c]) => [k, c.setup + c.work]));

describe("record --engine ftrace (the kernel's tracepoints)", { skip }, () => {
  it("counts every call exactly as the strace engine does (dd, 3000 one-byte copies)", async () => {
    const argv = ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=3000", "status=none"];
    const f = await recordFtrace(argv);
    const s = await record(argv, { pin: true });
    assert.equal(f.status, 0);
    assert.equal(f.profile.complete, true);
    assert.deepEqual(totals(f.profile), totals(s.profile));
    assert.equal(f.profile.syscalls.read.setup, 3003);
    assert.deepEqual(
      f.profile.processes.map((p) => p.exe),
      s.profile.processes.map((p) => p.exe),
    );
  });
  it("a tree of processes and execs: the profile equals the strace engine's, exit statuses included", async () => {
    const argv = [
      "sh",
      "-c",
      "ls / >/dev/null; cat /etc/hostname >/dev/null; sort /etc/passwd >/dev/null; exit 3",
    ];
    const f = await recordFtrace(argv);
    const s = await record(argv, { pin: true });
    assert.equal(f.status, 3);
    // pids, tids, times, engine and paths (tracepoints carry no strings) aside
    // (and how many brk calls sort made: it varies by one between runs of the same program)
    assert.equal(comparable(f.profile, ["brk"]), comparable(s.profile, ["brk"]));
    // every image that ended has its status (sort, cat, ls: 0; the shell: 3)
    assert.deepEqual(
      f.profile.processes
        .filter((p) => p.exitStatus !== undefined)
        .map((p) => p.exitStatus)
        .sort(),
      [0, 0, 0, 3],
    );
  });
  it("follows forks and execs, and keeps threads in their process", async () => {
    const py =
      "import threading\ndef w():\n  for i in range(50): open('/dev/null').close()\nts=[threading.Thread(target=w) for _ in range(3)]\n[t.start() for t in ts]\n[t.join() for t in ts]\n";
    const f = await recordFtrace(["sh", "-c", `/usr/bin/true | cat >/dev/null; /usr/bin/python3 -c "${py}"`]);
    assert.equal(f.status, 0);
    const exes = f.profile.processes.map((p) => p.exe);
    assert.ok(exes.includes("/usr/bin/cat") && exes.includes("/usr/bin/true"), exes.join(" "));
    const python = f.profile.processes.find((p) => p.exe === "/usr/bin/python3");
    assert.ok(python);
    assert.equal(python.threads.length, 4, "the main thread and three workers");
    for (const t of python.threads.filter((x) => x.tid !== python.pid))
      assert.ok((t.syscalls.openat?.setup ?? 0) >= 50, `worker ${t.tid} opened /dev/null 50 times`);
    // tracepoints carry no strings: only the programs executed (from sched_process_exec) are known
    assert.ok(
      Object.keys(f.profile.paths).every((p) => exes.includes(p)),
      Object.keys(f.profile.paths).join(" "),
    );
  });
  it("splits phases at --after listen, reads argument registers, passes the exit status through", async () => {
    const py =
      "import socket, fcntl, os\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen()\nfcntl.fcntl(s.fileno(), fcntl.F_GETFL)\nos._exit(3)";
    const f = await recordFtrace(["/usr/bin/python3", "-c", py], {
      phase: parsePhase("listen"),
      phaseText: "listen",
    });
    assert.equal(f.status, 3);
    assert.equal(f.profile.complete, false);
    assert.equal(f.profile.syscalls.bind.setup, 1);
    assert.equal(f.profile.syscalls.bind.work, 0);
    assert.ok(f.profile.syscalls.fcntl.work >= 1);
    assert.ok(
      Object.keys(f.profile.syscalls.fcntl.workArgs?.[1] ?? {}).includes("3"),
      "F_GETFL read from the register",
    );
    assert.ok(Object.keys(f.profile.syscalls.socket.args?.[0] ?? {}).includes("2"), "AF_INET");
  });
  it("SIGTERM to the recorder ends the program; the profile is still built, marked incomplete", async () => {
    // SIGTERM once the program sleeps (a fixed delay races the launch on a loaded machine)
    const sleeping = setInterval(() => {
      const kids = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8")
        .trim()
        .split(" ");
      for (const k of kids.filter(Boolean)) {
        try {
          if (/^\d+ \(sleep\) S /.test(readFileSync(`/proc/${k}/stat`, "utf8"))) {
            clearInterval(sleeping);
            process.kill(process.pid, "SIGTERM");
          }
        } catch {
          // gone
        }
      }
    }, 20);
    const f = await recordFtrace(["sleep", "10"]).finally(() => clearInterval(sleeping));
    assert.equal(f.status, 143);
    assert.equal(f.profile.complete, false);
    assert.equal(f.profile.signal, "SIGTERM");
    assert.ok((f.profile.syscalls.clock_nanosleep?.setup ?? 0) >= 1, "the sleep was recorded");
  });
  it("refuses what tracepoints cannot see (marker text) and leaves no trace instance behind", async () => {
    await assert.rejects(
      () => recordFtrace(["true"], { phase: parsePhase("marker:READY") }),
      /needs the text a program writes/,
    );
    const left = readdirSync("/sys/kernel/tracing/instances").filter((d) =>
      d.startsWith(`sysfence-${process.pid}`),
    );
    assert.deepEqual(left, []);
  });
});

describe("record's default engine (auto)", () => {
  it("picks ftrace only when it can record everything asked for", async () => {
    const { chooseEngine } = await import("../../src/record/engine.js");
    const base = {
      requested: "auto",
      phase: parsePhase("listen"),
      checkCounts: false,
      root: true,
      tracepoints: true,
    };
    assert.equal(chooseEngine(base).engine, "ftrace");
    assert.equal(chooseEngine({ ...base, phase: parsePhase("ready") }).engine, "strace");
    assert.equal(chooseEngine({ ...base, phase: parsePhase("marker:up") }).engine, "strace");
    assert.equal(chooseEngine({ ...base, checkCounts: true }).engine, "strace");
    assert.equal(chooseEngine({ ...base, root: false }).engine, "strace");
    assert.equal(chooseEngine({ ...base, tracepoints: false }).engine, "strace");
    assert.equal(chooseEngine({ ...base, requested: "strace" }).engine, "strace");
    assert.equal(chooseEngine({ ...base, requested: "ftrace", root: false }).engine, "ftrace");
    // sysfence's eBPF programs when they can be loaded (root, BTF); otherwise ftrace, saying why
    assert.equal(chooseEngine({ ...base, bpfUnavailable: null }).engine, "bpf");
    // the bpf engine records paths and socket addresses itself (its path program): no word of strace
    assert.doesNotMatch(chooseEngine({ ...base, bpfUnavailable: null }).why, /strace/);
    assert.equal(
      chooseEngine({ ...base, bpfUnavailable: null, phase: parsePhase("ready") }).engine,
      "strace",
    );
    const noBtf = chooseEngine({
      ...base,
      bpfUnavailable: "the kernel has no BTF (/sys/kernel/btf/vmlinux)",
    });
    assert.equal(noBtf.engine, "ftrace");
    assert.match(noBtf.why, /^no bpf engine \(the kernel has no BTF/);
    assert.equal(chooseEngine({ ...base, requested: "bpftrace" }).engine, "bpftrace");
  });
  it("the CLI records with ftrace by default here, and says so; a marker phase goes to strace", {
    skip,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-auto-"));
    const out = join(dir, "p.json");
    const argv = ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=2000", "status=none"];
    const r = spawnSync(process.execPath, [CLI_PATH, "record", "-o", out, "--", ...argv], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    // bpf (counts in the kernel) when the kernel has BTF, else ftrace
    const bpf = existsSync("/sys/kernel/btf/vmlinux");
    assert.match(
      r.stderr,
      bpf ? /engine bpf \(counts in the kernel: the cheapest here;/ : /engine ftrace \(no bpf engine/,
    );
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.equal(p.engine.name, bpf ? "bpf" : "ftrace");
    assert.equal(p.syscalls.read.setup, 2003);
    const m = spawnSync(
      process.execPath,
      [CLI_PATH, "record", "--after", "marker:hi", "-o", out, "--", "sh", "-c", "echo hi; cat /dev/null"],
      { encoding: "utf8" },
    );
    assert.equal(m.status, 0, m.stderr);
    assert.match(m.stderr, /engine strace \(--after marker:\/ready needs the text/);
    const q = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.equal(q.engine.name, "strace");
    assert.ok(
      q.processes.some((x) => x.workStartedAt !== undefined),
      "the marker started the work phase",
    );
  });
});

describe("the ftrace adapter (tracepoint lines → decoded events)", () => {
  it("decodes registers into values, pairs enter/exit, follows threads and execs, ignores forged end marks", async () => {
    const { ProfileBuilder } = await import("../../src/record/builder.js");
    const { FtraceAdapter } = await import("../../src/record/engines/ftrace/ftrace.js");
    const builder = new ProfileBuilder(["prog"]);
    const mark = { pid: 999, text: "sysfence-end-of-recording-abc" };
    const adapter = new FtraceAdapter(builder, mark, "x86_64");
    const line = (comm: string, tid: number, tgid: number, t: string, body: string) =>
      `   ${comm}-${tid}    (${String(tgid).padStart(5)}) [001] .....  ${t}: ${body}`;
    const lines = [
      // ioctl(1, TCGETS) = -ENOTTY
      line("prog", 100, 100, "10.000001", "sys_enter: NR 16 (1, 5401, 7ffd, 0, 0, 0)"),
      line("prog", 100, 100, "10.000002", "sys_exit: NR 16 = -25"),
      // clone(CLONE_VM|…|CLONE_THREAD|…) makes thread 101
      line("prog", 100, 100, "10.000003", "sys_enter: NR 56 (3d0f00, 7f00, 7f10, 7f20, 7f30, 0)"),
      line("prog", 100, 100, "10.000004", "sys_exit: NR 56 = 101"),
      line("prog", 101, 100, "10.000005", "sys_enter: NR 202 (7f40, 81, 1, 0, 0, 0)"),
      line("prog", 101, 100, "10.000006", "sys_exit: NR 202 = 0"),
      // the program writes the end mark's text: not sysfence's pid, not the end
      line("prog", 100, 100, "10.000007", `tracing_mark_write: ${mark.text}`),
      // execve of /bin/true: the name comes from sched_process_exec
      line("prog", 100, 100, "10.000008", "sys_enter: NR 59 (55aa, 55bb, 55cc, 0, 0, 0)"),
      line("prog", 100, 100, "10.000009", "sched_process_exec: filename=/bin/true pid=100 old_pid=100"),
      line("prog", 100, 100, "10.000010", "sys_exit: NR 59 = 0"),
      line("true", 100, 100, "10.000011", "sys_enter: NR 231 (0, 0, 0, 0, 0, 0)"),
    ];
    for (const l of lines) assert.equal(adapter.line(l), false, l);
    assert.equal(adapter.line(line("node", 999, 999, "10.1", `tracing_mark_write: ${mark.text}`)), true);
    adapter.flush();
    const p = builder.build({ engine: { name: "ftrace" }, arch: "x86_64", complete: true });
    assert.deepEqual(
      p.processes.map((x) => [x.exe, x.threads.map((t) => t.tid)]),
      [
        ["prog", [100, 101]],
        ["/bin/true", [100]],
      ],
    );
    const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
    assert.deepEqual(plain(p.syscalls.ioctl.args), { 1: { 21505: 1 } });
    assert.equal(p.syscalls.ioctl.errors, 1);
    assert.deepEqual(plain(p.syscalls.clone.args), { 0: { [String(0x3d0f00)]: 1 } });
    assert.deepEqual(plain(p.syscalls.futex.args), { 1: { 129: 1 } });
    assert.equal(p.syscalls.execve.setup, 1);
    assert.equal(p.paths["/bin/true"], 1);
    assert.equal(p.syscalls.exit_group.setup, 1);
    assert.deepEqual(builder.neverReturned(), new Map([["exit_group", 1]]));
  });
  it("keeps every event of a batch that outgrows its columns (thread rows included)", async () => {
    const { ProfileBuilder } = await import("../../src/record/builder.js");
    const { FtraceAdapter } = await import("../../src/record/engines/ftrace/ftrace.js");
    const builder = new ProfileBuilder(["prog"]);
    const adapter = new FtraceAdapter(builder, { pid: 999, text: "end" }, "x86_64");
    const line = (tid: number, body: string) => `   prog-${tid}    (  100) [001] .....  10.5: ${body}`;
    // 6000 threads of process 100, each one getpid: 18000 rows in one batch (its columns start at 4096)
    for (let k = 0; k < 6000; k++) {
      adapter.line(line(101 + k, "sys_enter: NR 39 (0, 0, 0, 0, 0, 0)"));
      adapter.line(line(101 + k, "sys_exit: NR 39 = 100"));
    }
    // the leader's first event comes last: the threads joined its process all the same
    adapter.line(line(100, "sys_enter: NR 39 (0, 0, 0, 0, 0, 0)"));
    adapter.flush();
    const p = builder.build({ engine: { name: "ftrace" }, arch: "x86_64", complete: true });
    assert.equal(p.syscalls.getpid.setup, 6001);
    assert.ok(p.processes.every((x) => x.threads.length >= 1));
  });
});

describe("a SIGKILLed ftrace recording leaves no tracing instance", { skip }, () => {
  it("its reaper removes instances/sysfence-PID (events on, ~128 MB buffer) within 10 s", async () => {
    const { spawn } = await import("node:child_process");
    const dir = mkdtempSync(join(tmpdir(), "sysfence-ftrace-kill-"));
    const child = spawn(
      process.execPath,
      [CLI_PATH, "record", "--engine", "ftrace", "-o", join(dir, "p.json"), "--", "sleep", "30"],
      { stdio: "ignore" },
    );
    const inst = `/sys/kernel/tracing/instances/sysfence-${child.pid}`;
    const poll = async (done: () => boolean) => {
      for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
      return done();
    };
    assert.ok(await poll(() => existsSync(inst)), "the recording made its instance");
    assert.ok(
      await poll(() => readFileSync(`${inst}/set_event_pid`, "utf8").trim() !== ""),
      "tracing started",
    );
    const exited = new Promise((r) => child.on("exit", r));
    child.kill("SIGKILL");
    await exited;
    assert.ok(await poll(() => !existsSync(inst)), `${inst} is still there 10 s after sysfence was killed`);
  });
});
