import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { REPO } from "../helpers/paths.js";

test("scripts/measure-launchers.mjs --check: the script loads, reads a strace log with sysfence's parser, and the built launcher sets match bench/launcher-sets.json", () => {
  const r = spawnSync(process.execPath, [`${REPO}scripts/measure-launchers.mjs`, "--check"], {
    encoding: "utf8",
    timeout: 20000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ok: 4 launchers in .*launcher-sets\.json match .*launcher-sets\.ts$/m);
});
