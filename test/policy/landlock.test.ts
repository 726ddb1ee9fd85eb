import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeActionValue } from "../../src/abi/action.js";
import { emulate } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import { SysfenceError } from "../../src/errors.js";
import { exportPolicy } from "../../src/export/export.js";
import { policyText } from "../../src/generate/generate.js";
import { LANDLOCK_FS, LANDLOCK_NET, LANDLOCK_SCOPE, planLandlock } from "../../src/policy/landlock.js";
import type { LandlockSection } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { policyToYaml } from "../../src/policy/write.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { syscallNumber } from "../../src/syscalls/table.js";

const FULL = `defaultAction: allow
architectures: [x86_64]
landlock:
  read: [/usr/lib, /etc/ld.so.cache]
  write: [/var/lib/app, { path: /tmp, comment: "scratch space" }]
  execute: [/usr/sbin/app]
  devices: [/dev/null]
  bindTcp: [8080, 0]
  connectTcp: [{ port: 5432, comment: postgres }]
  scope: [signal, abstract-unix-socket]
  comment: "from a recording"
syscalls:
  - names: [uname]
    action: allow
    needs: landlock
  - names: [uname]
    action: errno EPERM
`;

function problems(text: string, compileWith?: { landlock: boolean }): string[] {
  try {
    const p = parsePolicy(text, { file: "p.yaml" });
    if (compileWith) compile(p.policy, { stats: false, ...compileWith });
  } catch (e) {
    assert.ok(e instanceof SysfenceError, String(e));
    return e.message.split("\n").slice(1);
  }
  return [];
}

const section = (s: Partial<LandlockSection>): LandlockSection => ({
  read: [],
  write: [],
  execute: [],
  devices: [],
  scope: [],
  ...s,
});

describe("the landlock: section of the policy format", () => {
  it("reads every list, entries with comments, and ports from YAML and JSON alike", () => {
    const p = parsePolicy(FULL, { file: "p.yaml" }).policy;
    const l = p.landlock!;
    assert.deepEqual(
      l.write.map((e) => [e.path, e.comment]),
      [
        ["/var/lib/app", undefined],
        ["/tmp", "scratch space"],
      ],
    );
    assert.equal(l.write[1].location?.line, 5);
    assert.deepEqual(
      l.bindTcp?.map((e) => e.port),
      [8080, 0],
    );
    assert.deepEqual(
      l.connectTcp?.map((e) => [e.port, e.comment]),
      [[5432, "postgres"]],
    );
    assert.deepEqual(l.scope, ["signal", "abstract-unix-socket"]);
    assert.equal(p.rules[0].needs, "landlock");
    const json = JSON.stringify({
      defaultAction: "allow",
      landlock: { read: ["/usr"], connectTcp: [443], scope: ["signal"] },
      syscalls: [{ names: ["uname"], action: "allow", needs: "landlock" }],
    });
    const j = parsePolicy(json, { file: "p.json" }).policy;
    assert.deepEqual(
      j.landlock?.read.map((e) => e.path),
      ["/usr"],
    );
    assert.equal(j.landlock?.bindTcp, undefined);
    assert.equal(j.rules[0].needs, "landlock");
  });
  it("both writers give back what was read (policyToYaml and generate's policyText)", () => {
    const p = parsePolicy(FULL, { file: "p.yaml" }).policy;
    const strip = (x: unknown) => JSON.parse(JSON.stringify(x, (k, v) => (k === "location" ? undefined : v)));
    for (const text of [policyToYaml(p), policyText(p, ["header"])]) {
      const again = parsePolicy(text, { file: "again.yaml" }).policy;
      assert.deepEqual(strip(again.landlock), strip(p.landlock), text);
      assert.equal(again.rules[0].needs, "landlock", text);
    }
    assert.match(
      policyText(p, []),
      /^landlock:\n {2}comment: "from a recording"\n {2}read: \[\/usr\/lib, \/etc\/ld\.so\.cache\]$/m,
    );
  });
  it("a relative path, a bad port and an unknown key are errors at their own line", () => {
    const rel = problems("defaultAction: allow\nlandlock:\n  read: [/usr, usr/lib]\nsyscalls: []\n");
    assert.equal(rel.length, 1, rel.join("\n"));
    assert.match(
      rel[0],
      /^p\.yaml:3:16: error: landlock\.read: 'usr\/lib' is not an absolute path — .*\/usr\/lib/,
    );
    const port = problems(
      "defaultAction: allow\nlandlock:\n  read: [/usr]\n  bindTcp: [80, 70000]\n  connectTcp: [http]\nsyscalls: []\n",
    );
    assert.equal(port.length, 2, port.join("\n"));
    assert.match(
      port[0],
      /^p\.yaml:4:17: error: landlock\.bindTcp\.1: .*65535.* — a port is an integer from 0 to 65535/,
    );
    assert.match(port[1], /^p\.yaml:5:16: error: landlock\.connectTcp\.0: /);
    const key = problems(
      "defaultAction: allow\nlandlock:\n  read: [/usr]\n  exec: [/bin/sh]\nsyscalls: []\n",
    );
    assert.equal(key.length, 1, key.join("\n"));
    assert.match(
      key[0],
      /^p\.yaml:4:9: error: landlock: Unrecognized key: "exec" — landlock keys are read, write, execute/,
    );
    const needs = problems(
      "defaultAction: allow\nsyscalls:\n  - names: [uname]\n    action: allow\n    needs: apparmor\n",
    );
    assert.match(needs[0], /^p\.yaml:5:12: error: syscalls\.0\.needs: /);
  });
});

