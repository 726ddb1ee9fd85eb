import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CLI_PATH, runCli, spawnCli } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const root = process.platform === "linux" && process.getuid?.() === 0 ? false : "needs Linux and root";
const dir = mkdtempSync(join(tmpdir(), "sysfence-dump-"));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

/** Waits until the process's main thread has `filters` seccomp filters and runs `comm`. */
async function waitFor(pid: number, filters: number, comm?: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const n = Number(/Seccomp_filters:\s+(\d+)/.exec(status)?.[1]);
      const name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (n === filters && (comm === undefined || name === comm)) return;
    } catch {
      // not there yet
    }
    await sleep(25);
  }
  throw new Error(`process ${pid} never reached ${filters} filters`);
}

// A Node process installs two distinct filters on its main thread only (no TSYNC): A answers nr 0xfff1
// with errno 1, B — installed second, with the log flag — answers nr 0xfff2 with errno 2.
const TWO_FILTERS = `
import { install } from "${REPO}dist/src/index.js";
const prog = (nr, errno) => [
  { code: 0x20, jt: 0, jf: 0, k: 0 },
  { code: 0x15, jt: 0, jf: 1, k: nr },
  { code: 0x06, jt: 0, jf: 0, k: 0x50000 | errno },
  { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 },
];
install(prog(0xfff1, 1));
install(prog(0xfff2, 2), { log: true });
process.stdout.write("ready\\n");
setTimeout(() => {}, 30000);
`;

const POLICY = `version: 1
defaultAction: allow
syscalls:
  - names: [ptrace, kexec_load, execve]
    action: errno EPERM
  - names: [ioctl]
    action: errno ENOTTY
    args: ["arg1 == 0x5401"]
`;

