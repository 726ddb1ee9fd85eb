// Audit records are the whole host's, and forgeable: only the records of the profile's or policy's own
// program may change it (generate/merge --from-audit, generate --finalize, audit --patch), only the codes
// that mean a rule fired count, a malformed record is never read as an action, and what is left out is
// said on stderr. Every case drives the real CLI in-process on forged lines in files (never the live log).
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatAction } from "../../src/policy/actions.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import type { Profile } from "../../src/record/profile.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { runCli } from "../helpers/cli.js";
import { syntheticProfile } from "../helpers/profiles.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-programs-"));
const save = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** A dmesg SECCOMP line (x86_64); code LOG unless given. */
const rec = (exe: string, nr: number, code = "0x7ffc0000", time = "2000000100.000") =>
  `[  9.1] audit: type=1326 audit(${time}:7): auid=0 uid=0 gid=0 ses=1 pid=4242 comm="x" exe="${exe}" sig=0 arch=c000003e syscall=${nr} compat=0 ip=0x1 code=${code}`;
const NR = {
  read: 0,
  ioctl: 16,
  kill: 62,
  uname: 63,
  unlink: 87,
  ptrace: 101,
  setuid: 105,
  personality: 135,
};

const decide = (text: string, name: string, file = "p.yaml") =>
  formatAction(
    referenceDecide(parsePolicy(text, { file }).policy, {
      arch: ARCHES.x86_64.audit,
      nr: syscallNumber("x86_64", name) as number,
      args: [0n, 0n, 0n, 0n, 0n, 0n],
    }),
  );
const ruleNames = (text: string) =>
  parsePolicy(text, { file: "g.yaml" }).policy.rules.flatMap((r) =>
    r.action.kind === "allow" ? r.names : [],
  );

describe("generate and merge --from-audit take only the profile's program's records", () => {
  const profile = save("find.json", JSON.stringify(syntheticProfile({ read: {}, write: {} })));
  const log = save(
    "shared-host.log",
    [
      rec("/usr/bin/demo", NR.ioctl),
      rec("/usr/lib/postgresql/bin/postgres", NR.kill, "0x80000000"),
      rec("/usr/lib/postgresql/bin/postgres", NR.unlink, "0x80000000"),
      rec("/usr/sbin/other", NR.ptrace), // one forged line
    ].join("\n"),
  );

  it("generate: other programs' records are ignored and named on stderr", async () => {
    const r = await runCli("generate", profile, "--from-audit", log, "--static", "off");
    assert.equal(r.code, 0, r.stderr);
    const names = ruleNames(r.stdout);
    assert.ok(names.includes("ioctl"), "the profile's program's record is taken");
    for (const n of ["ptrace", "kill", "unlink"])
      assert.ok(!names.includes(n), `${n}: another program's record`);
    assert.match(
      r.stderr,
      /ignored 3 SECCOMP record\(s\) of other programs than \/usr\/bin\/demo: \/usr\/lib\/postgresql\/bin\/postgres ×2, \/usr\/sbin\/other ×1; name a program with --audit-exe/,
    );
  });

  it("merge: the same rule", async () => {
    const r = await runCli("merge", profile, "--from-audit", log);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout) as Profile;
    assert.deepEqual(Object.keys(m.syscalls).sort(), ["ioctl", "read", "write"]);
    assert.match(r.stderr, /sysfence merge: ignored 3 SECCOMP record\(s\) of other programs/);
  });

  it("--audit-exe X PROFILE: the profile stays a positional argument; X's records are the ones taken", async () => {
    const r = await runCli(
      "generate",
      "--audit-exe",
      "/usr/sbin/other",
      profile,
      "--from-audit",
      log,
      "--static",
      "off",
    );
    assert.equal(r.code, 0, r.stderr);
    const names = ruleNames(r.stdout);
    assert.ok(names.includes("read") && names.includes("write"), "the profile was read");
    assert.ok(names.includes("ptrace") && !names.includes("ioctl") && !names.includes("kill"));
    const m = await runCli("merge", "--audit-exe", "postgres", profile, "--from-audit", log);
    assert.equal(m.code, 0, m.stderr);
    assert.deepEqual(Object.keys((JSON.parse(m.stdout) as Profile).syscalls).sort(), [
      "kill",
      "read",
      "unlink",
      "write",
    ]);
  });

  it("without a profile, --from-audit needs --audit-exe: there is no program to match", async () => {
    const r = await runCli("generate", "--from-audit", log);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no profile to say which program .*--audit-exe PATH/);
  });

  it("a program whose binary is no longer the recorded build: its records are not taken", async () => {
    const exe = join(dir, "app");
    copyFileSync(existsSync("/usr/bin/true") ? "/usr/bin/true" : process.execPath, exe);
    const p = syntheticProfile({ read: {} }, { exe });
    p.processes[0].buildId = "00112233445566778899aabbccddeeff00112233";
    const r = await runCli(
      "merge",
      save("app.json", JSON.stringify(p)),
      "--from-audit",
      save("app.log", rec(exe, NR.uname)),
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is no longer the binary recorded \(build-id [0-9a-f]+ now, 00112233/);
  });
});

