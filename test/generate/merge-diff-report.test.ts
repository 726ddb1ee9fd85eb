import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { mergeProfiles } from "../../src/generate/merge.js";
import { profileFromLog } from "../../src/record/engines/strace/strace.js";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH as CLI } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { syntheticProfile } from "../helpers/profiles.js";
import { requireOrSkip } from "../helpers/require.js";

const sysfence = (args: string[], input?: string) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", input });
const dir = mkdtempSync(join(tmpdir(), "sysfence-gen-"));
const save = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
};
const hasStrace = spawnSync("strace", ["-V"]).status === 0;

const base = {
  read: {},
  write: {},
  epoll_wait: {},
  accept4: {},
  ioctl: { args: { 1: [0x5421] } },
  socket: { args: { 0: [2], 1: [0x80801] } },
};

describe("merge: shards of one recording add up to the recording", {
  skip: process.platform !== "linux" ? "needs Linux" : requireOrSkip(hasStrace, "strace"),
}, () => {
  it("a real strace log split by process, imported shard by shard and merged, equals the whole", async () => {
    const log = join(dir, "whole.log");
    const r = spawnSync("strace", [
      "-f",
      "-ttt",
      "-X",
      "raw",
      "-o",
      log,
      "--",
      "sh",
      "-c",
      "ls / >/dev/null; cat /etc/hostname >/dev/null; head -c 10 /etc/passwd >/dev/null; true",
    ]);
    assert.equal(r.status, 0, String(r.stderr));
    const lines = readFileSync(log, "utf8").split("\n").filter(Boolean);
    const pids = [...new Set(lines.map((l) => l.split(/\s+/)[0]))];
    assert.ok(pids.length >= 4, `several processes (${pids.length})`);
    // shard A: the shell and every other child; shard B: the rest
    const inA = new Set(pids.filter((_, i) => i % 2 === 0));
    const a = save("a.log", `${lines.filter((l) => inA.has(l.split(/\s+/)[0])).join("\n")}\n`);
    const b = save("b.log", `${lines.filter((l) => !inA.has(l.split(/\s+/)[0])).join("\n")}\n`);
    const whole = (await profileFromLog(log)).profile;
    const shards = [(await profileFromLog(a)).profile, (await profileFromLog(b)).profile];
    const merged = mergeProfiles(shards, ["a", "b"]);
    const plainJson = (v: unknown) => JSON.parse(JSON.stringify(v));
    assert.deepEqual(plainJson(merged.syscalls), plainJson(whole.syscalls));
    assert.deepEqual(Object.entries(merged.paths).sort(), Object.entries(whole.paths).sort());
    assert.deepEqual(
      merged.mergedFrom?.map((m) => m.source),
      ["a", "b"],
    );
    // and through the CLI
    const pa = save("a.json", shards[0]);
    const pb = save("b.json", shards[1]);
    const out = join(dir, "merged.json");
    const m = sysfence(["merge", pa, pb, "-o", out]);
    assert.equal(m.status, 0, m.stderr);
    assert.deepEqual((JSON.parse(readFileSync(out, "utf8")) as Profile).syscalls, plainJson(whole.syscalls));
  });
});

describe("merge", () => {
  it("adds counts and argument values, keeps every process, refuses mixed architectures", () => {
    const x = syntheticProfile({ read: { setup: 2 }, ioctl: { args: { 1: [1] } } });
    const y = syntheticProfile({ read: { setup: 3 }, ioctl: { args: { 1: [2] } } });
    const m = mergeProfiles([x, y]);
    assert.equal(m.syscalls.read.setup, 5);
    assert.deepEqual(Object.keys(m.syscalls.ioctl.args?.[1] ?? {}).sort(), ["1", "2"]);
    assert.equal(m.processes.length, 2);
    assert.equal(m.paths["/etc/demo.conf"], 2);
    assert.throws(() => mergeProfiles([x, { ...y, arch: "aarch64" }]), /different architectures/);
  });
});

