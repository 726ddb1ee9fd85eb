import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parsePolicy } from "../../src/policy/parse.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  process.platform !== "linux"
    ? "needs Linux"
    : requireOrSkip(spawnSync("strace", ["-V"]).status === 0, "strace");

describe("sysfence demo: the README's main job", { skip }, () => {
  it("records, generates, reports, enforces with zero failures and stops the injected shell", () => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [`${REPO}dist/src/cli/main.js`, "demo"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^1 record .* = \d+ requests \(0 failed\)/m);
    assert.match(r.stdout, /^4 enforce .*: \d+ requests, 0 failed; server alive/m);
    assert.match(r.stdout, /^5 attack .* → 500 .*EPERM/m);
    assert.match(r.stdout, /the shell never ran/);
    assert.match(r.stdout, /server exited with status 0/);
    assert.match(r.stdout, /zero violations under load, attack stopped/);
    const dir = /files in (\S+)\)/.exec(r.stdout)?.[1];
    assert.ok(dir);
    const policy = parsePolicy(readFileSync(join(dir, "policy.yaml"), "utf8")).policy;
    assert.ok(policy.rules.length > 20);
    assert.match(readFileSync(join(dir, "report.html"), "utf8"), /Risky calls/);
    assert.ok(Date.now() - t0 < 60_000, "under a minute");
  });
});
