import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fuzzReader, fuzzTargets } from "../helpers/fuzz.js";

// A standing fuzz test: a few thousand mutated inputs per reader on every `npm test`
// (`npm run fuzz` runs 10^5 per reader and compares accepted OCI inputs with libseccomp).

describe("fuzz: every reader answers mutated input with a result or a clear error", () => {
  for (const target of fuzzTargets()) {
    it(`${target.name}: 0 crashes, 0 hangs`, () => {
      const t = fuzzReader(target, 1500, 0x5eed + target.name.length);
      assert.equal(t.crash + t.hang, 0, `${target.name}: ${JSON.stringify(t.examples.slice(0, 2), null, 1)}`);
      assert.ok(t.clear > 0, "the mutations reach the error paths");
    });
  }
});