describe("needs: landlock", () => {
  const p = parsePolicy(FULL, { file: "p.yaml" }).policy;
  const uname = syscallNumber("x86_64", "uname")!;
  const answer = (options: { landlock?: boolean }) =>
    decodeActionValue(
      emulate(compile(p, { stats: false, ...options }).program, {
        nr: uname,
        arch: ARCHES.x86_64.audit,
        instructionPointer: 0n,
        args: [0n, 0n, 0n, 0n, 0n, 0n],
      }).value,
    );
  it("the rule is compiled only when the Landlock layer is enforced (default: not)", () => {
    assert.equal(answer({ landlock: true }).kind, "allow");
    assert.deepEqual(answer({ landlock: false }), { kind: "errno", data: 1 });
    assert.deepEqual(answer({}), { kind: "errno", data: 1 });
  });
  it("a plain rule before a needs: landlock rule for the same call is still a conflict", () => {
    const msgs = problems(
      "defaultAction: allow\nsyscalls:\n  - names: [uname]\n    action: errno EPERM\n  - names: [uname]\n    action: allow\n    needs: landlock\n",
      { landlock: true },
    );
    assert.match(msgs[0] ?? "", /^p\.yaml:5:5: error: conflicting actions for uname/);
  });
  it("exports drop it and say that the Landlock layer has no equivalent", () => {
    for (const format of ["oci", "systemd", "bpf"] as const) {
      const e = exportPolicy(p, format);
      assert.ok(
        e.warnings.some((w) =>
          w.message.includes(
            `the Landlock layer (files, executables, TCP ports, signal scoping) has no equivalent in ${format}; 1 call fell back to seccomp-only (their rules rely on Landlock; each now gets the next rule's or the default answer): uname`,
          ),
        ),
        format,
      );
      assert.equal(e.policy.landlock, undefined);
      assert.ok(!e.policy.rules.some((r) => r.needs), format);
    }
    const unit = exportPolicy(p, "systemd").output as string;
    assert.match(unit, /^ProtectSystem=strict\nReadWritePaths=-\/var\/lib\/app -\/tmp$/m);
    assert.match(unit, /SystemCallFilter=~uname:EPERM/);
  });
});