describe("sysfence dump (real kernel)", { skip: root }, () => {
  it("reads every filter of a thread, oldest at index 0, with its LOG flag; other threads have none", async () => {
    const script = join(dir, "two.mjs");
    writeFileSync(script, TWO_FILTERS);
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(child);
    await new Promise((res) => child.stdout?.once("data", res));
    const pid = child.pid as number;
    const r = await runCli("dump", "--pid", String(pid), "--json");
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    const main = d.stacks.find((s: { tids: number[] }) => s.tids.includes(pid));
    assert.equal(main.filters.length, 2);
    // index 0 is the first installed (A, errno 1), index 1 the second (B, errno 2, log)
    assert.match(main.filters[0].listing.join("\n"), /0x0000fff1/);
    assert.match(main.filters[1].listing.join("\n"), /0x0000fff2/);
    assert.deepEqual(main.filters[0].flags, []);
    assert.deepEqual(main.filters[1].flags, ["log"]);
    // Node's other threads were started before the install and have no filter: a stack of their own, shown once
    const others = d.stacks.filter((s: { tids: number[] }) => !s.tids.includes(pid));
    assert.equal(others.length, 1);
    assert.equal(others[0].mode, "disabled");
    assert.ok(others[0].tids.length >= 1);
    // the target runs on after the stop: its timer still holds it, and it answers signals
    assert.equal(child.exitCode, null);
    const text = await runCli("dump", "--pid", String(pid));
    assert.match(text.stdout, /^# sysfence dump: process \d+ \(node\)/);
    assert.match(text.stdout, /# filter 1 \(newest\): \d+ instructions, flags: log/);
    assert.match(text.stdout, /threads [\d ]+ \(the same filters\): no seccomp filter/);
    // a raw program needs --filter when the stack has more than one
    const bpf = await runCli("dump", "--pid", String(pid), "--format", "bpf", "-o", join(dir, "x.bpf"));
    assert.equal(bpf.code, 2);
    assert.match(bpf.stderr, /has 2 filters .* --filter 0…1/);
    const one = await runCli(
      "dump",
      "--pid",
      String(pid),
      "--format",
      "bpf",
      "--filter",
      "1",
      "-o",
      join(dir, "b.bpf"),
    );
    assert.equal(one.code, 0, one.stderr);
    const dis = await runCli("disasm", join(dir, "b.bpf"));
    assert.match(dis.stdout, /jeq 0x0000fff2/);
  });

  it("run --policy P: the dump is P (no difference); P with one rule changed differs in exactly that rule", async () => {
    const p = join(dir, "p.yaml");
    writeFileSync(p, POLICY);
    const child = spawn(process.execPath, [CLI_PATH, "run", "--policy", p, "--", "sleep", "30"], {
      stdio: "ignore",
    });
    children.push(child);
    const pid = child.pid as number;
    await waitFor(pid, 2, "sleep");
    const dumped = join(dir, "dump.txt");
    const r = await runCli("dump", "--pid", String(pid), "-o", dumped);
    assert.equal(r.code, 0, r.stderr);

    const same = await runCli("diff", p, dumped);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.match(same.stdout, /^no drift/);
    assert.match(same.stdout, /exhaustive/);
    // sysfence's own additions are named, not drift
    assert.match(same.stdout, /install canary/);
    assert.match(
      same.stdout,
      /exec guard's answer \(not drift\): x86_64 execve\(arg0 == 0x[0-9a-f]+, arg1 == /,
    );
    assert.match(same.stdout, /exec guard's answer \(not drift\): x86_64 execveat\(\): allow → errno EPERM/);

    const changed = join(dir, "p2.yaml");
    writeFileSync(changed, POLICY.replace("0x5401", "0x5413"));
    const d = await runCli("diff", changed, dumped, "--json");
    assert.equal(d.code, 1, d.stderr);
    const j = JSON.parse(d.stdout);
    assert.equal(j.drift, true);
    assert.deepEqual(
      j.differences.map((x: { syscall: string; args: string[]; old: string; new: string }) => [
        x.syscall,
        x.args,
        x.old,
        x.new,
      ]),
      [
        ["ioctl", ["arg1 (low 32 bits) == 0x5401"], "allow", "errno ENOTTY"],
        ["ioctl", ["arg1 (low 32 bits) == 0x5413"], "errno ENOTTY", "allow"],
      ].sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    );

    // an unconditional rule dropped: exactly that syscall
    const dropped = join(dir, "p3.yaml");
    writeFileSync(dropped, POLICY.replace("ptrace, ", ""));
    const t = await runCli("diff", dropped, dumped);
    assert.equal(t.code, 1);
    assert.match(t.stdout, /! x86_64 ptrace\(\): allow → errno EPERM\n\n/);
    assert.equal((t.stdout.match(/^ {2}! /gm) ?? []).length, 1);

    // the dump's JSON and the live process (pid:PID, through stdin as well) read the same
    const live = await runCli("diff", p, `pid:${pid}`);
    assert.equal(live.code, 0, live.stdout + live.stderr);
    const piped = spawnCli(["diff", changed, "-"], { input: readFileSync(dumped, "utf8") });
    assert.equal(piped.status, 1, piped.stderr);
    assert.match(piped.stdout, /ioctl\(arg1 \(low 32 bits\) == 0x5413\): errno ENOTTY → allow/);
  });

  it("names the failed precondition: no such pid, caller under seccomp, caller without CAP_SYS_ADMIN", async () => {
    const none = await runCli("dump", "--pid", "999999999");
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no process 999999999/);
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    children.push(child);
    const pid = String(child.pid);
    const confined = spawnCli([
      "run",
      "--preset",
      "no-user-namespaces",
      "--",
      process.execPath,
      CLI_PATH,
      "dump",
      "--pid",
      pid,
    ]);
    assert.equal(confined.status, 2, confined.stderr);
    assert.match(confined.stderr, /itself under seccomp/);
    const nobody = spawnCli(["dump", "--pid", pid], { asNobody: true });
    assert.equal(nobody.status, 2, nobody.stderr);
    assert.match(nobody.stderr, /lacks CAP_SYS_ADMIN/);
  });
});
