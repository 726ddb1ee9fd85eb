import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compile } from "../../src/compile/compile.js";
import { SysfenceError } from "../../src/errors.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { formatPolicyText } from "../../src/policy/rewrite.js";

function problems(text: string): string[] {
  try {
    const p = parsePolicy(text, { file: "p.yaml" });
    compile(p.policy, { stats: false });
  } catch (e) {
    assert.ok(e instanceof SysfenceError, String(e));
    return e.message.split("\n").slice(1);
  }
  return [];
}

describe("policy parsing reports every problem with file:line:column and a hint", () => {
  it("unknown syscalls get 'did you mean'", () => {
    const msgs = problems(
      "defaultAction: allow\narchitectures: [x86_64]\nsyscalls:\n  - names: [openat3, getpidd]\n    action: errno EPERM\n",
    );
    assert.equal(msgs.length, 2);
    assert.match(msgs[0], /^p\.yaml:4:13: error: unknown syscall 'openat3' — did you mean .*'openat2'/);
    assert.match(msgs[1], /^p\.yaml:4:22: error: unknown syscall 'getpidd' — did you mean 'getpid'/);
  });
  it("arg 6 and pointer contents are errors", () => {
    const msgs = problems(
      'defaultAction: allow\nsyscalls:\n  - name: openat\n    action: allow\n    args: ["arg6 == 1", "arg1 == \\"/etc/passwd\\""]\n',
    );
    assert.equal(msgs.length, 2);
    assert.match(msgs[0], /p\.yaml:5:12: error: .*arguments 0 to 5/);
    assert.match(msgs[1], /p\.yaml:5:25: error: .*never the memory a pointer refers to/);
  });
  it("bad actions, unknown constants, unknown groups and keys are all reported at once", () => {
    const msgs = problems(
      'defaultAction: explode\nsyscalls:\n  - names: ["@netwrk-io"]\n    action: allow\n  - name: ioctl\n    action: allow\n    args: ["arg1 == FIONBOI"]\n',
    );
    assert.equal(msgs.length, 3, msgs.join("\n"));
    assert.match(msgs.join("\n"), /1:16: error: unknown action 'explode'/);
    assert.match(
      msgs.join("\n"),
      /3:13: error: unknown syscall group '@netwrk-io' — did you mean @network-io/,
    );
    assert.match(msgs.join("\n"), /7:12: error: .*unknown constant 'FIONBOI' — did you mean FIONBIO/);
  });
  it("schema errors name the key", () => {
    const msgs = problems("defaultAction: allow\nsyscals: []\n");
    assert.match(msgs.join("\n"), /p\.yaml:1:1: error: .*syscals|Unrecognized key/i);
  });
  it("a value too wide for a 32-bit argument is an error naming the arch", () => {
    const msgs = problems(
      'defaultAction: allow\narchitectures: [x86_64]\nsyscalls:\n  - name: ioctl\n    action: allow\n    args: ["arg1 == 0x100005421"]\n',
    );
    assert.match(
      msgs[0],
      /p\.yaml:6:12: error: value 4294988833 does not fit the 32-bit argument 1 of ioctl on x86_64/,
    );
  });
  it("conflicting unconditional actions are an error", () => {
    const msgs = problems(
      "defaultAction: allow\nsyscalls:\n  - name: read\n    action: errno EPERM\n  - name: read\n    action: kill-process\n",
    );
    assert.match(msgs[0], /conflicting actions for read/);
  });
  it("a syscall missing on the target arch is a warning naming the arch", () => {
    const p = parsePolicy(
      "defaultAction: allow\narchitectures: [aarch64]\nsyscalls:\n  - name: open\n    action: errno EPERM\n",
      { file: "p.yaml" },
    );
    const r = compile(p.policy, { stats: false });
    assert.match(r.resolved.warnings.map((w) => w.message).join("\n"), /'open' does not exist on aarch64/);
  });
  it("YAML syntax errors point at the line", () => {
    const msgs = problems("defaultAction: allow\nsyscalls:\n  - name: [read\n");
    assert.ok(msgs.length >= 1);
    assert.match(msgs[0], /^p\.yaml:\d+:\d+: error:/);
  });
});

