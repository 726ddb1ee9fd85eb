import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProfileBuilder } from "../../src/record/builder.js";
import { EventBatch, StringTable } from "../../src/record/events.js";
import { pushImage } from "../../src/record/image-rows.js";

/** Two images of pid 10 (an exec), a child with two threads; counts as a kernel-count engine gives them. */
function build(): ProfileBuilder {
  const builder = new ProfileBuilder(["/bin/sh"]);
  const out = new EventBatch();
  const strings = new StringTable();
  pushImage(out, strings, { pid: 10, exe: "/bin/sh" }, [
    { tid: 10, name: "execve", values: [], n: 1, errors: 0, work: false },
  ]);
  pushImage(out, strings, { pid: 10, exe: "/bin/cat", exitStatus: 3 }, [
    { tid: 10, name: "ioctl", values: ["21505"], n: 4, errors: 1, work: false },
    { tid: 10, name: "ioctl", values: ["21523"], n: 2, errors: 0, work: true },
  ]);
  pushImage(out, strings, { pid: 11, exe: "/bin/cat", parent: 10, killedBy: "SIGKILL" }, [
    { tid: 12, name: "futex", values: [], n: 5, errors: 0, work: true },
    { tid: 11, name: "clone", values: [], n: 1, errors: 0, work: false },
  ]);
  builder.addBatch(out.columns, strings.list);
  return builder;
}

describe("counts aggregated by image, as ordinary rows (image-rows.ts)", () => {
  it("each image is a process of its own, its threads in the order met, the phase as the engine said", () => {
    const p = build().build({ engine: { name: "bpf" }, arch: "x86_64", complete: true });
    assert.deepEqual(
      p.processes.map((x) => [x.pid, x.exe, x.parent, x.exitStatus, x.killedBy, x.threads.map((t) => t.tid)]),
      [
        [10, "/bin/sh", undefined, undefined, undefined, [10]],
        [10, "/bin/cat", undefined, 3, undefined, [10]],
        [11, "/bin/cat", 10, undefined, "SIGKILL", [12, 11]],
      ],
    );
    assert.deepEqual(p.processes[1].threads[0].syscalls.ioctl, {
      setup: 4,
      work: 2,
      errors: 1,
      args: { "1": { "21505": 4, "21523": 2 } },
      workArgs: { "1": { "21523": 2 } },
    });
    assert.equal(p.syscalls.futex.work, 5);
  });

  it("the running totals see them: distinct syscalls and process images (bpf's said 0 distinct before)", () => {
    const b = build();
    assert.equal(b.calls, 13);
    assert.equal(b.distinct(), 4);
    assert.equal(b.processCount(), 3);
  });
});