describe("planLandlock: what each Landlock ABI holds", () => {
  const all = section({
    read: [{ path: "/usr" }],
    write: [{ path: "/var/lib/app" }],
    devices: [{ path: "/dev/null" }],
    bindTcp: [{ port: 8080 }],
    connectTcp: [{ port: 8080 }, { port: 5432 }],
    scope: ["signal", "abstract-unix-socket"],
  });
  it("ABI 0 (no Landlock, or turned off) applies nothing and says why in one line", () => {
    const none = planLandlock(all, 0);
    assert.equal(none.enforced.files, false);
    assert.equal(none.dropped.length, 1);
    assert.match(
      none.dropped[0],
      /^landlock: this kernel has no Landlock .*: the Landlock layer .* is not applied/,
    );
    assert.match(
      planLandlock(all, 0, "disabled by --no-landlock").dropped[0],
      /^landlock: disabled by --no-landlock: /,
    );
  });
  it("each ABI from 1 to 7 drops exactly what it lacks", () => {
    const expected: Record<number, RegExp[]> = {
      1: [
        /REFER\) needs ABI 2, this kernel has 1: such renames/,
        /truncate restriction needs ABI 3/,
        /IOCTL_DEV\) needs ABI 5/,
        /TCP port rules \(bindTcp, connectTcp\) needs ABI 4/,
        /signal scoping needs ABI 6, this kernel has 1: not applied/,
        /abstract unix socket scoping needs ABI 6/,
      ],
      2: [
        /truncate restriction needs ABI 3, this kernel has 2/,
        /needs ABI 5/,
        /needs ABI 4/,
        /signal scoping needs ABI 6/,
        /abstract unix socket/,
      ],
      3: [
        /needs ABI 5/,
        /TCP port rules .* needs ABI 4, this kernel has 3: not applied/,
        /signal scoping/,
        /abstract unix socket/,
      ],
      4: [
        /IOCTL_DEV\) needs ABI 5, this kernel has 4: ioctl on device files is not restricted/,
        /^landlock: signal scoping needs ABI 6, this kernel has 4: not applied$/,
        /abstract unix socket/,
      ],
      5: [/signal scoping needs ABI 6, this kernel has 5/, /abstract unix socket scoping needs ABI 6/],
      6: [],
      7: [],
    };
    for (let abi = 1; abi <= 7; abi++) {
      const plan = planLandlock(all, abi);
      assert.equal(plan.dropped.length, expected[abi].length, `ABI ${abi}: ${plan.dropped.join("\n")}`);
      for (const [i, re] of expected[abi].entries()) assert.match(plan.dropped[i], re, `ABI ${abi}`);
      assert.equal(plan.enforced.files, true);
      assert.equal(plan.handledFs & LANDLOCK_FS.REFER ? 1 : 0, abi >= 2 ? 1 : 0);
      assert.equal(plan.handledFs & LANDLOCK_FS.TRUNCATE ? 1 : 0, abi >= 3 ? 1 : 0);
      assert.equal(plan.handledFs & LANDLOCK_FS.IOCTL_DEV ? 1 : 0, abi >= 5 ? 1 : 0);
      assert.equal(plan.handledNet, abi >= 4 ? LANDLOCK_NET.BIND_TCP | LANDLOCK_NET.CONNECT_TCP : 0);
      assert.equal(plan.scoped, abi >= 6 ? LANDLOCK_SCOPE.SIGNAL | LANDLOCK_SCOPE.ABSTRACT_UNIX_SOCKET : 0);
      assert.equal(plan.enforced.signal, abi >= 6);
      assert.equal(plan.enforced.bindTcp, abi >= 4);
      // no rule grants a right the ruleset does not handle (the kernel refuses that: EINVAL)
      for (const p of plan.paths) assert.equal(p.access & ~plan.handledFs, 0);
    }
  });
  it("ports: one rule per port, bind and connect merged; no port lists: network not handled", () => {
    const plan = planLandlock(all, 7);
    assert.deepEqual(plan.ports, [
      { port: 8080, access: LANDLOCK_NET.BIND_TCP | LANDLOCK_NET.CONNECT_TCP },
      { port: 5432, access: LANDLOCK_NET.CONNECT_TCP },
    ]);
    const bindOnly = planLandlock(section({ bindTcp: [] }), 7);
    assert.equal(bindOnly.handledNet, LANDLOCK_NET.BIND_TCP);
    assert.equal(bindOnly.enforced.connectTcp, false);
    const files = planLandlock(section({ read: [{ path: "/" }] }), 5);
    assert.deepEqual(files.dropped, []);
    assert.equal(files.handledNet, 0);
  });
  it("the lists grant what the format says", () => {
    const plan = planLandlock(all, 7);
    const of = (list: string) => plan.paths.find((p) => p.list === list)!.access;
    assert.equal(of("read"), LANDLOCK_FS.READ_FILE | LANDLOCK_FS.READ_DIR);
    assert.ok(
      of("write") & LANDLOCK_FS.TRUNCATE &&
        of("write") & LANDLOCK_FS.REFER &&
        of("write") & LANDLOCK_FS.MAKE_REG,
    );
    assert.equal(of("write") & (LANDLOCK_FS.MAKE_CHAR | LANDLOCK_FS.MAKE_BLOCK | LANDLOCK_FS.EXECUTE), 0);
    assert.equal(of("devices"), LANDLOCK_FS.READ_FILE | LANDLOCK_FS.WRITE_FILE | LANDLOCK_FS.IOCTL_DEV);
  });
});
