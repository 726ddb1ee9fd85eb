// CLI conventions every command follows: - for stdin, -o - for stdout, --json, examples in --help,
// suggestions for typos, --quiet, shell completion and a man page generated from the definitions.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, it } from "node:test";
import { CLI_PATH } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const cli = (args: string[], input?: string | Buffer, cwd = REPO) =>
  spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: "utf8", input, cwd });
const POLICY = `${REPO}examples/server-policy.yaml`;
const DOCKER = `${REPO}examples/docker-default.json`;
const PROFILE = `${REPO}examples/demo-server/profile.json`;
const text = (f: string) => readFileSync(f, "utf8");

const COMMANDS = [
  "demo",
  "run",
  "record",
  "generate",
  "compile",
  "disasm",
  "emu",
  "syscalls",
  "check",
  "schema",
  "fmt",
  "bench",
  "audit",
  "merge",
  "diff",
  "report",
  "export",
  "import",
  "analyze",
  "completion",
  "man",
];

describe("CLI conventions", () => {
  it("every command's --help ends with examples", () => {
    for (const c of COMMANDS) {
      const r = cli([c, "--help"]);
      assert.equal(r.status, 0, `${c}: ${r.stderr}`);
      assert.match(r.stdout, /\nExamples:\n {2}sysfence /, `${c} --help has no examples`);
    }
  });

  it("- reads standard input wherever a file is read", () => {
    const policy = text(POLICY);
    const cases: [string[], string, RegExp][] = [
      [["check", "-"], policy, /<stdin>: ok/],
      [["compile", "-"], policy, /default\s+kill-process/],
      [["report", "-"], policy, /report: <stdin>/],
      [["export", "--format", "oci", "-"], policy, /"defaultAction": "SCMP_ACT_KILL_PROCESS"/],
      [["import", "-"], text(DOCKER), /^version: 1$/m],
      [["fmt", "-"], policy, /^defaultAction: /m],
      [["emu", "-", "--syscall", "ptrace"], policy, /kill-process/],
      [["generate", "-"], text(PROFILE), /^defaultAction: "kill-process"$/m],
      [["merge", "-", PROFILE], text(PROFILE), /"format": "sysfence-profile"/],
      [["diff", POLICY, "-"], policy, /^no drift/],
    ];
    for (const [args, input, expect] of cases) {
      const r = cli(args, input);
      assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, expect, args.join(" "));
    }
    const bpf = cli(["compile", "--format", "bpf", "-o", "-", POLICY]);
    assert.equal(bpf.status, 0);
    const dis = spawnSync(process.execPath, [CLI_PATH, "disasm", "-"], {
      input: spawnSync(process.execPath, [CLI_PATH, "compile", "--format", "bpf", "-o", "-", POLICY]).stdout,
      encoding: "utf8",
    });
    assert.equal(dis.status, 0, dis.stderr);
    assert.match(dis.stdout, /ld\s+\[4\]|arch/);
  });

  it("-o - writes to standard output and never creates a file named -", () => {
    const dir = mkdtempSync(`${tmpdir()}/sysfence-o-`);
    for (const args of [
      ["generate", PROFILE, "-o", "-"],
      ["import", DOCKER, "-o", "-"],
      ["report", POLICY, "-o", "-"],
    ]) {
      const r = cli(args, undefined, dir);
      assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(r.stdout.length > 100, args.join(" "));
    }
    assert.equal(existsSync(`${dir}/-`), false);
    assert.equal(cli(["record", "-o", "-", "--", "true"]).status, 2, "record: the program owns stdout");
  });

  it("--json on every command that prints a result", () => {
    const cases: string[][] = [
      ["check", "--json", POLICY],
      ["compile", "--json", POLICY],
      ["syscalls", "--json", "@basic-io"],
      ["emu", "--json", POLICY, "--syscall", "read"],
      ["report", "--json", POLICY],
      ["generate", "--json", PROFILE],
      ["export", "--json", "--format", "oci", POLICY],
      ["export", "--json", "--format", "bpf", POLICY],
      ["import", "--json", DOCKER],
      ["diff", "--json", POLICY, POLICY],
      ["analyze", "--json", "/bin/true"],
    ];
    for (const args of cases) {
      const r = cli(args);
      assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.doesNotThrow(() => {
        const t = r.stdout.trim();
        // JSON lines or one document
        for (const line of t.startsWith("{\n") || t.startsWith("[\n") ? [t] : t.split("\n")) JSON.parse(line);
      }, args.join(" "));
    }
  });

  it("typos get suggestions: commands, options, run's options and @groups", () => {
    assert.match(cli(["compil", POLICY]).stderr, /Did you mean compile\?/);
    assert.match(cli(["compile", "--fromat", "json", POLICY]).stderr, /Did you mean --format\?/);
    const run = cli(["run", "--polcy", "x", "--", "true"]);
    assert.equal(run.status, 125);
    assert.match(run.stderr, /did you mean --policy\?/);
    const group = cli(["run", "@basic-ioo", "--", "true"]);
    assert.equal(group.status, 125);
    assert.match(group.stderr, /did you mean '@basic-io'\?/);
    assert.match(cli(["syscalls", "@fil-system"]).stderr, /did you mean @file-system\?/);
  });

  it("--quiet drops warnings and notes, never errors; warnings never go to stdout", () => {
    const loud = cli(["check", DOCKER]);
    assert.match(loud.stderr, /warning: syscall 'recv'/);
    assert.doesNotMatch(loud.stdout, /: warning:/);
    const quiet = cli(["check", "--quiet", DOCKER]);
    assert.equal(quiet.status, 0);
    assert.equal(quiet.stderr, "");
    assert.equal(cli(["-q", "check", DOCKER]).stderr, "");
    const err = cli(["check", "-q", "/nonexistent.yaml"]);
    assert.notEqual(err.status, 0);
    assert.match(err.stderr, /cannot read policy/);
    const sd = cli(["export", "--format", "systemd", DOCKER]);
    assert.doesNotMatch(sd.stdout, /^warning|: warning:/m);
  });

  it("completion scripts for bash, zsh and fish, from the command definitions", () => {
    const bash = cli(["completion", "bash"]);
    assert.equal(bash.status, 0);
    assert.equal(spawnSync("bash", ["-n"], { input: bash.stdout }).status, 0, "bash syntax");
    for (const c of COMMANDS) assert.match(bash.stdout, new RegExp(`\\b${c}\\b`));
    assert.match(bash.stdout, /export\) opts="[^"]*--launcher/);
    assert.match(bash.stdout, /@basic-io/);
    // the completion answers as bash would: complete "sysfence exp" and "sysfence run @basic-i"
    const ask = (line: string) =>
      spawnSync(
        "bash",
        [
          "-c",
          `${bash.stdout}\nCOMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _sysfence; echo "\${COMPREPLY[@]}"`,
        ],
        { encoding: "utf8" },
      ).stdout.trim();
    assert.equal(ask("sysfence exp"), "export");
    assert.equal(ask("sysfence run @basic-i"), "@basic-io");
    assert.match(ask("sysfence diff --for"), /--format/);
    const zsh = cli(["completion", "zsh"]);
    assert.match(zsh.stdout, /^#compdef sysfence/);
    if (spawnSync("zsh", ["--version"]).status === 0)
      assert.equal(spawnSync("zsh", ["-n"], { input: zsh.stdout }).status, 0, "zsh syntax");
    const fish = cli(["completion", "fish"]);
    assert.match(fish.stdout, /complete -c sysfence -n '__fish_seen_subcommand_from export' -l launcher/);
    assert.equal(cli(["completion", "tcsh"]).status, 2);
  });

  it("a man page with every command, its options and examples", () => {
    const man = cli(["man"]);
    assert.equal(man.status, 0);
    assert.match(man.stdout, /^\.TH SYSFENCE 1/);
    for (const c of COMMANDS) assert.match(man.stdout, new RegExp(`\\\\fBsysfence ${c}\\\\fR`), c);
    assert.match(man.stdout, /\\-\\-launcher/);
    if (spawnSync("man", ["--version"]).status === 0) {
      const rendered = spawnSync("sh", ["-c", "man -l - 2>/dev/null | col -b"], {
        input: man.stdout,
        encoding: "utf8",
      });
      assert.match(rendered.stdout, /sysfence export \[options\] <policy>/);
    }
  });
});
