// The corpus: programs from Debian packages the other tests never ran, each recorded under ONE small use,
// given the policy `sysfence generate` writes with its defaults, then run under `sysfence run --policy`
// with broader ordinary uses the recording never saw. Each use must not be killed and must end as it does
// untraced; each daemon must stop cleanly on SIGTERM; no policy may allow a privilege-class call the
// recording did not see. Uses that fail under today's generator are `todo`, naming the failing call.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { before, describe, it } from "node:test";
import { describeUse, type ProgramResult, runProgram } from "../helpers/corpus/harness.js";
import { CORPUS } from "../helpers/corpus/index.js";
import { requireOrSkip } from "../helpers/require.js";

const installed = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const only = process.env.SYSFENCE_CORPUS?.split(",");

for (const program of CORPUS) {
  if (only && !only.includes(program.name)) continue;
  const missing = program.needs.filter((n) => !installed(n));
  const skip =
    process.platform !== "linux"
      ? "needs Linux"
      : requireOrSkip(missing.length === 0 && installed("strace"), `${missing.join(", ") || "strace"}`);
  describe(`corpus: ${program.name}`, { skip }, () => {
    let result: ProgramResult;
    before(async () => {
      result = await runProgram(program);
      for (const u of result.uses) if (u.problem) console.log(`corpus ${program.name}: ${describeUse(u)}`);
    });
    it("records one small use and generates a policy with the defaults", () => {
      assert.equal(result.error, undefined);
      const s = result.stats!;
      console.log(
        `corpus ${program.name}: ${s.allowed} of ${s.known} allowed (${((100 * s.allowed) / s.known).toFixed(1)}%), ${s.landlockRules} Landlock rules; answered with an errno: ${result.errnoAnswers?.join(", ") || "none"}`,
      );
    });
    it("allows no privilege-class call the recording did not see", () => {
      assert.deepEqual(result.stats?.privilegeLeaks ?? [], []);
    });
    it("allows no unseen seccomp-only call, and without Landlock only seen and low-risk calls", () => {
      assert.deepEqual(
        result.stats?.seccompOnlyLeaks ?? [],
        [],
        "seccomp-only: chmod, chown, utime, xattr …",
      );
      assert.deepEqual(result.stats?.fallbackLeaks ?? [], [], "the seccomp-only fallback is never wider");
    });
    const uses = [
      ...(program.kind === "cli" ? program.uses : program.uses),
      ...(program.kind === "daemon" ? [{ name: "stops cleanly on SIGTERM", todo: program.stopTodo }] : []),
    ];
    uses.forEach((use, i) => {
      it(`${use.name}: not killed, ends as it does untraced`, { todo: use.todo }, () => {
        const u = result.uses[i];
        assert.ok(u, `the use ran (${result.error ?? "no result"})`);
        assert.equal(u.name, use.name);
        assert.ok(!u.killed, describeUse(u));
        assert.equal(u.problem, undefined, describeUse(u));
      });
    });
  });
}
