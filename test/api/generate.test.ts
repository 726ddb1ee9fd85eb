// The library's generate step: option values checked against the exported lists, and a text that does
// not read back to the whole model (not only the number of rules) refused.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkReadsBack, generate, generatePolicy } from "../../src/api/generate.js";
import { STATIC_MODES } from "../../src/api/options.js";
import { REPO } from "../helpers/paths.js";

const PROFILE = `${REPO}examples/demo-server/profile.json`;

describe("api generate", () => {
  it("a generated policy reads back; a text with as many rules but another answer is refused", () => {
    const g = generatePolicy(PROFILE, { static: "off" });
    checkReadsBack(g);
    // same rule count, one action changed: the old check (rules.length) let this through
    const changed = g.text.replace('action: "allow"', 'action: "errno EPERM"');
    assert.notEqual(changed, g.text);
    assert.throws(() => checkReadsBack({ policy: g.policy, text: changed }), /does not read back/);
  });

  it("option values come from one list, named as the caller spells the option", () => {
    assert.deepEqual([...STATIC_MODES], ["auto", "on", "off"]);
    assert.throws(
      () => generatePolicy(PROFILE, { static: "sometimes" as never }),
      /^SysfenceError: static 'sometimes': use auto, on or off\.$|static 'sometimes': use auto, on or off\./,
    );
  });

  it("generate() reads files and gives the same policy as generatePolicy()", async () => {
    const a = await generate([PROFILE], { static: "off" });
    const b = generatePolicy(PROFILE, { static: "off", sources: [PROFILE] });
    assert.equal(a.text, b.text);
  });
});
