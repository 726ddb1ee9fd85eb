// The attach-wait-detach both kernel-side engines (bpf, bpftrace) use for record --pid, and their shared
// loss text for image numbers that came back.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { repeatedImagesLoss, traceRunning } from "../../src/record/engines/bpf/running.js";
import type { LaunchTracer } from "../../src/record/launched.js";

/** A tracer that logs its calls; `fail` makes that step throw. */
function fakeTracer(log: string[], fail?: "attach" | "detach"): LaunchTracer {
  return {
    attach: async (pid) => {
      log.push(`attach ${pid}`);
      if (fail === "attach") throw new Error("attach failed");
    },
    detach: async () => {
      log.push("detach");
      if (fail === "detach") throw new Error("detach failed");
      return { name: "bpf", version: "test" };
    },
    close: () => log.push("close"),
  };
}

describe("traceRunning (record --pid with bpf or bpftrace)", () => {
  const running = [{ pid: 42, exe: "/bin/sleep", tids: [42] }];

  it("attaches to the first process, says so, waits for the end, detaches and closes", async () => {
    const log: string[] = [];
    const engine = await traceRunning(
      fakeTracer(log),
      running,
      async () => log.push("until"),
      () => log.push("attached"),
    );
    assert.deepEqual(log, ["attach 42", "attached", "until", "detach", "close"]);
    assert.equal(engine.name, "bpf");
  });

  it("closes the tracer when attaching or detaching fails, and never says it is attached before", async () => {
    for (const fail of ["attach", "detach"] as const) {
      const log: string[] = [];
      await assert.rejects(
        traceRunning(fakeTracer(log, fail), running, Promise.resolve(), () => log.push("attached")),
        new RegExp(`${fail} failed`),
      );
      assert.equal(log.at(-1), "close");
      assert.equal(log.includes("attached"), fail === "detach");
    }
  });

  it("names the repeated images with the map's size, and nothing when there are none", () => {
    assert.equal(repeatedImagesLoss(0, 8), "");
    assert.match(
      repeatedImagesLoss(3, 8),
      /^the image numbers of 3 process\(es\) .* image map's 8 keys filled/,
    );
  });
});
