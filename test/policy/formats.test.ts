import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Emulator } from "../../src/bpf/emulator.js";
import { encodeProgram } from "../../src/bpf/insn.js";
import { compile } from "../../src/compile/compile.js";
import { SysfenceError } from "../../src/errors.js";
import { MAX_POLICY_BYTES } from "../../src/policy/formats/document.js";
import { type ParsedPolicy, parsePolicy } from "../../src/policy/parse.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-formats-"));
const cli = runCli;
/** The policy's answer to one x86_64 call, as its compiled program gives it. */
function answer(p: ParsedPolicy, name: string, args: bigint[] = []): number {
  const nr = syscallNumber("x86_64", name)!;
  const a = [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6);
  return (
    new Emulator(compile(p.policy, { stats: false }).program).run({ nr, arch: ARCHES.x86_64.audit, args: a })
      .value >>> 0
  );
}
const KILL = 0x80000000;
/** The SysfenceError a read throws (fails when it throws anything else or nothing). */
function refusal(text: string | Uint8Array, file = "p.json", format?: ParsedPolicy["format"]): SysfenceError {
  try {
    parsePolicy(text, { file, format, arch: "x86_64" });
  } catch (e) {
    assert.ok(e instanceof SysfenceError, `not a SysfenceError: ${(e as Error).stack}`);
    return e;
  }
  return assert.fail("accepted");
}

describe("format detection by structure, never by a substring", () => {
  const yamlWithUnitLine = `defaultAction: kill-process
architectures: [x86_64]
syscalls:
  - names: [read, write, exit_group]
    action: allow
    comment: |
      Not a unit file, even though the next line looks like one:
SystemCallFilter=@reboot
`;
  it("a YAML policy whose comment holds a SystemCallFilter= line stays a 3-call allow-list", () => {
    // (the comment's text is indented by the block scalar; a line at column 1 ends it, so use a quoted one too)
    const quoted = `defaultAction: kill-process\narchitectures: [x86_64]\nsyscalls:\n  - names: [read, write, exit_group]\n    action: allow\n    comment: "first line\n\n      SystemCallFilter=@reboot"\n`;
    const p = parsePolicy(quoted, { file: "p.yaml" });
    assert.equal(p.format, "sysfence");
    assert.equal(answer(p, "read"), 0x7fff0000);
    assert.equal(answer(p, "getpid"), KILL);
    assert.equal(answer(p, "reboot"), KILL);
    // a line at column 1 inside a YAML document is a YAML error, not a unit file
    const e = refusal(yamlWithUnitLine, "p.yaml");
    assert.match(e.message, /p\.yaml:\d+:\d+/);
  });
  it("each format is recognised from its structure alone (no extension: stdin)", () => {
    const cases: [string, ParsedPolicy["format"]][] = [
      ['{"defaultAction":"kill-process","syscalls":[{"name":"read","action":"allow"}]}', "sysfence"],
      ["defaultAction: kill-process\nsyscalls: []\n", "sysfence"],
      ['{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}', "oci"],
      [
        '{"defaultAction":"SCMP_ACT_ERRNO","archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":[]}],"syscalls":[]}',
        "moby",
      ],
      [
        '{"ociVersion":"1.0.2","linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}}}',
        "oci",
      ],
      [
        "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata: {name: x}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls: [{names: [read], action: SCMP_ACT_ALLOW}]\n",
        "spo",
      ],
      [
        "[Service]\n# sandbox\nExecStart=/bin/true\nSystemCallFilter=@system-service\nSystemCallErrorNumber=EPERM\n",
        "systemd",
      ],
    ];
    for (const [text, format] of cases)
      assert.equal(parsePolicy(text, { file: "<stdin>" }).format, format, text);
    const bpf = encodeProgram(compile(parsePolicy(cases[0][0]).policy, { stats: false }).program);
    assert.equal(parsePolicy(bpf, { file: "<stdin>" }).format, "bpf");
  });
  it("--format must agree with the structure; a file that fits no format names them all", async () => {
    const oci = '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}';
    assert.match(
      refusal(oci, "p.json", "sysfence").message,
      /--format sysfence was asked for, but the file is an OCI profile/,
    );
    assert.equal(parsePolicy(oci, { format: "moby" }).format, "moby");
    assert.match(
      refusal("just: a mapping\n", "<stdin>").message,
      /fits no policy format .*SCMP_ACT.*SystemCallFilter=/s,
    );
    const f = join(dir, "p.yaml");
    writeFileSync(f, oci);
    const r = await cli("check", f, "--input-format", "spo");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--format spo was asked for/);
  });
});

