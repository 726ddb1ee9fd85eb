// `run` and `record` on the command line: run's own failures exit 125/126/127 (never the program's 1 or 2),
// errors name the errno symbol and text, and options end at the command (`run --policy P jq -n 1`).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseRunWords } from "../../src/cli/commands/run-args.js";
import { REPO } from "../helpers/paths.js";

const CLI = `${REPO}dist/src/cli/main.js`;
const DOCKER = `${REPO}examples/docker-default.json`;
const onLinux = process.platform === "linux" ? false : "needs Linux";
const hasStrace = spawnSync("strace", ["-V"]).status === 0 ? false : "needs strace";
const sysfence = (args: string[], cwd?: string) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", input: "", timeout: 30000, cwd });
const dir = mkdtempSync(join(tmpdir(), "sysfence-runcl-"));
/** A shell line that prints each of its arguments followed by "|". */
const ECHO_ARGS = ["sh", "-c", 'printf "%s|" "$@"', "sh"];

describe("run's exit status: 125 sysfence failed, 126 cannot execute, 127 not found", {
  skip: onLinux,
}, () => {
  it("every failure of sysfence itself before exec is 125, with the errno's symbol and text", () => {
    const missing = sysfence(["run", "--policy", join(dir, "nope.yaml"), "--", "true"]);
    assert.equal(missing.status, 125, missing.stderr);
    assert.match(missing.stderr, /cannot read policy .*nope\.yaml: ENOENT: no such file or directory/);
    const invalid = join(dir, "invalid.yaml");
    writeFileSync(invalid, "defaultAction: allow\nrules: [{names: [read], action: sometimes}]\n");
    assert.equal(sysfence(["run", "--policy", invalid, "--", "true"]).status, 125);
    assert.equal(sysfence(["run", "--bogus", "--", "true"]).status, 125, "an unknown option");
    assert.equal(sysfence(["run", "--errno", "ENOTANERRNO", "@default", "--", "true"]).status, 125);
    assert.equal(sysfence(["run", "@default", "readdd", "--", "true"]).status, 125, "an unknown syscall");
    assert.equal(sysfence(["run", "--policy", DOCKER]).status, 125, "no command");
    assert.equal(sysfence(["-q", "run", "--learn-all", "@default", "--", "true"]).status, 125);
  });

  it("a command that exists but cannot be executed is 126; one that does not exist 127", () => {
    const script = join(dir, "not-executable.sh");
    writeFileSync(script, "#!/bin/sh\necho ran\n");
    chmodSync(script, 0o644);
    const noX = sysfence(["run", "--policy", DOCKER, script]);
    assert.equal(noX.status, 126, noX.stderr);
    assert.match(noX.stderr, /EACCES: permission denied/);
    assert.match(noX.stderr, /nothing was run/);
    const sub = join(dir, "a-directory");
    mkdirSync(sub, { recursive: true });
    assert.equal(sysfence(["run", "--policy", DOCKER, sub]).status, 126);
    const gone = sysfence(["run", "--policy", DOCKER, join(dir, "no-such-program")]);
    assert.equal(gone.status, 127);
    assert.match(gone.stderr, /ENOENT: no such file or directory/);
    assert.equal(sysfence(["run", "@default", "--", "no-such-command-xyz"]).status, 127);
  });

  it("an execve the kernel refuses after the filter is in: 126 and the errno by name", () => {
    const junk = join(dir, "junk");
    writeFileSync(junk, "not a program\0\0\0");
    chmodSync(junk, 0o755);
    const r = sysfence(["run", "--policy", DOCKER, "--", junk]);
    assert.equal(r.status, 126, r.stderr);
    assert.match(r.stderr, /execve .*junk failed: ENOEXEC: exec format error/);
    assert.doesNotMatch(r.stderr, /failed with errno/);
  });

  it("the program's own 1 and 2 pass through unchanged (also from a learning run)", () => {
    assert.equal(sysfence(["run", "--policy", DOCKER, "--", "sh", "-c", "exit 1"]).status, 1);
    assert.equal(sysfence(["run", "@system-service", "--", "sh", "-c", "exit 2"]).status, 2);
    const learn = sysfence(["run", "--policy", DOCKER, "--learn", join(dir, "l.json"), "sh", "-c", "exit 2"]);
    assert.equal(learn.status, 2, learn.stderr);
  });
});

