// analyze() sorts syscall names with nameOrder, not localeCompare (building ICU's collator cost tens of
// milliseconds of every analysis): the two must agree on every name analyze can print, or its output moves.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nameOrder } from "../../src/analyze/analyze.js";
import { allSyscallNames } from "../../src/syscalls/table.js";

describe("analyze: the order of syscall names", () => {
  it("is localeCompare's for every known name and 'nr N' for unknown numbers", () => {
    const names = [
      ...allSyscallNames(),
      "nr 7",
      "nr 12",
      "nr 120",
      "nr 1000",
      "a",
      "a_",
      "a1",
      "a b",
      "_x",
      "9",
    ];
    assert.ok(names.some((n) => n.includes("_")) && names.some((n) => /\d/.test(n)));
    const sign = (x: number) => Math.sign(x);
    for (const a of names)
      for (const b of names) assert.equal(sign(nameOrder(a, b)), sign(a.localeCompare(b)), `${a} vs ${b}`);
  });
  it("falls back to localeCompare outside [a-z0-9_ ]", () => {
    for (const [a, b] of [
      ["Open", "open"],
      ["é", "f"],
      ["a-b", "a_b"],
    ])
      assert.equal(nameOrder(a, b), a.localeCompare(b));
  });
});