describe("OCI input is validated as runc and Docker read it", () => {
  const rule = (extra: string) =>
    `{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [\n    {"names": ["unlink", "unlinkat"], "action": "SCMP_ACT_ERRNO", ${extra}}\n  ]\n}\n`;
  it("errnoRet that is not an errno number is an error at its line, never errno 0", () => {
    for (const bad of [
      '"errnoRet": "EPERM"',
      '"errnoRet": 1e308',
      '"errnoRet": 65536',
      '"errnoRet": -1',
      '"errnoRet": 1.5',
    ]) {
      const e = refusal(rule(bad));
      assert.match(
        e.message,
        /p\.json:4:\d+: error: syscalls\.0\.errnoRet: must be an errno number from 0 to 4095/,
        bad,
      );
    }
    // NaN is not JSON at all
    assert.match(refusal(rule('"errnoRet": NaN')).message, /p\.json:4:\d+: error: invalid JSON/);
    // in YAML, .nan is a number that is not an errno
    assert.match(
      refusal(
        "defaultAction: SCMP_ACT_ALLOW\nsyscalls:\n  - {names: [unlink], action: SCMP_ACT_ERRNO, errnoRet: .nan}\n",
        "p.yaml",
      ).message,
      /p\.yaml:3:\d+: .*errnoRet/,
    );
  });
  it("wrong types are errors with locations, not stack traces; includes.caps of the wrong type is not dropped", () => {
    const docker = (s: string) => `{"defaultAction":"SCMP_ACT_ERRNO","archMap":[],"syscalls":[${s}]}`;
    const bad = [
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":"read"}',
      rule('"args": [{"index": 1, "value": "TCGETS", "op": "SCMP_CMP_EQ"}]'),
      rule('"args": [{"index": 1, "value": 1.5, "op": "SCMP_CMP_EQ"}]'),
      rule('"args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]'),
      rule('"args": [{"index": 1, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]'),
      rule('"args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQUAL"}]'),
      rule('"args": {"index": 1}'),
      docker('{"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":"CAP_SYS_ADMIN"}}'),
      docker('{"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":[7]}}'),
      docker('{"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":5}}'),
      docker('{"name":"mount","names":["umount2"],"action":"SCMP_ACT_ALLOW"}'),
      '{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}',
      '{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":"EPERM"}',
      '{"defaultAction":"SCMP_ACT_EXPLODE"}',
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":[],"action":"SCMP_ACT_ALLOW"}]}',
    ];
    for (const text of bad) assert.match(refusal(text).message, /p\.json(:\d+:\d+)?: error: /, text);
  });
  it("unknown keys are warnings; a 64-bit AT_FDCWD compiles and matches both extensions", () => {
    const p = parsePolicy(
      '{"defaultAction":"SCMP_ACT_ALLOW","futureKey":1,"syscalls":[{"names":["openat"],"action":"SCMP_ACT_ERRNO","errnoRet":13,"args":[{"index":0,"value":18446744073709551516,"op":"SCMP_CMP_EQ"}]}]}',
      { file: "p.json" },
    );
    assert.match(p.warnings.map((w) => w.message).join("\n"), /unknown key 'futureKey'/);
    assert.equal(answer(p, "openat", [0xffffff9cn]), 0x50000 | 13);
    assert.equal(answer(p, "openat", [0xffffffffffffff9cn]), 0x50000 | 13);
    assert.equal(answer(p, "openat", [3n]), 0x7fff0000);
  });
  it("an OCI rule without errnoRet answers EPERM, as runc does, whatever defaultErrnoRet says", () => {
    const p = parsePolicy(
      '{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[{"names":["unlink"],"action":"SCMP_ACT_ERRNO"},{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}',
    );
    assert.equal(answer(p, "unlink"), 0x50001);
    assert.equal(answer(p, "getpid"), 0x50000 | 38);
  });
});

describe("JSON duplicate keys are refused in every JSON input", () => {
  it("sysfence JSON, OCI JSON and SPO JSON", () => {
    for (const text of [
      '{"defaultAction":"kill-process","defaultAction":"allow","syscalls":[]}',
      '{"defaultAction":"SCMP_ACT_KILL_PROCESS","defaultAction":"SCMP_ACT_ALLOW"}',
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","action":"SCMP_ACT_ERRNO"}]}',
      '{"kind":"SeccompProfile","kind":"SeccompProfile"}',
    ])
      assert.match(
        refusal(text).message,
        /p\.json:1:\d+: error: invalid JSON: duplicate key "(defaultAction|action|kind)"/,
        text,
      );
  });
});

describe("resource limits are clear errors", () => {
  it("a YAML alias bomb, an unresolved alias and an oversized policy", () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\ndefaultAction: allow\nsyscalls: []\n`;
    assert.match(refusal(bomb, "p.yaml").message, /expands its aliases .* more than 100 times/);
    assert.match(refusal("defaultAction: *nope\nsyscalls: []\n", "p.yaml").message, /p\.yaml/);
    const big = `defaultAction: allow\nsyscalls: []\n# ${"x".repeat(MAX_POLICY_BYTES)}\n`;
    assert.match(refusal(big, "p.yaml").message, /larger than the \d+-byte limit/);
  });
  it("__proto__ keys are ordinary keys: unknown-key warnings, no pollution", () => {
    const p = parsePolicy('{"defaultAction":"SCMP_ACT_ALLOW","__proto__":{"polluted":1},"syscalls":[]}', {
      file: "p.json",
    });
    assert.match(p.warnings.map((w) => w.message).join("\n"), /unknown key '__proto__'/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.match(refusal('{"defaultAction":"allow","__proto__":{},"syscalls":[]}').message, /__proto__/);
  });
});
