import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { parsePolicy } from "../../src/policy/parse.js";
import { CLI_PATH } from "../helpers/cli.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  process.platform !== "linux"
    ? "needs Linux"
    : requireOrSkip(spawnSync("strace", ["-V"]).status === 0, "strace");

describe("sysfence demo: the README's main job", { skip }, () => {
  it("records, generates, reports, enforces with zero failures and stops the injected shell", () => {
    const r = spawnSync(process.execPath, [CLI_PATH, "demo"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^1 record .* = \d+ requests \(0 failed\)/m);
    assert.match(r.stdout, /^4 enforce .*: \d+ requests, 0 failed; server alive/m);
    assert.match(r.stdout, /^5 attack .* → 500 .*EPERM/m);
    assert.match(r.stdout, /the shell never ran/);
    // the static tier is used (calls node can reach beyond the recording), and each layer stops the shell
    assert.match(r.stdout, /^2 generate .*\d+ seen, [1-9]\d* more node can reach/m);
    assert.match(r.stdout, /^6 layer 2 .*execve allowed .*→ 500 .*EACCES/m);
    assert.match(r.stdout, /the shell never ran: Landlock lets the server execute only node/);
    assert.match(r.stdout, /server exited with status 0/);
    assert.match(r.stdout, /zero violations under load, attack stopped/);
    const dir = /files in (\S+)\)/.exec(r.stdout)?.[1];
    assert.ok(dir);
    const policy = parsePolicy(readFileSync(join(dir, "policy.yaml"), "utf8")).policy;
    assert.ok(policy.rules.length > 20);
    assert.match(readFileSync(join(dir, "report.html"), "utf8"), /Risky calls/);
  });

  it("two recordings of the demo under its load diff clean both ways; an injected new call is drift", () => {
    const run = () => {
      const r = spawnSync(process.execPath, [CLI_PATH, "demo", "--json"], {
        encoding: "utf8",
        timeout: 120_000,
      });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const dir = /files in (\S+)\)/.exec(r.stderr)?.[1];
      assert.ok(dir, r.stderr);
      assert.equal(JSON.parse(r.stdout).ok, true);
      return join(dir, "profile.json");
    };
    const [a, b] = [run(), run()];
    const diff = (...args: string[]) =>
      spawnSync(process.execPath, [CLI_PATH, "diff", ...args], { encoding: "utf8" });
    for (const [x, y] of [
      [a, b],
      [b, a],
    ]) {
      const d = diff(x, y);
      assert.equal(d.status, 0, `diff ${x} ${y} flaps:\n${d.stdout}${d.stderr}`);
      assert.match(d.stdout, /^no drift/);
    }
    // a dependency starts calling something new: one side gains a call nothing allowed
    const profile = JSON.parse(readFileSync(b, "utf8"));
    const call = { setup: 1, work: 0, errors: 0 };
    profile.syscalls.ptrace = call;
    profile.processes.at(-1).threads[0].syscalls.ptrace = call;
    const injected = join(dirname(b), "injected.json");
    writeFileSync(injected, JSON.stringify(profile));
    const d = diff(a, injected);
    assert.equal(d.status, 1, d.stdout + d.stderr);
    assert.match(d.stdout, /^DRIFT: .* needs 1 call\(s\)/);
    assert.match(d.stdout, /! ptrace\(\)/);
  });
});