const BURN_IN = `defaultAction: kill-process
architectures: [x86_64]
analysis: { programs: ["/usr/bin/app"], unresolved: 0 }
syscalls:
  - names: [read, write, exit_group]
    action: allow
  - names: [personality]
    action: log
    final: "errno EPERM"
  - names: [setuid]
    action: log
    final: "errno EPERM"
  - names: [uname]
    action: log
    final: "errno EPERM"
`;

describe("generate --finalize counts only the policy's program's LOG records", () => {
  const policy = save("burn.yaml", BURN_IN);
  const finalize = (log: string, ...more: string[]) =>
    runCli("generate", "--finalize", policy, "--since", "2000000000", "--source", log, ...more);

  it("another program's LOG record and an ALLOW-code record are not a rule that fired", async () => {
    const log = save(
      "window.log",
      [
        rec("/usr/sbin/other", NR.personality), // another program: not evidence
        rec("/usr/bin/app", NR.setuid, "0x7fff0000"), // ALLOW: no log rule fired
        rec("/usr/bin/app", NR.uname), // LOG from the policy's program: fired
      ].join("\n"),
    );
    const r = await finalize(log);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(decide(r.stdout, "personality"), "errno EPERM");
    assert.equal(decide(r.stdout, "setuid"), "errno EPERM");
    assert.equal(decide(r.stdout, "uname"), "log", "the rule that fired stays for audit --patch");
    assert.match(r.stderr, /finalized 2 log rule\(s\) \(personality, setuid\); uname fired/);
    assert.match(
      r.stderr,
      /ignored 1 SECCOMP record\(s\) of other programs than \/usr\/bin\/app: \/usr\/sbin\/other ×1/,
    );
  });

  it("a KILL record of a log rule's call is another filter's answer, not the log rule firing", async () => {
    const r = await finalize(save("kill.log", rec("/usr/bin/app", NR.setuid, "0x80000000")));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(decide(r.stdout, "setuid"), "errno EPERM");
  });

  it("a policy that names no program needs --exe", async () => {
    const bare = save("bare.yaml", BURN_IN.replace(/^analysis:.*\n/m, ""));
    const log = save("bare.log", rec("/usr/bin/app", NR.uname));
    const r = await runCli("generate", "--finalize", bare, "--since", "2000000000", "--source", log);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bare\.yaml does not name the program it is for .*--exe PATH/);
    const ok = await runCli(
      "generate",
      "--finalize",
      bare,
      "--since",
      "2000000000",
      "--source",
      log,
      "--exe",
      "/usr/bin/app",
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(decide(ok.stdout, "uname"), "log");
  });

  it("a malformed record in the window refuses the finalize: it may be a rule that fired", async () => {
    const log = save(
      "bad.log",
      `${rec("/usr/bin/app", NR.uname).replace("code=0x7ffc0000", "code=banana")}\n`,
    );
    const r = await finalize(log);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /bad\.log:1: a malformed SECCOMP record \(code=banana is not a filter return value/,
    );
    assert.match(r.stderr, /1 malformed SECCOMP record\(s\) in the window/);
  });
});

