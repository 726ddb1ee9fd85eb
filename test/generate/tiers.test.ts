// Tiered policies: what a recording saw, what the binary can reach (low risk allowed, high risk EPERM or
// logged), what is impossible; the burn-in loop (log → audit --patch → generate --finalize) on the real
// kernel; and a hidden path that meets EPERM, keeps running and leaves a kernel record.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { finalizePolicy } from "../../src/generate/finalize.js";
import { generatePolicy } from "../../src/generate/generate.js";
import { patchPolicy } from "../../src/observe/patch.js";
import { groupRecords, parseSeccompRecord } from "../../src/observe/records.js";
import { formatAction } from "../../src/policy/actions.js";
import type { Policy } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import type { Profile } from "../../src/record/profile.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { CLI_PATH as CLI } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const linuxX64 = process.platform === "linux" && process.arch === "x64" ? false : "needs Linux x86_64";

function profileOf(calls: string[]): Profile {
  const syscalls = Object.fromEntries(calls.map((c) => [c, { setup: 0, work: 3, errors: 0, args: {} }]));
  return {
    format: "sysfence-profile",
    version: 1,
    command: ["/usr/bin/app"],
    engine: { name: "strace", version: "6.1" },
    arch: "x86_64",
    complete: true,
    syscalls,
    processes: [{ pid: 1, exe: "/usr/bin/app", threads: [{ tid: 1, syscalls }] }],
    paths: {},
  } as unknown as Profile;
}

const decide = (p: Policy, name: string, args: bigint[] = []) =>
  formatAction(
    referenceDecide(p, {
      arch: ARCHES.x86_64.audit,
      nr: syscallNumber("x86_64", name) as number,
      args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6),
    }),
  );

describe("tiers (pure)", () => {
  const profile = profileOf(["read", "write", "openat", "close", "mmap", "futex"]);
  const reachable = new Map(
    [
      "read",
      "getpid",
      "clone",
      "mmap",
      "mprotect",
      "execve",
      "ptrace",
      "mount",
      "setuid",
      "kill",
      "unlink",
      "statx",
    ].map((n) => [n, [`${n}_caller`]]),
  );
  it("seen allowed; reachable low risk allowed with bans; high risk EPERM; the rest the default", () => {
    const g = generatePolicy([profile], {
      phase: "all",
      reachable,
      unresolved: 2,
      programs: ["/usr/bin/app"],
    });
    const p = parsePolicy(g.text, { file: "g.yaml" }).policy;
    assert.equal(decide(p, "read"), "allow");
    assert.equal(decide(p, "getpid"), "allow");
    assert.equal(decide(p, "statx"), "allow");
    assert.equal(decide(p, "clone", [0x11n]), "allow");
    assert.equal(
      decide(p, "clone", [0x10000000n]),
      "errno EPERM",
      "no CLONE_NEWUSER for a static clone (EPERM, logged)",
    );
    assert.equal(
      decide(p, "mprotect", [0n, 0n, 5n]),
      "errno EPERM",
      "no PROT_EXEC for a static mprotect (EPERM, logged)",
    );
    for (const n of ["execve", "ptrace", "mount", "setuid", "kill", "unlink"])
      assert.equal(decide(p, n), "errno EPERM", n);
    assert.equal(decide(p, "reboot"), "kill-process", "neither seen nor reachable: impossible");
    assert.deepEqual(p.flags, ["log"], "errno answers reach the kernel log");
    assert.deepEqual(p.analysis, { programs: ["/usr/bin/app"], unresolved: 2 });
    const tiers = Object.fromEntries(
      p.rules.filter((r) => r.names.length === 1).map((r) => [r.names[0], r.tier]),
    );
    assert.equal(tiers.read, "seen");
    assert.equal(tiers.getpid, "static-low");
    assert.equal(tiers.execve, "static-high");
    assert.equal(tiers.exit_group, "always");
    assert.match(g.text, /getpid: .*not seen; reachable from getpid_caller/);
  });
  it("--unseen log writes burn-in rules (log, final EPERM); --unseen kill leaves high risk to the default", () => {
    const log = parsePolicy(generatePolicy([profile], { phase: "all", reachable, unseen: "log" }).text, {
      file: "l",
    }).policy;
    const exec = log.rules.find((r) => r.names[0] === "execve");
    assert.equal(exec?.action.kind, "log");
    assert.deepEqual(exec?.final, { kind: "errno", data: 1 });
    const kill = parsePolicy(generatePolicy([profile], { phase: "all", reachable, unseen: "kill" }).text, {
      file: "k",
    }).policy;
    assert.equal(decide(kill, "execve"), "kill-process");
    assert.equal(decide(kill, "getpid"), "allow");
  });
  it("without static analysis nothing changes: no tiers beyond seen/always, no flags", () => {
    const p = parsePolicy(generatePolicy([profile], { phase: "all" }).text, { file: "p" }).policy;
    assert.equal(p.flags, undefined);
    assert.ok(p.rules.every((r) => r.tier !== "static-low" && r.tier !== "static-high"));
  });
});

