import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePolicy } from "../../src/policy/parse.js";

// errno 0 is fake success: SECCOMP_RET_ERRNO with data 0 makes a denied call return 0 without running.
// Every format that reads an errno says so where it was written.

const fake = /errno 0 makes the denied call report success/;

describe("errno 0 is warned about in every format, at its line", () => {
  it("sysfence YAML: a rule's action and the default action", () => {
    const p = parsePolicy(
      "defaultAction: errno 0\narchitectures: [x86_64]\nsyscalls:\n  - names: [chown]\n    action: errno 0\n  - names: [read]\n    action: errno EPERM\n",
      { file: "p.yaml" },
    );
    assert.deepEqual(
      p.warnings
        .filter((w) => fake.test(w.message))
        .map((w) => w.location?.line)
        .sort(),
      [1, 5],
    );
  });
  it("sysfence JSON", () => {
    const p = parsePolicy('{"defaultAction":"allow","syscalls":[{"name":"chown","action":"errno:0"}]}', {
      file: "p.json",
    });
    assert.equal(p.warnings.filter((w) => fake.test(w.message)).length, 1);
  });
  it("OCI: errnoRet 0 on a rule and defaultErrnoRet 0", () => {
    const p = parsePolicy(
      '{\n"defaultAction": "SCMP_ACT_ERRNO",\n"defaultErrnoRet": 0,\n"syscalls": [\n{"names": ["chown"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0}\n]\n}\n',
      { file: "p.json", arch: "x86_64" },
    );
    assert.deepEqual(
      p.warnings
        .filter((w) => fake.test(w.message))
        .map((w) => w.location?.line)
        .sort(),
      [3, 5],
    );
  });
  it("OCI: no warning for an errno that is not 0", () => {
    const p = parsePolicy(
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["chown"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}',
      { file: "p.json", arch: "x86_64" },
    );
    assert.equal(p.warnings.filter((w) => fake.test(w.message)).length, 0);
  });
  it("systemd: ~NAME:0 warns (SystemCallErrorNumber=0 is refused: test/policy/systemd.test.ts)", () => {
    const p = parsePolicy("[Service]\nSystemCallFilter=~chown:0\n", { file: "u.conf" });
    assert.equal(p.warnings[0].location?.line, 2);
    assert.match(p.warnings[0].message, fake);
  });
});
