import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { CLI_PATH } from "../helpers/cli.js";
import { haveLibseccomp } from "../helpers/libseccomp.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  process.platform !== "linux" || process.arch !== "x64"
    ? "needs Linux x86_64"
    : requireOrSkip(haveLibseccomp(), "libseccomp");

describe("sysfence bench (structure and instruction counts; timings are reported, never asserted)", {
  skip,
}, () => {
  for (const policy of ["examples/server-policy.yaml", "examples/docker-default.json"]) {
    it(`measures every engine on ${policy}`, () => {
      const r = spawnSync(
        process.execPath,
        [CLI_PATH, "bench", `${REPO}${policy}`, "--iterations", "2000", "--json"],
        { encoding: "utf8" },
      );
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.deepEqual(
        j.engines.map((e: { engine: string }) => e.engine),
        ["no filter", "sysfence", "libseccomp linear", "libseccomp binary tree"],
      );
      assert.deepEqual(
        j.calls.map((c: { role: string }) => c.role),
        ["allowed, argument-free", "allowed, argument-checked", "denied (errno)"],
      );
      const ours = j.engines[1];
      const tree = j.engines[3];
      for (const e of j.engines) assert.ok(e.ns.every((x: number) => x > 0));
      assert.ok(
        ours.instructions[1] <= tree.instructions[1],
        "argument-checked call: no more instructions than libseccomp's tree",
      );
      assert.ok(
        ours.instructions[2] <= tree.instructions[2],
        "denied call: no more instructions than libseccomp's tree",
      );
    });
  }
});