describe("burn-in (pure): finalize and patch", () => {
  const text = generatePolicy([profileOf(["read", "write"])], {
    phase: "all",
    reachable: new Map([
      ["personality", ["p"]],
      ["setuid", ["s"]],
    ]),
    unseen: "log",
  }).text;
  const rec = (nr: number) =>
    `audit: type=1326 audit(2000000100.000:1): pid=5 comm="app" exe="/usr/bin/app" sig=0 arch=c000003e syscall=${nr} compat=0 ip=0x1 code=0x7ffc0000`;
  const fired = groupRecords([
    parseSeccompRecord(rec(135)) as NonNullable<ReturnType<typeof parseSeccompRecord>>,
  ]);
  it("audit --patch turns a fired burn-in rule into allow, in place", () => {
    const p = patchPolicy(text, "b.yaml", fired);
    assert.deepEqual(p.added, ["personality"]);
    const policy = parsePolicy(p.text, { file: "b.yaml" }).policy;
    assert.equal(decide(policy, "personality"), "allow");
    assert.equal(policy.rules.find((r) => r.names[0] === "personality")?.final, undefined);
    assert.equal(decide(policy, "setuid"), "log", "the other burn-in rule is untouched");
  });
  it("--finalize: rules that never fired become their final answer; fired ones stay; the window is recorded", () => {
    const e = { source: "test.log", since: 2000000000, until: 2000000200, violations: fired, suppressed: 0 };
    const f = finalizePolicy(text, "b.yaml", e);
    assert.deepEqual(f.finalized, ["setuid"]);
    assert.deepEqual(f.fired, ["personality"]);
    const policy = parsePolicy(f.text, { file: "b.yaml" }).policy;
    assert.equal(decide(policy, "setuid"), "errno EPERM");
    assert.equal(decide(policy, "personality"), "log");
    assert.match(
      f.text,
      /burn-in: 2033-05-18T03:33:20Z … 2033-05-18T03:36:40Z from test\.log, 1 record\(s\)/,
    );
  });
  it("--finalize refuses a lossy window: dropped records, or a ring buffer that no longer reaches back", () => {
    const base = { source: "dmesg", since: 2000000000, until: 2000000200, violations: [], suppressed: 0 };
    assert.throws(
      () => finalizePolicy(text, "b.yaml", { ...base, suppressed: 3 }),
      /dropped 3 audit message/,
    );
    assert.throws(
      () => finalizePolicy(text, "b.yaml", { ...base, oldest: 2000000100 }),
      /ring buffer wrapped/,
    );
  });
});

