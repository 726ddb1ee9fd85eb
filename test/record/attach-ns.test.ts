// record --pid inside a PID namespace: /proc there gives the namespace's pids, the kernel's tracepoints
// (and bpftrace's pid) the initial namespace's. The bpf engine seeded the namespace pids, matched nothing,
// and wrote a profile of 0 calls marked complete. Now the kernel program (bpftrace's script for --engine
// bpftrace) maps each seed to its initial-namespace pid at its first call; and an attached recording that saw no calls is marked incomplete, with a warning.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ProfileBuilder } from "../../src/record/builder.js";
import { BpfOutput } from "../../src/record/engines/bpf/output.js";
import { bpftraceScript } from "../../src/record/engines/bpf/script.js";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH as CLI } from "../helpers/cli.js";

const root = process.platform === "linux" && process.getuid?.() === 0;
const has = (cmd: string, args: string[]) => spawnSync(cmd, args).status === 0;
/** The real-kernel tests' conditions: root, the kernel's BTF, PID namespaces. */
const namespaceSkip = {
  skip: !root
    ? "needs root on Linux"
    : !existsSync("/sys/kernel/btf/vmlinux")
      ? "needs the kernel's BTF"
      : !has("unshare", ["-p", "-f", "--mount-proc", "true"])
        ? "needs unshare -p"
        : false,
};
const calls = (p: Profile) => Object.values(p.syscalls).reduce((n, c) => n + c.setup + c.work, 0);

describe("bpf engine: seeds given by their pids in a PID namespace (pure)", () => {
  it("the script maps wanted namespace pids at their first call instead of seeding them as global pids", () => {
    const ns = bpftraceScript({ kind: "none" }, "x86_64", { tgids: [2, 7], namespaced: true });
    assert.match(ns, /@want\[2\] = 1; @want\[7\] = 1;/);
    assert.doesNotMatch(ns, /@st\[2\] = 3/);
    assert.match(ns, /printf\("S %d %d\\n", \$nr, pid\)/);
    assert.match(ns, /clear\(@want\)/);
    const global = bpftraceScript({ kind: "none" }, "x86_64", { tgids: [2, 7] });
    assert.match(global, /@st\[2\] = 3; @st\[7\] = 3;/);
    assert.doesNotMatch(global, /@want/);
  });
  it("the adapter names a mapped seed's counts with its exe and its parent's mapped pid", () => {
    const builder = new ProfileBuilder(["sh"], { kind: "none" });
    const out = new BpfOutput(builder, "x86_64");
    out.expect(2, "/usr/bin/dash");
    out.expect(5, "/usr/bin/sleep", 2);
    out.event("S 5 31005");
    out.event("S 2 31002");
    out.event("S 2 31002"); // two threads mapped it at once
    // @d[pid << 32 | state 3, tid << 32 | getpid (39)]
    const key = (pid: number, nr: number) =>
      `${(BigInt(pid) << 32n) | 3n}, ${(BigInt(pid) << 32n) | BigInt(nr)}`;
    out.maps(`@d[${key(31002, 39)}]: 4\n@d[${key(31005, 35)}]: 1\n@n: 5\n`);
    const p = builder.build({ engine: { name: "bpf" }, arch: "x86_64", complete: true });
    assert.deepEqual(
      p.processes.map((x) => [x.pid, x.exe, x.parent]),
      [
        [31002, "/usr/bin/dash", undefined],
        [31005, "/usr/bin/sleep", 31002],
      ],
    );
    assert.equal(p.syscalls.getpid.work, 4);
    assert.deepEqual(
      [...out.mapped],
      [
        [5, 31005],
        [2, 31002],
      ],
    );
  });
});