describe("audit --patch: the policy's program's records only, malformed ones never, JSON policies too", () => {
  const POLICY = `defaultAction: kill-process
architectures: [x86_64]
analysis: { programs: ["/usr/bin/app"], unresolved: 0 }
syscalls:
  - names: [read, write]
    action: allow
`;
  const policy = save("app.yaml", POLICY);

  it("a malformed record (code=banana) is reported with its line and not patched as a kill", async () => {
    const log = save(
      "banana.log",
      ["noise", rec("/usr/bin/app", NR.uname).replace("code=0x7ffc0000", "code=banana")].join("\n"),
    );
    const r = await runCli("audit", log, "--patch", policy, "--exe", "/usr/bin/app");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "", "no diff");
    assert.match(
      r.stderr,
      /banana\.log:2: a malformed SECCOMP record \(code=banana is not a filter return value/,
    );
    assert.match(r.stderr, /nothing to add/);
    const list = await runCli("audit", log, "--json");
    assert.equal(JSON.parse(list.stdout).records, 0);
    for (const [good, bad] of [
      ["syscall=63", "syscall=x1"],
      ["arch=c000003e", "arch=zz"],
    ]) {
      const l = await runCli(
        "audit",
        save("bad2.log", rec("/usr/bin/app", NR.uname).replace(good, bad)),
        "--json",
      );
      assert.equal(JSON.parse(l.stdout).records, 0, bad);
      assert.match(l.stderr, /bad2\.log:1: a malformed SECCOMP record/, bad);
    }
  });

  it("a single foreign program's records are not applied without --exe", async () => {
    const log = save("foreign.log", rec("/usr/sbin/other", NR.ptrace));
    const r = await runCli("audit", log, "--patch", policy);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /ignored 1 SECCOMP record\(s\) of other programs than \/usr\/bin\/app: \/usr\/sbin\/other ×1/,
    );
    // a policy that does not name its program: --exe is required even for one program's records
    const bare = save("bare-app.yaml", POLICY.replace(/^analysis:.*\n/m, ""));
    const b = await runCli("audit", log, "--patch", bare);
    assert.equal(b.code, 2);
    assert.match(
      b.stderr,
      /records come from 1 program \(\/usr\/sbin\/other\) and .*bare-app\.yaml does not name the program .*--exe/,
    );
  });

  it("the policy's program's records are applied; an ALLOW-code record adds nothing", async () => {
    const log = save(
      "own.log",
      [rec("/usr/bin/app", NR.uname), rec("/usr/bin/app", NR.ioctl, "0x7fff0000")].join("\n"),
    );
    const out = join(dir, "patched.yaml");
    const r = await runCli("audit", log, "--patch", policy, "-o", out);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the patch allows uname\n/);
    assert.match(r.stderr, /not added: ioctl .*code is ALLOW/);
    assert.equal(decide(readFileSync(out, "utf8"), "uname"), "allow");
    assert.equal(decide(readFileSync(out, "utf8"), "ioctl"), "kill-process");
  });

  it("a sysfence policy written as JSON is patched and written back as JSON", async () => {
    const json = save(
      "app.json",
      `${JSON.stringify(
        {
          defaultAction: "kill-process",
          architectures: ["x86_64"],
          analysis: { programs: ["/usr/bin/app"], unresolved: 0 },
          syscalls: [
            { names: ["read", "write"], action: "allow" },
            { names: ["personality", "setuid"], action: "log", final: "errno EPERM" },
          ],
        },
        null,
        2,
      )}\n`,
    );
    const log = save(
      "json.log",
      [rec("/usr/bin/app", NR.uname), rec("/usr/bin/app", NR.personality)].join("\n"),
    );
    const out = join(dir, "patched.json");
    const r = await runCli("audit", log, "--patch", json, "-o", out);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the patch allows personality, uname/);
    const text = readFileSync(out, "utf8");
    const data = JSON.parse(text) as { syscalls: { names: string[]; action: string }[] };
    assert.ok(data.syscalls.some((s) => s.names.includes("uname") && s.action === "allow"));
    assert.equal(decide(text, "uname", "patched.json"), "allow");
    assert.equal(decide(text, "personality", "patched.json"), "allow", "the burn-in rule that fired");
    assert.equal(decide(text, "setuid", "patched.json"), "log", "the one that did not stays a burn-in rule");
    // with -o FILE the change is in FILE: standard output gets a one-line summary, not the diff
    assert.match(
      r.stdout,
      /^.*patched\.json: .*app\.json with 2 call\(s\) allowed \(personality, uname\); \d+ line\(s\) added, \d+ removed\n$/,
    );
  });
});

describe("naming a program", () => {
  it("a record that names its exe is never taken on its comm, which the process sets itself", async () => {
    const { isFromProgram, parseSeccompRecord } = await import("../../src/observe/records.js");
    const spoof = parseSeccompRecord(rec("/usr/sbin/other", NR.ptrace).replace('comm="x"', 'comm="find"'));
    assert.ok(spoof);
    assert.equal(isFromProgram(spoof, "find"), false);
    assert.equal(isFromProgram(spoof, "other"), true);
    assert.equal(isFromProgram(spoof, "/usr/sbin/other"), true);
    const noExe = parseSeccompRecord(
      rec("/x", NR.ptrace).replace(' exe="/x"', "").replace('comm="x"', 'comm="find"'),
    );
    assert.ok(noExe);
    assert.equal(isFromProgram(noExe, "find"), true, "without an exe the comm is all there is");
  });
  it("--exe ./app is the path from the working directory", async () => {
    const { recordFilter } = await import("../../src/observe/programs.js");
    const { parseSeccompRecord } = await import("../../src/observe/records.js");
    const f = recordFilter({ named: ["./app"], target: [], option: "--exe", none: "", cwd: "/usr/bin" });
    assert.equal(f.reject(parseSeccompRecord(rec("/usr/bin/app", NR.uname))!), undefined);
    assert.equal(f.reject(parseSeccompRecord(rec("/opt/app", NR.uname))!), "another program");
  });
});