describe("tiers on the real kernel", { skip: linuxX64 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-tiers-"));
  const bin = join(dir, "hidden-path");
  execFileSync("gcc", ["-O2", "-o", bin, `${REPO}test/fixtures/hidden-path.c`]);
  const sysfence = (args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60000 });
  const profile = join(dir, "normal.json");
  const rec = sysfence(["record", "-q", "--engine", "strace", "-o", profile, "--", bin, "normal"]);
  const records = (since: number, pid?: number) =>
    execFileSync("dmesg", { encoding: "utf8" })
      .split("\n")
      .filter(
        (l) =>
          l.includes(`exe="${bin}"`) &&
          Number(/audit\((\d+)/.exec(l)?.[1] ?? 0) >= since &&
          (pid === undefined || l.includes(` pid=${pid} `)),
      );
  const waitFor = async (since: number, nr: number, pid?: number) => {
    for (let i = 0; i < 30; i++) {
      if (records(since, pid).some((l) => l.includes(` syscall=${nr} `))) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  };

  it("a hidden path meets EPERM, keeps running, and the kernel log holds the record", async () => {
    assert.equal(rec.status, 0, rec.stderr);
    const policy = join(dir, "policy.yaml");
    const gen = sysfence(["generate", "--phase", "all", profile, "-o", policy]);
    assert.equal(gen.status, 0, gen.stderr);
    assert.match(
      readFileSync(policy, "utf8"),
      /names: \[setresuid\]\n {4}action: "errno EPERM"\n {4}tier: static-high/,
    );
    const since = Math.floor(Date.now() / 1000) - 1;
    const run = sysfence(["run", "--policy", policy, "--", bin, "hidden"]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, "setresuid: Operation not permitted\ndone hidden\n");
    assert.ok(await waitFor(since, 117), "a SECCOMP record for setresuid (117)");
  });

  it("burn-in: log → the call that happens is patched to allow → the rest finalized to EPERM", async () => {
    const burn = join(dir, "burn.yaml");
    assert.equal(sysfence(["generate", "--phase", "all", "--unseen", "log", profile, "-o", burn]).status, 0);
    const since = Math.floor(Date.now() / 1000) - 1;
    const during = sysfence(["run", "--policy", burn, "--", bin, "burn"]);
    assert.equal(during.stdout, "personality: ok\ndone burn\n", "logged, not blocked");
    // this run's records only: the machine's log is shared (the test before made setresuid records)
    assert.ok(await waitFor(since, 135, during.pid), "the kernel logged personality (135)");
    const log = join(dir, "window.log");
    writeFileSync(log, `${records(since, during.pid).join("\n")}\n`);
    const patched = join(dir, "patched.yaml");
    const p = sysfence(["audit", log, "--patch", burn, "--exe", bin, "-o", patched]);
    assert.match(p.stderr, /the patch allows personality/);
    const final = join(dir, "final.yaml");
    const f = sysfence([
      "generate",
      "--finalize",
      patched,
      "--since",
      String(since),
      "--source",
      log,
      "-o",
      final,
    ]);
    assert.equal(f.status, 0, f.stderr);
    assert.match(f.stderr, /finalized \d+ log rule\(s\)/);
    const text = readFileSync(final, "utf8");
    assert.doesNotMatch(text, /action: "?log"?/, "no burn-in rule left");
    assert.match(text, /# burn-in: /);
    const ok = sysfence(["run", "--policy", final, "--", bin, "burn"]);
    assert.equal(ok.stdout, "personality: ok\ndone burn\n");
    const denied = sysfence(["run", "--policy", final, "--", bin, "hidden"]);
    assert.equal(denied.stdout, "setresuid: Operation not permitted\ndone hidden\n");
  });
});

describe("argument names by context (values collide across constant families)", () => {
  it("fcntl commands and prctl options print as themselves, never as another argument's name", async () => {
    const { nameValue } = await import("../../src/generate/symbols.js");
    const { evalValue } = await import("../../src/syscalls/constants.js");
    const expect: [string, number, string][] = [
      ["fcntl", 1, "F_SETFL"],
      ["fcntl", 1, "F_SETOWN"],
      ["fcntl", 1, "F_GETLK"],
      ["fcntl", 1, "F_SETLKW"],
      ["fcntl", 1, "F_DUPFD_CLOEXEC"],
      ["prctl", 0, "PR_SET_DUMPABLE"],
      ["prctl", 0, "PR_SET_PDEATHSIG"],
      ["prctl", 0, "PR_SET_NO_NEW_PRIVS"],
      ["prctl", 0, "PR_SET_MM"],
      ["prctl", 0, "PR_CAPBSET_DROP"],
    ];
    for (const [call, arg, name] of expect) {
      const v = evalValue(name);
      const shown = nameValue(call, arg, v);
      assert.equal(shown, name, `${call} arg${arg} = ${v}`);
      assert.equal(evalValue(shown), v, "parses back to the same value");
    }
  });
});
