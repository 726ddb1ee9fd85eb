// What loading the record modules costs before a recording can start: an Intl.Collator (ICU's collation
// data, ~10 ms of CPU) was made when builder-assembly.js was loaded, on the path of every recording's
// start; it is made on first use now (launched.ts has it made while the engine's threads work).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { REPO } from "../helpers/paths.js";

const CHILD = `
let made = 0;
const Collator = Intl.Collator;
Intl.Collator = function (...args) {
  made++;
  return new Collator(...args);
};
const m = await import(${JSON.stringify(`${REPO}dist/src/record/builder-assembly.js`)});
const onLoad = made;
const order = ["b", "a", "C"].sort(m.collate);
console.log(JSON.stringify({ onLoad, after: made, order }));
`;

describe("record's start-up cost", () => {
  it("loading the profile assembly makes no collator; its first use makes one, in localeCompare's order", () => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", CHILD], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { onLoad: 0, after: 1, order: ["a", "b", "C"] });
  });
});