describe("diff: the CI drift check", () => {
  const old = save("old.json", syntheticProfile(base));
  it("exits 0 when nothing changed or a call vanished", () => {
    const same = sysfence(["diff", old, old]);
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stdout, /no drift/);
    const { read: _r, ...fewer } = base;
    const r = sysfence(["diff", old, save("fewer.json", syntheticProfile(fewer))]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^1 other change\(s\) need no decision/m, "details only on request");
    assert.doesNotMatch(r.stdout, /^- read$/m);
    assert.match(
      sysfence(["diff", "--all", old, save("fewer.json", syntheticProfile(fewer))]).stdout,
      /^- read$/m,
    );
  });
  it("exits 1 when NEW makes a call OLD's policy denies", () => {
    const r = sysfence(["diff", "--all", old, save("more.json", syntheticProfile({ ...base, ptrace: {} }))]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^\+ ptrace$/m);
    assert.match(r.stdout, /^ {2}! ptrace\(\) → kill-process$/m);
    assert.match(r.stderr, /needs 1 call\(s\) that .*old\.json's policy denies/);
    assert.match(r.stdout.split("\n")[0], /^DRIFT: .*more\.json needs 1 call\(s\)/, "the verdict leads");
  });
  it("exits 2, never 1, when an input is missing or not a profile (CI must not read it as drift)", () => {
    const missing = sysfence(["diff", old, "/nonexistent/new.json"]);
    assert.equal(missing.status, 2, missing.stderr);
    const bad = save("bad.json", { nope: true } as never);
    assert.equal(sysfence(["diff", bad, old]).status, 2);
  });
  it("exits 1 when NEW uses a new argument value that OLD's argument rule denies", () => {
    const r = sysfence([
      "diff",
      "--all",
      old,
      save("tiocsti.json", syntheticProfile({ ...base, ioctl: { args: { 1: [0x5421, 0x5412] } } })),
    ]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /^\+ ioctl arg1 = TIOCSTI$/m);
    assert.match(r.stdout, /^ {2}! ioctl\(arg1=TIOCSTI\) → errno EPERM/m);
  });
  it("compares policies: NEW allowing more than OLD is drift, allowing less is not", () => {
    const a = save(
      "a.yaml",
      "defaultAction: kill-process\nsyscalls:\n  - names: [read, write]\n    action: allow\n  - names: [ioctl]\n    action: allow\n    args: ['arg1 == FIONBIO']\n",
    );
    const b = save(
      "b.yaml",
      "defaultAction: kill-process\nsyscalls:\n  - names: [read, write, openat]\n    action: allow\n  - names: [ioctl]\n    action: allow\n",
    );
    const widened = sysfence(["diff", a, b]);
    assert.equal(widened.status, 1, widened.stdout);
    assert.match(widened.stdout, /^ {2}! openat\(\)/m);
    assert.match(widened.stdout, /^ {2}! ioctl\(arg1=/m);
    assert.equal(sysfence(["diff", b, a]).status, 0);
  });
  it("--format json and md: the verdict, the calls to decide, and the exit status CI reads", () => {
    const more = save("more2.json", syntheticProfile({ ...base, ptrace: {} }));
    const j = sysfence(["diff", "--format", "json", old, more]);
    assert.equal(j.status, 1);
    const d = JSON.parse(j.stdout) as { drift: boolean; denied: { syscall: string }[]; vanished: string[] };
    assert.equal(d.drift, true);
    assert.deepEqual(
      d.denied.map((x) => x.syscall),
      ["ptrace"],
    );
    assert.deepEqual(JSON.parse(sysfence(["diff", "--json", old, old]).stdout).drift, false);
    const m = sysfence(["diff", "--format", "md", old, more]);
    assert.equal(m.status, 1);
    assert.match(m.stdout, /^### ❌ DRIFT: /);
    assert.match(m.stdout, /^\| `ptrace` \| — \| kill-process \|$/m);
    assert.match(sysfence(["diff", "--format", "md", old, old]).stdout, /^### ✅ no drift/);
    assert.equal(sysfence(["diff", "--format", "xml", old, old]).status, 2);
  });
  it("reads NEW from standard input (-)", () => {
    const text = JSON.stringify(syntheticProfile({ ...base, ptrace: {} }));
    const r = sysfence(["diff", old, "-"], text);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /<stdin> needs 1 call/);
  });
  it("checks a new recording against a deployed policy", () => {
    const pol = save(
      "deployed.yaml",
      "defaultAction: errno EPERM\nsyscalls:\n  - names: [read, write, epoll_wait, accept4, socket, ioctl, exit_group]\n    action: allow\n",
    );
    assert.equal(sysfence(["diff", pol, old]).status, 0);
    const r = sysfence([
      "diff",
      pol,
      save("new.json", syntheticProfile({ ...base, mprotect: { args: { 2: [5] } } })),
    ]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /! mprotect\(arg2=PROT_READ\|PROT_EXEC\) → errno EPERM/);
  });
});

describe("report", () => {
  const profile = save("server.json", syntheticProfile(base));
  it("text: allowed N of M, risky calls, groups, what was recorded", () => {
    const r = sysfence(["report", profile]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^allowed {5}\d+ of 385 x86_64 syscalls/m);
    assert.match(r.stdout, /^ {5}ptrace +denied/m);
    assert.match(r.stdout, /@network-io +\d+\/\d+ +partial/);
    assert.match(r.stdout, /inet:127\.0\.0\.1:8080 ×2/);
    assert.match(r.stdout, /\/etc\/demo\.conf ×1/);
  });
  it("names risky calls that a policy still allows", () => {
    const wide = save(
      "wide.yaml",
      "defaultAction: allow\nsyscalls:\n  - names: [bpf]\n    action: errno EPERM\n",
    );
    const r = sysfence(["report", wide, "--format", "json"]);
    const rep = JSON.parse(r.stdout) as {
      allowed: number;
      known: number;
      risky: { what: string; treatment: string }[];
    };
    assert.equal(rep.allowed, rep.known - 1);
    const t = Object.fromEntries(rep.risky.map((k) => [k.what, k.treatment]));
    assert.equal(t.ptrace, "allow");
    assert.equal(t.bpf, "errno");
    assert.equal(t["socket(AF_PACKET)"], "allow");
    const text = sysfence(["report", wide]).stdout;
    assert.match(text, /^ {2}!! ptrace +allowed +reads and writes other processes' memory/m);
  });
  it("argument-restricted calls show their rules (Docker's profile: clone, personality, socket)", () => {
    const rep = JSON.parse(
      sysfence(["report", `${REPO}examples/docker-default.json`, "--format", "json"]).stdout,
    ) as {
      syscalls: { name: string; treatment: string; detail: string }[];
      risky: { what: string; treatment: string }[];
    };
    const by = Object.fromEntries(rep.syscalls.map((s) => [s.name, s]));
    assert.equal(by.clone.treatment, "restricted");
    assert.equal(by.personality.treatment, "restricted");
    assert.equal(by.reboot.treatment, "errno");
    assert.equal(
      Object.fromEntries(rep.risky.map((k) => [k.what, k.treatment]))["clone(CLONE_NEWUSER)"],
      "errno",
    );
  });
  it("md and html: one self-contained page, every section", () => {
    const md = sysfence(["report", profile, "--format", "md"]).stdout;
    assert.match(md, /^# sysfence report/m);
    assert.match(md, /^\| `ptrace` \| denied \|/m);
    const out = join(dir, "r.html");
    assert.equal(sysfence(["report", profile, "--format", "html", "-o", out]).status, 0);
    const html = readFileSync(out, "utf8");
    assert.match(html, /^<!doctype html>/);
    for (const s of [
      "Risky calls",
      "Every syscall",
      "Groups (systemd)",
      "What was recorded",
      "inet:127.0.0.1:8080",
    ])
      assert.ok(html.includes(s), s);
    assert.doesNotMatch(html, /<script|<link|src=|url\(/, "no scripts, no external files");
    assert.equal(sysfence(["report", profile, "--format", "pdf"]).status, 2);
  });
});

describe("generate --from-audit: the kernel's records join the profile", () => {
  const records = save(
    "dmesg.txt",
    [
      '[  9.1] audit: type=1326 audit(1795328380.495:39): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=7925 comm="demo" exe="/usr/bin/demo" sig=0 arch=c000003e syscall=16 compat=0 ip=0x7fb9facd64c6 code=0x7ffc0000',
      '[  9.2] audit: type=1326 audit(1795328380.496:40): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=7925 comm="demo" exe="/usr/bin/demo" sig=31 arch=c000003e syscall=217 compat=0 ip=0x7fb9facd64c6 code=0x80000000',
      '[  9.3] audit: type=1326 audit(1795328380.497:41): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=8000 comm="other" exe="/usr/bin/other" sig=0 arch=c000003e syscall=101 compat=0 ip=0x1 code=0x7ffc0000',
    ].join("\n"),
  );
  const profile = save("p.json", syntheticProfile({ read: {}, write: {} }));
  it("allows the recorded calls plus the ones the records show (filtered by --audit-exe)", () => {
    const out = join(dir, "from-audit.yaml");
    const r = sysfence(["generate", profile, "--from-audit", records, "--audit-exe", "demo", "-o", out]);
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(out, "utf8");
    assert.match(text, /names: \[ioctl\]/);
    assert.match(text, /names: \[getdents64\]/);
    assert.doesNotMatch(text, /names: \[ptrace\]/, "another program's record");
    assert.match(r.stderr, /2 syscalls from .*dmesg\.txt's SECCOMP records/);
    const merged = join(dir, "with-audit.json");
    // without --audit-exe: the profile's own program's records (/usr/bin/demo), the other one's ignored
    const mr = sysfence(["merge", profile, "--from-audit", records, "-o", merged]);
    assert.equal(mr.status, 0, mr.stderr);
    assert.match(
      mr.stderr,
      /ignored 1 SECCOMP record\(s\) of other programs than \/usr\/bin\/demo: \/usr\/bin\/other ×1/,
    );
    const m = JSON.parse(readFileSync(merged, "utf8")) as Profile;
    assert.deepEqual(Object.keys(m.syscalls).sort(), ["getdents64", "ioctl", "read", "write"]);
  });
  it("a source without records is an error that says what to do", () => {
    const r = sysfence([
      "generate",
      "--from-audit",
      save("empty.txt", "nothing here\n"),
      "--audit-exe",
      "demo",
    ]);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /no SECCOMP records of demo in .*run the program under the policy with --log first/,
    );
  });
});

describe("no silent loss: a profile that lost events is refused unless allowed", () => {
  // written before the engine field existed: "strace" held the ftrace engine's loss
  const old = {
    ...syntheticProfile({ read: {} }),
    engine: undefined,
    strace: "ftrace (kernel tracepoints; 733572 events lost)",
  };
  const lossy = save("lossy.json", old as never);
  it("generate, merge and diff name the loss and the way out; --allow-incomplete proceeds", () => {
    for (const args of [
      ["generate", lossy],
      ["merge", lossy],
      ["diff", lossy, lossy],
    ]) {
      const r = sysfence(args);
      assert.equal(r.status, 2, `${args[0]}: a profile that lost events is input trouble: ${r.stderr}`);
      assert.match(
        r.stderr,
        /lossy\.json: the recording lost events \(.*733572 events dropped\).*--allow-incomplete/,
      );
      assert.equal(
        sysfence([...args.slice(0, 1), "--allow-incomplete", ...args.slice(1)]).status,
        0,
        args[0],
      );
    }
  });
  it("an old profile's strace field is read as its engine", () => {
    const merged = JSON.parse(sysfence(["merge", "--allow-incomplete", lossy]).stdout);
    assert.equal(merged.engine.name, "merge");
    assert.equal(merged.engine.lostEvents, 733572, "a lossy part keeps the merge lossy");
    assert.equal(merged.strace, undefined);
  });
});

describe("paths a recording left out (pathsOmitted)", () => {
  it("record says so, the profile is read back and checked, merge adds the counts up", () => {
    // 20100 distinct paths: a profile keeps the first 20000
    const lines = ['1 execve("/bin/walk", ["walk"], 0x7ffd /* 1 var */) = 0'];
    for (let i = 0; i < 20100; i++) lines.push(`1 newfstatat(AT_FDCWD, "/data/f${i}", 0x7ffd, 0) = 0`);
    const log = save("many-paths.log", `${lines.join("\n")}\n`);
    const out = join(dir, "many-paths.json");
    const r = sysfence(["record", "--from-strace", log, "-o", out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /101 uses of other paths are left out of "paths" \(the counts of calls are whole\)/,
    );
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.equal(p.pathsOmitted, 101);
    assert.equal(p.syscalls.newfstatat.setup, 20100);
    // read back by the other commands; a bad value is refused with the file named
    assert.equal(sysfence(["report", out, "-o", join(dir, "r.txt")]).status, 0);
    const bad = save("bad-omitted.json", { ...p, pathsOmitted: -1 });
    const refused = sysfence(["report", bad]);
    assert.notEqual(refused.status, 0);
    assert.match(
      refused.stderr,
      /bad-omitted\.json: not a sysfence profile \("pathsOmitted" is not a positive whole number\)/,
    );
    assert.equal(mergeProfiles([p, p]).pathsOmitted, 202);
    assert.equal(mergeProfiles([p, { ...p, pathsOmitted: undefined }]).pathsOmitted, 101);
  });
});
