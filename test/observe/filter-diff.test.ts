import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { combine, Explorer, exploreCall } from "../../src/bpf/explore.js";
import type { Insn } from "../../src/bpf/insn.js";
import type { PtraceCalls } from "../../src/install/ptrace-ffi.js";
import { dumpThread } from "../../src/observe/dump.js";
import { diffFilters, sideFromProgram } from "../../src/observe/filter-diff.js";

const i = (code: number, k: number, jt = 0, jf = 0): Insn => ({ code, jt, jf, k });
const ALLOW = 0x7fff0000;
/** nr 16 with arg1 (low word) > 100 → errno 1, else allow. */
const gt = (limit: number): Insn[] => [
  i(0x20, 0),
  i(0x15, 16, 0, 3),
  i(0x20, 24),
  i(0x25, limit, 0, 1),
  i(0x06, 0x50001),
  i(0x06, ALLOW),
];

describe("filter diff (pure)", () => {
  it("combines a stack as the kernel does: the lowest action wins, a tie keeps the newest's data", () => {
    assert.equal(combine([ALLOW, 0x50001, 0x80000000]), 0x80000000);
    assert.equal(combine([0x50002, 0x50001]), 0x50001);
    assert.equal(combine([0x7ffc0000, ALLOW]), 0x7ffc0000);
    assert.equal(combine([0x30000, 0x50001]), 0x30000);
  });

  it("finds every boundary of a threshold comparison and reports exactly the range that changed", () => {
    const ex = new Explorer([[gt(100)]]);
    const r = exploreCall(ex, 0, 16);
    assert.deepEqual(r.sets[6], [0, 100, 101]);
    const d = diffFilters(sideFromProgram(gt(100), "a"), sideFromProgram(gt(200), "b"));
    assert.deepEqual(
      d.differences.map((x) => [x.syscall, x.args, x.old, x.new]),
      [["nr 16", ["arg1 (low 32 bits) in 101…200"], "errno EPERM", "allow"]],
    );
    assert.equal(
      diffFilters(sideFromProgram(gt(100), "a"), sideFromProgram(gt(100), "b")).differences.length,
      0,
    );
  });

  it("detaches the thread whatever happens while its filters are read, and names EIO as a kernel without the request", () => {
    const calls: string[] = [];
    const fake: PtraceCalls = {
      seize: () => {
        calls.push("seize");
        return { value: 0, errno: 0 };
      },
      interrupt: () => ({ value: 0, errno: 0 }),
      wait: () => ({ value: 1, errno: 0, status: (128 << 16) | (5 << 8) | 0x7f }),
      filterLength: () => ({ value: -1, errno: 5 }),
      readFilter: () => ({ value: -1, errno: 5 }),
      filterFlags: () => ({ value: -1, errno: 5, flags: 0 }),
      detach: (_tid, sig) => {
        calls.push(`detach ${sig}`);
        return { value: 0, errno: 0 };
      },
    };
    assert.throws(
      () => dumpThread(fake, 1, 1),
      /does not know PTRACE_SECCOMP_GET_FILTER \(EIO: built without CONFIG_CHECKPOINT_RESTORE/,
    );
    assert.deepEqual(calls, ["seize", "detach 0"]);
    // a signal-delivery stop's signal is passed on when detaching
    calls.length = 0;
    const sig: PtraceCalls = {
      ...fake,
      wait: () => ({ value: 1, errno: 0, status: (10 << 8) | 0x7f }),
      filterLength: () => ({ value: -1, errno: 2 }),
    };
    assert.deepEqual(dumpThread(sig, 1, 1), []);
    assert.deepEqual(calls, ["seize", "detach 10"]);
  });
});
