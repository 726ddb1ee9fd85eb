import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Tallies } from "../../src/record/engines/strace/tallies.js";

describe("the adapter's tally table", () => {
  it("counts like a Map keyed by (kind, thread, name, values), through growth, rehashing and clearing", () => {
    const t = new Tallies();
    const key = fc.tuple(
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 0, max: 80 }),
      fc.integer({ min: -1, max: 4 }),
      fc.integer({ min: -1, max: 1 }),
      fc.constant(-1),
    );
    fc.assert(
      fc.property(fc.array(key, { maxLength: 3000 }), (keys) => {
        const ref = new Map<string, number>();
        const order: string[] = [];
        for (const k of keys) {
          const e = t.entry(...k);
          t.calls[e]++;
          const s = k.join(",");
          if (!ref.has(s)) order.push(s);
          ref.set(s, (ref.get(s) ?? 0) + 1);
        }
        const got: string[] = [];
        for (let e = 0; e < t.count; e++) {
          const s = [t.kind[e], t.tid[e], t.name[e], t.v0[e], t.v1[e], t.v2[e]].join(",");
          got.push(s);
          assert.equal(t.calls[e], ref.get(s), s);
        }
        assert.deepEqual(got, order, "entries in the order they were started");
        t.clear();
        assert.equal(t.count, 0);
      }),
      { numRuns: 60 },
    );
  });
});
