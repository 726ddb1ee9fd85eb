// readDocument decides profile or policy from the parsed structure, not from a pattern over the text.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { readDocument } from "../../src/api/document.js";
import { report } from "../../src/api/report.js";
import { REPO } from "../helpers/paths.js";

const PROFILE = `${REPO}examples/demo-server/profile.json`;

describe("readDocument", () => {
  it("a policy whose comment carries the profile's format field is a policy", () => {
    const text = `# "format": "sysfence-profile" is what a profile says; this is a policy\nversion: 1\ndefaultAction: allow\nsyscalls:\n  - names: [bpf]\n    action: errno EPERM\n`;
    const d = readDocument(text, "p.yaml", { arch: "x86_64" });
    assert.equal(d.kind, "policy");
  });

  it("a profile whose format field comes after the first 4 KB is a profile", () => {
    const p = JSON.parse(readFileSync(PROFILE, "utf8"));
    const { format, ...rest } = p;
    const late = JSON.stringify({ padding: "x".repeat(5000), ...rest, format });
    const d = readDocument(late, "late.json", { arch: "x86_64" });
    assert.equal(d.kind, "profile");
    assert.equal(report(PROFILE).allowed, report(d.kind === "profile" ? d.profile : {}).allowed);
  });

  it("a policy without architectures is for the architecture passed, not the host's", () => {
    const d = readDocument("version: 1\ndefaultAction: allow\nsyscalls: []\n", "p.yaml", { arch: "aarch64" });
    assert.equal(d.kind, "policy");
    assert.deepEqual(d.kind === "policy" && d.policy.architectures, ["aarch64"]);
  });

  it("expect: profile names what a profile is", () => {
    assert.throws(
      () => readDocument("version: 1\ndefaultAction: allow\n", "p.yaml", { expect: "profile" }),
      /p\.yaml: not a sysfence profile/,
    );
  });
});
