// The bpf engine's own programs (no bpftrace): it records with bpftrace out of reach, says the moment a
// --pid recording is live (and every call after that line is in the profile), and the libraries a program
// dlopens are in the profile's paths, where generate's static step finds them.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { dlopenedPaths } from "../../src/generate/static-input.js";
import { ProfileBuilder } from "../../src/record/builder.js";
import { argsTable } from "../../src/record/engines/bpf/args-table.js";
import { BpfOutput, type CountEntry } from "../../src/record/engines/bpf/output.js";
import { ARG, ARG_BITS } from "../../src/record/engines/bpf/programs.js";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH, recordPidLive } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  requireOrSkip(process.getuid?.() === 0, "root") ||
  requireOrSkip(existsSync("/sys/kernel/btf/vmlinux"), "the kernel's BTF");
const dir = mkdtempSync(join(tmpdir(), "sysfence-ebpf-"));

describe("bpf engine: the syscall table the programs read (pure)", () => {
  it("holds the generator's value registers, the open family's path and flags, and first:SYSCALL", () => {
    const regs = [112, 104, 96, 56, 72, 64]; // x86_64 pt_regs: di, si, dx, r10, r8, r9
    const t = argsTable("x86_64", regs, { kind: "first", syscall: "listen" });
    const at = (nr: number) => t.subarray(nr * ARG.size, (nr + 1) * ARG.size);
    const openat = at(257);
    assert.equal(openat[ARG.path], 104 + 1, "openat's path is its second argument (si)");
    assert.equal(openat[ARG.flags], 96 + 1, "its flags the third (dx)");
    assert.ok(openat[ARG.bits] & ARG_BITS.path);
    assert.ok(at(50)[ARG.bits] & ARG_BITS.first, "listen (50) starts the work phase");
    assert.equal(at(39)[ARG.count], 0, "getpid: no values");
    assert.equal(at(435)[ARG.count], 0, "clone3's register is an address, never values");
  });

  it("a 32-bit (compat) program's counts are left out and counted as lost, not named from the native table", () => {
    const builder = new ProfileBuilder(["sh"], { kind: "none" });
    const out = new BpfOutput(builder, "x86_64");
    out.seed(100, "/bin/sh");
    out.fork(100, 101, 1, 0);
    out.exec(101, 2, "/opt/i386/prog", false, true);
    out.fork(101, 102, 1, 2); // its child runs the same 32-bit program
    const key = (pid: number, img: number, nr: number) =>
      ({ key: [pid, (img << 3) | 2, pid, nr], values: [0n, 0n, 0n], count: 3 }) as CountEntry;
    out.counts([key(100, 0, 39), key(101, 2, 20), key(102, 1, 20)], new Map(), new Map());
    const p = builder.build({ engine: { name: "bpf" }, arch: "x86_64", complete: true });
    assert.equal(out.compatCalls, 6);
    assert.equal(out.compatImages, 2);
    assert.deepEqual(Object.keys(p.syscalls), ["getpid"], "i386's getpid (20) is not x86_64's writev");
  });
});

describe("record --engine bpf (sysfence's eBPF programs)", { skip }, () => {
  it("records with bpftrace out of reach (PATH without it)", () => {
    const out = join(dir, "nopath.json");
    const r = spawnSync(
      process.execPath,
      [CLI_PATH, "record", "-q", "--engine", "bpf", "-o", out, "--", "/bin/sh", "-c", "exit 0"],
      { encoding: "utf8", env: { ...process.env, PATH: join(dir, "empty") } },
    );
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.equal(p.engine.name, "bpf");
    assert.equal(p.complete, true, p.engine.lost);
    assert.ok(p.syscalls.exit_group, Object.keys(p.syscalls).join(" "));
  });

  it("counts the signals delivered, by name (the signal map read in one batch)", () => {
    const out = join(dir, "signals.json");
    const script = "trap true USR1 USR2; kill -USR1 $$; kill -USR2 $$; kill -USR2 $$; true";
    const r = spawnSync(
      process.execPath,
      [CLI_PATH, "record", "-q", "--engine", "bpf", "-o", out, "--", "/bin/sh", "-c", script],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.deepEqual(p.signals, { SIGUSR1: 1, SIGUSR2: 2 });
  });

  it("record --pid says it is live, and every call made after that line is in the profile", async () => {
    const out = join(dir, "live.json");
    // a program that waits for a line, then makes five calls it never made before, then exits
    const prog = spawn(
      "python3",
      ["-c", "import os,sys; sys.stdin.readline(); [os.getpriority(os.PRIO_PROCESS, 0) for _ in range(5)]"],
      { stdio: ["pipe", "ignore", "ignore"] },
    );
    await new Promise((r) => setTimeout(r, 300));
    const rec = recordPidLive(prog.pid as number, out);
    await rec.liveOrEnded;
    assert.match(rec.stderr(), new RegExp(`sysfence record: recording PID ${prog.pid} \\(live\\)`));
    prog.stdin?.end("go\n");
    assert.equal(await rec.ended, 0, rec.stderr());
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.equal(p.syscalls.getpriority?.work, 5, JSON.stringify(p.syscalls.getpriority));
  });

  it("a library the program dlopens is among the profile's paths, for generate's static step", () => {
    const program = join(dir, "dlopen");
    execFileSync("gcc", ["-O2", "-o", program, `${REPO}test/fixtures/dlopen.c`]);
    const out = join(dir, "dlopen.json");
    const r = spawnSync(
      process.execPath,
      [CLI_PATH, "record", "-q", "--engine", "bpf", "-o", out, "--", program],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    const libm = dlopenedPaths(p.paths ?? {}).filter((x) => x.endsWith("/libm.so.6"));
    assert.equal(libm.length, 1, Object.keys(p.paths ?? {}).join(" "));
    assert.match(p.pathAccess?.[libm[0]] ?? "", /r/);
  });
});
