// The Kubernetes (SPO SeccompProfile) and runtime config.json (ociVersion) readers on values of the wrong
// type: a moby-only key of any type is an ignored key (as runc ignores it), a huge integer is shown in its
// digits — a result or one clear error, never a TypeError.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compile } from "../../src/compile/compile.js";
import { SysfenceError } from "../../src/errors.js";
import { parsePolicy } from "../../src/policy/parse.js";

const SPO_HEAD =
  "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata: {name: x}\n";
const read = (text: string, file: string) => parsePolicy(text, { file, arch: "x86_64" });
const warnings = (text: string, file: string) =>
  read(text, file)
    .warnings.map((w) => w.message)
    .join("\n");

describe("Kubernetes and config.json readers: wrong types are warnings or clear errors", () => {
  it("SPO YAML with a string archMap: the key is ignored with a warning", () => {
    const text = `${SPO_HEAD}spec:\n  defaultAction: SCMP_ACT_ERRNO\n  archMap: "x86"\n  syscalls:\n    - names: [read]\n      action: SCMP_ACT_ALLOW\n`;
    const p = read(text, "p.yaml");
    assert.equal(p.format, "spo");
    assert.match(warnings(text, "p.yaml"), /unknown key 'spec\.archMap' is ignored/);
    compile(p.policy, { stats: false });
  });
  it("SPO and config.json rules with moby's includes/name of any type: ignored, as runc ignores them", () => {
    const spo = `${SPO_HEAD}spec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n    - names: [read]\n      action: SCMP_ACT_ALLOW\n      includes: {arches: "x"}\n      excludes: 7\n      name: 3\n`;
    assert.match(warnings(spo, "p.yaml"), /unknown key 'spec\.syscalls\.0\.includes' is ignored/);
    const oci = JSON.stringify({
      ociVersion: "1.0.2",
      linux: {
        seccomp: {
          defaultAction: "SCMP_ACT_ERRNO",
          archMap: "x",
          syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", name: "write", includes: { caps: "x" } }],
        },
      },
    });
    const p = read(oci, "config.json");
    assert.equal(p.format, "oci");
    assert.match(warnings(oci, "config.json"), /unknown key 'linux\.seccomp\.archMap' is ignored/);
    // the rule's moby 'name' is not a second name: runc reads only 'names'
    assert.deepEqual(
      p.policy.rules.flatMap((r) => r.names),
      ["read"],
    );
  });
  it("a huge-integer apiVersion (SPO JSON) is one clear error showing its digits", () => {
    const text = `{"apiVersion": 123456789012345678901234567890, "kind": "SeccompProfile", "spec": {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}}`;
    try {
      read(text, "p.json");
      assert.fail("accepted");
    } catch (e) {
      assert.ok(e instanceof SysfenceError, (e as Error).stack);
      assert.match(
        e.message,
        /p\.json:1:\d+: error: apiVersion 123456789012345678901234567890 is not a SeccompProfile API version/,
      );
    }
  });
  it("SPO JSON whose baseProfileName is a mapping: a warning that shows it", () => {
    const text = `{"apiVersion": "security-profiles-operator.x-k8s.io/v1beta1", "kind": "SeccompProfile", "spec": {"baseProfileName": {"a": 1}, "defaultAction": "SCMP_ACT_ERRNO"}}`;
    assert.match(warnings(text, "p.json"), /spec\.baseProfileName \{"a":1\} is not resolved here/);
  });
  it("a huge-integer ociVersion (config.json) is read", () => {
    const text = `{"ociVersion": 123456789012345678901234567890, "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "archMap": [], "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}}}`;
    assert.equal(read(text, "config.json").format, "oci");
  });
});
