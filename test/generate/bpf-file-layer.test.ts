// A policy generated from a bpf recording (whose path program records every path use, absolute) has a
// Landlock file layer, and programs run under it: the fixture that names paths every way, and git — init,
// add, commit in a directory, recorded once and run again with other files and another message — with no
// call killed, while a write outside the directories it wrote in is denied.
import assert from "node:assert/strict";
import { execFileSync, type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  requireOrSkip(process.getuid?.() === 0, "root") ||
  requireOrSkip(existsSync("/sys/kernel/btf/vmlinux"), "the kernel's BTF") ||
  requireOrSkip(spawnSync("git", ["--version"]).status === 0, "git");

const dir = mkdtempSync(join(tmpdir(), "sysfence-bpf-layer-"));
/** git reads no configuration but this directory's (HOME) and writes none. */
const env = { ...process.env, HOME: dir, GIT_CONFIG_NOSYSTEM: "1" };

function sysfence(args: string[], cwd = dir): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI_PATH, ...args], { cwd, encoding: "utf8", env });
}

/** Records argv with the bpf engine and generates its policy: the policy's file. */
function recordAndGenerate(name: string, argv: string[], cwd = dir): string {
  const profile = join(dir, `${name}.json`);
  const rec = sysfence(["record", "-q", "--engine", "bpf", "-o", profile, "--", ...argv], cwd);
  assert.equal(rec.status, 0, rec.stderr);
  const p = JSON.parse(readFileSync(profile, "utf8")) as Profile;
  assert.equal(p.engine.wholePaths, true, "the path program ran");
  assert.equal(p.engine.lostEvents, undefined, p.engine.lost);
  const policy = join(dir, `${name}.yaml`);
  const gen = sysfence(["generate", "--phase", "all", profile, "-o", policy]);
  assert.equal(gen.status, 0, gen.stderr);
  assert.doesNotMatch(gen.stderr, /no whole path uses/);
  assert.match(readFileSync(policy, "utf8"), /^landlock:\n/m, "a Landlock section");
  return policy;
}

/** Killed by the policy's seccomp filter (SIGSYS) or by sysfence run for it. */
const killed = (r: SpawnSyncReturns<string>) => r.signal === "SIGSYS" || r.status === 128 + 31;

describe("generate from a bpf recording: the Landlock file layer", { skip }, () => {
  it("path-uses.c runs under the policy from its bpf recording (relative paths, dirfd, chdir)", () => {
    const bin = join(dir, "path-uses");
    execFileSync("gcc", ["-O2", "-o", bin, `${REPO}test/fixtures/path-uses.c`]);
    const work = join(dir, "work");
    mkdirSync(work);
    const policy = recordAndGenerate("path-uses", [bin], work);
    const text = readFileSync(policy, "utf8");
    assert.match(
      text,
      new RegExp(`\n  write: \\[${work}\\]\n`),
      "it writes in its directory (mkdir d there)",
    );
    rmSync(work, { recursive: true });
    mkdirSync(work);
    const run = sysfence(["run", "--policy", policy, "--", bin], work);
    assert.equal(run.status, 0, run.stderr);
  });

  it("chroot-nest.c runs under the policy from its bpf recording: the rules name its files under each root", () => {
    const bin = join(dir, "chroot-nest");
    execFileSync("gcc", ["-O2", "-static", "-o", bin, `${REPO}test/fixtures/chroot-nest.c`]);
    const work = join(dir, "chroot-work");
    const jail = join(work, "jail");
    const fresh = () => {
      rmSync(work, { recursive: true, force: true });
      mkdirSync(join(jail, "inner"), { recursive: true });
      writeFileSync(join(jail, "inside"), "");
      writeFileSync(join(jail, "inner", "inside"), "");
      execFileSync("cp", [bin, join(jail, "prog")]);
    };
    fresh();
    const policy = recordAndGenerate("chroot-nest", [bin, "jail"], work);
    // (its own view would grant /inside and /prog — absent here — and deny what it opens and executes)
    assert.match(readFileSync(policy, "utf8"), new RegExp(`\n  execute: \\[.*${jail}/prog[,\\]]`));
    fresh();
    const run = sysfence(["run", "--policy", policy, "--", bin, "jail"], work);
    assert.equal(run.status, 0, run.stderr);
  });

  it("git init/add/commit: another commit runs, a repository elsewhere is denied, nothing killed", () => {
    const script = join(dir, "commit.sh");
    writeFileSync(
      script,
      [
        'cd "$1"',
        "rm -rf repo && git init -q repo && cd repo || exit 3",
        'echo "$2" > a.txt && mkdir -p sub && echo "$2" > "sub/$2.txt" || exit 4',
        'git add -A && git -c user.name=t -c user.email=t@example.org commit -q -m "$2" || exit 5',
        "git log --oneline > /dev/null",
        "",
      ].join("\n"),
    );
    const home = join(dir, "git");
    mkdirSync(home);
    const policy = recordAndGenerate("git", ["/bin/sh", script, home, "first"]);
    const again = sysfence(["run", "--policy", policy, "--", "/bin/sh", script, home, "second"]);
    assert.equal(again.status, 0, again.stderr);
    assert.ok(!killed(again));
    const log = execFileSync("git", ["-C", join(home, "repo"), "log", "--format=%s"], {
      encoding: "utf8",
      env,
    });
    assert.equal(log, "second\n");
    const elsewhere = join(dir, "elsewhere");
    mkdirSync(elsewhere);
    const denied = sysfence(["run", "--policy", policy, "--", "/bin/sh", script, elsewhere, "third"]);
    assert.ok(!killed(denied), denied.stderr);
    assert.equal(denied.status, 3, denied.stderr);
    assert.match(denied.stderr, /cannot mkdir repo: Permission denied/);
    assert.equal(existsSync(join(elsewhere, "repo")), false);
  });
});