describe("run: options end at the command", { skip: onLinux }, () => {
  it("after --policy, the first operand starts the command: its options and `--` are its own", () => {
    const r = sysfence(["run", "--policy", DOCKER, ...ECHO_ARGS, "-n", "1", "--policy", "-q", "--", "-h"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "-n|1|--policy|-q|--|-h|");
    const dd = sysfence(["run", "--policy", DOCKER, "--", ...ECHO_ARGS, "-n"]);
    assert.equal(dd.stdout, "-n|", "'--' is still accepted");
  });

  it("after --preset (one or more presets), the first operand that is not a preset starts the command", () => {
    const r = sysfence(["run", "--preset", "no-debug", "no-user-namespaces", ...ECHO_ARGS, "-x", "--deny"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "-x|--deny|");
  });

  it("syscall names and @groups are operands: '--' stays required and the error says where it goes", () => {
    const r = sysfence(["run", "@default", "@basic-io", "ls", "-l"]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /needs '--' before it: sysfence run @default @basic-io -- ls -l/);
    const noOption = sysfence(["run", "@system-service", "echo", "hi"]);
    assert.equal(noOption.status, 125);
    assert.match(noOption.stderr, /sysfence run @system-service -- echo hi/);
    // a policy file and extra names: the names still go before '--'
    const both = sysfence(["run", "--policy", DOCKER, "@basic-io", "--", ...ECHO_ARGS, "ok"]);
    assert.equal(both.stdout, "ok|", both.stderr);
  });

  it("--help before the command is run's; after it, the command's", () => {
    const help = sysfence(["run", "--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: sysfence run \[OPTIONS\] \[SPEC\.\.\.\] \[--\] COMMAND \[ARGS\.\.\.\]/);
    const theirs = sysfence(["run", "--policy", DOCKER, ...ECHO_ARGS, "--help"]);
    assert.equal(theirs.stdout, "--help|");
  });

  it("the man page documents run's statuses and usage line", () => {
    const man = sysfence(["man"]).stdout;
    assert.match(man, /126 the command was found but cannot be executed/);
    assert.match(man, /125 sysfence failed before exec/);
    assert.match(man, /sysfence run\\fR \[OPTIONS\] \[SPEC\.\.\.\] \[\\-\\-\] COMMAND \[ARGS\.\.\.\]/);
  });

  it("parses words: options, spec, command", () => {
    assert.deepEqual(parseRunWords(["--policy", "p.yaml", "jq", "-n", "1"]).command, ["jq", "-n", "1"]);
    assert.deepEqual(parseRunWords(["--policy=p.yaml", "-q", "ls"]), {
      args: { spec: [], preset: [], implicit: true, policy: "p.yaml" },
      command: ["ls"],
      quiet: true,
    });
    const spec = parseRunWords(["--policy", "p", "getdents64", "@basic-io", "--", "ls", "--", "-l"]);
    assert.deepEqual(spec.args.spec, ["getdents64", "@basic-io"]);
    assert.deepEqual(spec.command, ["ls", "--", "-l"]);
    // a command named like a syscall, with no '--' after it, is the command
    assert.deepEqual(parseRunWords(["--policy", "p", "kill", "-0", "1"]).command, ["kill", "-0", "1"]);
    assert.deepEqual(parseRunWords(["--preset", "no-debug", "apt-get", "update"]).command, [
      "apt-get",
      "update",
    ]);
    assert.throws(() => parseRunWords(["read", "write"]), /needs '--' before it/);
  });
});

describe("record: options end at the command; -p is --pid", { skip: onLinux || hasStrace }, () => {
  it("records the command's own options and `--` as its arguments", () => {
    const out = join(dir, "rec.json");
    const r = sysfence([
      "record",
      "-q",
      "--engine",
      "strace",
      "-o",
      out,
      ...ECHO_ARGS,
      "-o",
      "x",
      "--",
      "-q",
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "-o|x|--|-q|", "the program's arguments, and its stdout, are its own");
    assert.ok(JSON.parse(readFileSync(out, "utf8")).syscalls.execve);
    const usage = sysfence(["record", "--help"]).stdout;
    assert.match(usage, /Usage: sysfence record \[OPTIONS\] \[--\] COMMAND \[ARGS\.\.\.\]/);
    assert.match(usage, /-p, --pid <pid>/);
  });

  it("record -p PID attaches like --pid", async () => {
    const idle = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const out = join(dir, "attached.json");
      const r = sysfence([
        "record",
        "-p",
        String(idle.pid),
        "--engine",
        "strace",
        "--duration",
        "0.5",
        "-o",
        out,
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(existsSync(out));
    } finally {
      idle.kill();
    }
  });
});