describe("record --pid inside a PID namespace (real kernel, bpf engine)", namespaceSkip, () => {
  it("the bpf engine sees the namespace's process and the children it starts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-pidns-"));
    const out = join(dir, "p.json");
    // inside: a shell that runs cat and sleep for ~12 s; sysfence (in the namespace too) attaches to it by
    // its namespace pid; the recording ends when the shell exits (the engine's start-up is inside the window)
    const script = `
sh -c 'i=0; while [ $i -lt 200 ]; do cat /proc/self/stat >/dev/null; sleep 0.05; i=$((i+1)); done' &
W=$!
sleep 0.2
"${process.execPath}" "${CLI}" record -q --engine bpf --pid $W --duration 60 -o "${out}"
echo "status $? pid $W"
`;
    const child = spawn("unshare", ["-p", "-f", "--mount-proc", "sh", "-c", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    await new Promise((r) => child.on("exit", r));
    assert.match(stdout, /status 0 pid \d+/, stderr);
    const profile = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.ok(calls(profile) > 0, `no calls seen: ${stderr}`);
    const exes = new Set(profile.processes.map((p) => p.exe));
    assert.ok(exes.has("/usr/bin/cat") || exes.has("/bin/cat"), [...exes].join(" "));
    assert.ok(profile.syscalls.execve && profile.syscalls.wait4, Object.keys(profile.syscalls).join(" "));
    assert.doesNotMatch(stderr, /no calls were seen/);
  });
});

describe("record -- CMD inside a PID namespace (real kernel, bpf engine)", namespaceSkip, () => {
  // sysfence in a container: the launched program was seeded by its namespace pid, which the kernel's
  // programs never see, and the profile had 0 calls and 0 process images, marked complete
  it("records the launched program as it does outside the namespace", () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-pidns-launch-"));
    const cmd = ["sh", "-c", "cat /proc/self/stat >/dev/null; ls / >/dev/null"];
    const record = (out: string, inNamespace: boolean) => {
      const args = [CLI, "record", "-q", "--engine", "bpf", "-o", out, "--", ...cmd];
      const r = inNamespace
        ? spawnSync("unshare", ["-p", "-f", "--mount-proc", process.execPath, ...args], { encoding: "utf8" })
        : spawnSync(process.execPath, args, { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(readFileSync(out, "utf8")) as Profile;
    };
    const inside = record(join(dir, "in.json"), true);
    const outside = record(join(dir, "out.json"), false);
    assert.ok(calls(inside) > 0, "no calls recorded inside the namespace");
    assert.deepEqual(Object.keys(inside.syscalls).sort(), Object.keys(outside.syscalls).sort());
    assert.deepEqual(
      inside.processes.map((p) => p.exe),
      outside.processes.map((p) => p.exe),
    );
    assert.equal(inside.complete, true);
  });

  it("with a delayed work phase (the seed's state is written through its pointer: the verifier refused it)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-pidns-delay-"));
    const out = join(dir, "p.json");
    const script = "ls / >/dev/null; sleep 0.6; ls / >/dev/null";
    const r = spawnSync(
      "unshare",
      [
        "-p",
        "-f",
        "--mount-proc",
        process.execPath,
        CLI,
        "record",
        "-q",
        "--engine",
        "bpf",
        "--after",
        "delay:0.2",
        "-o",
        out,
        "--",
        "sh",
        "-c",
        script,
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.ok(
      p.syscalls.getdents64?.setup && p.syscalls.getdents64?.work,
      JSON.stringify(p.syscalls.getdents64),
    );
  });
});

describe("record --pid: a window without calls is not complete (real kernel)", {
  skip: root ? false : "needs root on Linux",
}, () => {
  it("a process that makes no call in the window gives an incomplete profile and a warning", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-idle-"));
    const out = join(dir, "idle.json");
    const idle = spawn("sleep", ["120"], { stdio: "ignore" });
    try {
      const r = spawnSync(
        process.execPath,
        [CLI, "record", "--engine", "ftrace", "--pid", String(idle.pid), "--duration", "1", "-o", out],
        { encoding: "utf8", timeout: 60000 },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stderr,
        /warning: no calls were seen from process \d+ .*ftrace engine.*marked incomplete/,
      );
      const profile = JSON.parse(readFileSync(out, "utf8")) as Profile;
      assert.equal(calls(profile), 0);
      assert.equal(profile.complete, false);
    } finally {
      idle.kill("SIGKILL");
    }
  });
});
