import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EXIT } from "../../src/cli/exit-status.js";
import { COMMANDS, reportError } from "../../src/cli/main.js";
import { SysfenceError } from "../../src/errors.js";
import { runCli } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { syntheticProfile } from "../helpers/profiles.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-exit-"));
const MISSING = join(dir, "missing.yaml");
const NO_DIR = join(dir, "no-such-dir", "out");
const POLICY = `${REPO}examples/server-policy.yaml`;

/**
 * Every command with an input it cannot read: a missing file where it reads one, else (dump, hook) a
 * missing directory it would write in. Commands that read no file at all have none.
 */
const MISSING_INPUT: Record<string, string[] | undefined> = {
  demo: undefined,
  run: ["run", "--policy", MISSING, "--", "true"],
  compile: ["compile", MISSING],
  disasm: ["disasm", MISSING],
  emu: ["emu", MISSING, "--syscall", "read"],
  dump: ["dump", "--pid", String(process.pid), "-o", NO_DIR],
  syscalls: undefined,
  check: ["check", MISSING],
  schema: undefined,
  fmt: ["fmt", MISSING],
  bench: ["bench", MISSING],
  audit: ["audit", MISSING],
  record: ["record", "--from-strace", MISSING, "-o", join(dir, "p.json")],
  generate: ["generate", MISSING],
  merge: ["merge", MISSING],
  diff: ["diff", MISSING, POLICY],
  report: ["report", MISSING],
  export: ["export", MISSING, "--format", "oci"],
  import: ["import", MISSING],
  hook: ["hook", "oci", "--output-dir", join(dir, "no-such-dir")],
  analyze: ["analyze", MISSING],
  completion: undefined,
  man: undefined,
};

/** Every command with an option value (or operand) it does not take. */
const BAD_OPTION: Record<string, string[]> = {
  demo: ["demo", "--clients", "x"],
  run: ["run", "--policy", POLICY, "--grace", "x", "--", "true"],
  compile: ["compile", POLICY, "--format", "bogus"],
  disasm: ["disasm", MISSING, "--bogus"],
  emu: ["emu", POLICY, "--syscall", "no_such_call"],
  dump: ["dump", "--pid", "x"],
  syscalls: ["syscalls", "--arch", "bogus"],
  check: ["check", POLICY, "--arch", "bogus"],
  schema: ["schema", "--bogus"],
  fmt: ["fmt", POLICY, "--bogus"],
  bench: ["bench", POLICY, "--iterations", "x"],
  audit: ["audit", "--source", "bogus"],
  record: ["record", "--engine", "bogus", "-o", join(dir, "p.json"), "true"],
  generate: ["generate", "--args", "bogus", MISSING],
  merge: ["merge", MISSING, "--bogus"],
  diff: ["diff", "--format", "bogus", POLICY, POLICY],
  report: ["report", "--format", "bogus", POLICY],
  export: ["export", POLICY, "--format", "bogus"],
  import: ["import", POLICY, "--input-format", "bogus"],
  hook: ["hook", "bogus", "--output-dir", dir],
  analyze: ["analyze", "/bin/true", "--arch", "bogus"],
  completion: ["completion", "bogus"],
  man: ["man", "--bogus"],
};

describe("exit statuses: one table for every command", () => {
  it("covers every command of the command table", () => {
    assert.deepEqual(Object.keys(MISSING_INPUT).sort(), Object.keys(COMMANDS).sort());
    assert.deepEqual(Object.keys(BAD_OPTION).sort(), Object.keys(COMMANDS).sort());
  });

  for (const [name, argv] of Object.entries(MISSING_INPUT)) {
    if (!argv) continue;
    it(`${name}: an input it cannot read is 2 (run: 125), one line naming the file and the errno's text`, async () => {
      const r = await runCli(...argv);
      assert.equal(r.code, name === "run" ? 125 : EXIT.trouble, r.stderr);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      const named = name === "dump" || name === "hook" ? join(dir, "no-such-dir") : MISSING;
      assert.ok(lines[0].includes(named), lines[0]);
      if (name !== "hook")
        assert.match(lines[0], /ENOENT: no such file or directory|does not exist/, lines[0]);
      assert.doesNotMatch(lines[0], /ENOENT\./, "the errno's text, not the bare symbol");
    });
  }

  for (const [name, argv] of Object.entries(BAD_OPTION)) {
    it(`${name}: a bad option or value is 2 (run: 125) with one line`, async () => {
      const r = await runCli(...argv);
      assert.equal(r.code, name === "run" ? 125 : EXIT.trouble, r.stderr);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    });
  }
});