describe("policy semantics", () => {
  it("explicit names beat groups; conditional rules are tried before the fallback", () => {
    const p = parsePolicy(
      'defaultAction: kill-process\narchitectures: [x86_64]\nsyscalls:\n  - names: ["@file-system"]\n    action: allow\n  - name: openat\n    action: errno EACCES\n  - name: openat\n    action: allow\n    args: ["arg2 == 0"]\n',
      { file: "p.yaml" },
    );
    const r = compile(p.policy, { stats: false });
    const openat = r.resolved.arches[0].syscalls.find((s) => s.name === "openat")!;
    assert.equal(openat.fallback.kind, "errno");
    assert.equal(openat.conditional.length, 1);
    const stat = r.resolved.arches[0].syscalls.find((s) => s.name === "newfstatat")!;
    assert.equal(stat.fallback.kind, "allow");
  });
  it("OCI: repeated argument indexes are OR-ed like runc; caps and arches resolve includes/excludes", () => {
    const oci = JSON.stringify({
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64"],
      syscalls: [
        {
          names: ["personality"],
          action: "SCMP_ACT_ALLOW",
          args: [
            { index: 0, value: 0, op: "SCMP_CMP_EQ" },
            { index: 0, value: 8, op: "SCMP_CMP_EQ" },
          ],
        },
        { names: ["reboot"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_BOOT"] } },
        { names: ["arch_prctl"], action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64"] } },
        {
          names: ["lseek"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 1, value: "__BIG__", op: "SCMP_CMP_EQ" }],
        },
      ],
    }).replace('"__BIG__"', "18446744073709551615");
    const withoutBoot = parsePolicy(oci, { file: "o.json", arch: "x86_64" }).policy;
    assert.equal(withoutBoot.rules.filter((r) => r.names.includes("personality")).length, 2);
    assert.ok(!withoutBoot.rules.some((r) => r.names.includes("reboot")));
    assert.ok(withoutBoot.rules.some((r) => r.names.includes("arch_prctl")));
    assert.equal(
      BigInt.asUintN(64, withoutBoot.rules.find((r) => r.names.includes("lseek"))!.conditions[0].value),
      18446744073709551615n,
      "64-bit values stay exact",
    );
    const withBoot = parsePolicy(oci, { file: "o.json", arch: "x86_64", caps: ["CAP_SYS_BOOT"] }).policy;
    assert.ok(withBoot.rules.some((r) => r.names.includes("reboot")));
  });
});

describe("rewriting keeps comments", () => {
  it("fmt canonicalises actions and keeps every comment", () => {
    const text =
      "# my server policy\ndefaultAction: errno:1 # deny politely\nsyscalls:\n  # the event loop\n  - name: read # fd 0\n    action: ALLOW\n";
    const out = formatPolicyText(text);
    for (const c of ["# my server policy", "# deny politely", "# the event loop", "# fd 0"])
      assert.ok(out.includes(c), `lost '${c}':\n${out}`);
    assert.match(out, /defaultAction: errno EPERM/);
    assert.match(out, /names: \[ read \]|names: \[read\]/);
    assert.doesNotThrow(() => parsePolicy(out, { file: "x" }));
  });
});

describe("architectures: []", () => {
  it("is refused with its line (the fuzz found it compiled to an error without the file's name)", () => {
    for (const [text, file] of [
      ['{"defaultAction":"allow","architectures":[],"syscalls":[]}', "p.json"],
      ["defaultAction: allow\narchitectures: []\nsyscalls: []\n", "p.yaml"],
    ])
      assert.throws(
        () => parsePolicy(text, { file }),
        new RegExp(`${file.replace(".", "\\.")}:\\d+:\\d+: error: architectures is an empty list`),
      );
  });
});