describe("exit statuses: a finding is 1", () => {
  it("diff: drift", async () => {
    const more = join(dir, "more.json");
    writeFileSync(more, JSON.stringify(syntheticProfile({ read: {}, ptrace: {} })));
    const r = await runCli("diff", POLICY, more);
    assert.equal(r.code, EXIT.finding, r.stderr);
    assert.match(r.stderr, /denies/);
  });
  it("audit: records found", async () => {
    const log = join(dir, "kern.log");
    writeFileSync(
      log,
      '[ 1598.589815] audit: type=1326 audit(1795328380.495:39): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=7925 comm="ls" exe="/usr/bin/ls" sig=0 arch=c000003e syscall=16 compat=0 ip=0x7fb9facd64c6 code=0x7ffc0000\n',
    );
    const r = await runCli("audit", log);
    assert.equal(r.code, EXIT.finding, r.stderr);
  });
  it("check: the policy it checks is invalid (a file it cannot read is 2, above)", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "version: 1\ndefaultAction: kill-process\nsyscalls:\n  - name: no_such_call\n    action: allow\n",
    );
    const r = await runCli("check", bad);
    assert.equal(r.code, EXIT.finding, r.stderr);
    assert.match(r.stderr, /no_such_call/);
  });
});

describe("exit statuses: an internal error is 70, never 1", () => {
  const quiet = { stdout: () => {}, stderr: () => {} };
  it("maps each kind of error", () => {
    assert.equal(reportError(new TypeError("x is undefined"), quiet), 70);
    assert.equal(reportError(new SysfenceError("E_INTERNAL", "a round trip disagreed."), quiet), 70);
    assert.equal(reportError(new SysfenceError("E_DRIFT", "drift."), quiet), 1);
    assert.equal(reportError(new SysfenceError("E_IO", "cannot read x."), quiet), 2);
    assert.equal(reportError(new SysfenceError("E_POLICY_INVALID", "bad."), quiet), 2);
    assert.equal(reportError(new SysfenceError("E_PROFILE_INCOMPLETE", "lost events."), quiet), 2);
    assert.equal(reportError(new SysfenceError("E_DRIFT", "x", { exitStatus: 3 }), quiet), 3);
  });
});

describe("exit statuses: documented", () => {
  it("the man page lists the table, 70 included", async () => {
    const r = await runCli("man");
    const section = r.stdout.slice(r.stdout.indexOf(".SH EXIT STATUS"), r.stdout.indexOf(".SH SEE ALSO"));
    for (const status of ["0", "1", "2", "70", "127"])
      assert.match(section, new RegExp(`^\\.B ${status}$`, "m"));
    assert.match(section, /125/);
  });
});

describe("record: a program that dies of a signal", () => {
  it("says which signal and that generate still takes the profile (vsftpd stopped by SIGTERM: status 143)", async (t) => {
    if (spawnSync("strace", ["-V"]).error) return t.skip("strace");
    const profile = join(dir, "killed.json");
    const r = await runCli("record", "-q", "--engine", "strace", "-o", profile, "sh", "-c", "kill -TERM $$");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /status 143 \(128 \+ SIGTERM: killed by that signal.*generate still takes it/);
    const g = await runCli("generate", "--static", "off", profile, "-o", join(dir, "killed.yaml"));
    assert.equal(g.code, 0, g.stderr);
  });
});
