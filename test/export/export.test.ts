import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { Emulator, emulate, packSeccompData } from "../../src/bpf/emulator.js";
import { decodeProgram } from "../../src/bpf/insn.js";
import { compile } from "../../src/compile/compile.js";
import { exportBpf, exportBpfC } from "../../src/export/bpf.js";
import { exportK8s } from "../../src/export/k8s.js";
import { exportLibseccompC } from "../../src/export/libseccomp-c.js";
import { exportOci } from "../../src/export/oci.js";
import { exportSystemd } from "../../src/export/systemd.js";
import { archDependentNames } from "../../src/policy/conditions.js";
import { importBpf } from "../../src/policy/formats/bpf/read.js";
import type { Policy } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { policyToYaml } from "../../src/policy/write.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { evalValue } from "../../src/syscalls/constants.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { REPO } from "../helpers/paths.js";
import { EDGE_POLICIES, example, policyFrom } from "../helpers/policies.js";
import { type KernelCall, probeWithExport, runOnKernel, runWithExport } from "../helpers/probe.js";
import { exhaustiveQueries, findMismatches } from "../helpers/queries.js";
import { requireOrSkip } from "../helpers/require.js";
import { haveSystemdTest, systemdAnswer, systemdReadings } from "../helpers/systemd-oracle.js";

const has = (cmd: string, args: string[] = ["--version"]) =>
  spawnSync(cmd, args, { stdio: "ignore" }).error === undefined;
const linuxX64 = process.platform === "linux" && process.arch === "x64";
const x64 = (name: string, args: string[] = []): KernelCall => ({
  nr: syscallNumber("x86_64", name)!,
  args: args.map((a) => BigInt.asUintN(64, evalValue(a))),
});

const IOCTL_POLICY = `
defaultAction: errno 201
architectures: [x86_64]
syscalls:
  - names: [getpid]
    action: allow
  - name: ioctl
    action: allow
    args: ["arg1 == FIONBIO"]
  - name: dup
    action: kill-process
  - name: socket
    action: errno 202
    args: ["arg0 == AF_VSOCK"]
`;
const QUERIES = [
  x64("getpid"),
  x64("ioctl", ["-1", "FIONBIO"]),
  x64("ioctl", ["-1", "0x100005421"]),
  x64("ioctl", ["-1", "TIOCSTI"]),
  x64("dup", ["-1"]),
  x64("mount"),
  x64("socket", ["AF_VSOCK", "1"]),
  x64("socket", ["AF_UNIX", "1"]),
];
const DOCKER_QUERIES = [
  x64("getpid"),
  x64("socket", ["AF_VSOCK", "1"]),
  x64("socket", ["AF_UNIX", "1"]),
  x64("clone", ["CLONE_NEWUSER|CLONE_THREAD"]),
  x64("clone3"),
  x64("mount"),
  x64("personality", ["0xffffffff"]),
];

/** Kernel outcomes of our own filter: what every exported form must reproduce. */
const ours = (p: Policy, calls: KernelCall[]) => runOnKernel(compile(p).program, calls);
const normalise = (o: ReturnType<typeof runOnKernel>) =>
  o.map((x) => (x.kind === "ret" ? { kind: x.kind, errno: x.errno, ok: x.ret >= 0 } : x));

describe("libseccomp-c: compiled with gcc + libseccomp, enforced by the kernel like sysfence's own filter", {
  skip: !linuxX64
    ? "needs Linux x86_64"
    : requireOrSkip(existsSync("/usr/include/seccomp.h"), "libseccomp-dev"),
}, () => {
  for (const [label, policy, calls] of [
    ["argument rules and 32-bit truncation", policyFrom(IOCTL_POLICY), QUERIES],
    ["Docker's default profile", example("docker-default.json"), DOCKER_QUERIES],
  ] as const) {
    it(label, () => {
      const { text } = exportLibseccompC(policy);
      assert.match(text, /seccomp_init\(SCMP_ACT_/);
      assert.match(text, /seccomp_load/);
      // Docker's profile allows calls libseccomp 2.5.4 cannot name on i386/x32: the default (stricter) answers
      const bin = probeWithExport(text, "libseccomp-c", ["-DSYSFENCE_ALLOW_STRICTER=1"]);
      assert.deepEqual(normalise(runWithExport(bin, calls)), normalise(ours(policy, [...calls])));
    });
  }
});

describe("libseccomp-c: calls the local libseccomp does not know by name", {
  skip: !linuxX64
    ? "needs Linux x86_64"
    : requireOrSkip(existsSync("/usr/include/seccomp.h"), "libseccomp-dev"),
}, () => {
  // statmount 457, listmount 458, mseal 462 on x86_64: libseccomp 2.5.4 has no names for them
  const NEW_CALLS = `
  - names: [mseal, statmount]
    action: allow
  - names: [listmount]
    action: errno EACCES
  - names: [ioctl]
    action: allow
    args: ["arg1 == 0x5421"]
`;
  const base =
    "defaultAction: errno EPERM\nsyscalls:\n  - names: [read, write, exit_group, exit, rt_sigreturn, brk, mmap, munmap, fstat, newfstatat, close]\n    action: allow";
  const calls: KernelCall[] = [
    { nr: 457, args: [0n, 0n, 0n, 0n] },
    { nr: 458, args: [0n, 0n, 0n, 0n] },
    { nr: 462, args: [0n, 0n, 0n] },
    { nr: 63, args: [0n] },
    { nr: 16, args: [0n, 0x5421n] },
  ];
  it("on the native architecture alone: sysfence's numbers are used and the kernel decides as sysfence run does", () => {
    const policy = policyFrom(`${base}${NEW_CALLS}`);
    const { text } = exportLibseccompC(policy);
    assert.match(text, /sysfence_add\(ctx, "mseal", \(const int\[\]\)\{ 462 \}/);
    const bin = probeWithExport(text, "libseccomp-c");
    const got = normalise(runWithExport(bin, calls));
    assert.deepEqual(got, normalise(ours(policy, calls)));
    assert.equal((got[1] as { errno: number }).errno, 13, "listmount answered EACCES, not skipped");
  });
  it("with other architectures libseccomp cannot take the number: sysfence_install() fails, nothing installed", () => {
    const policy = policyFrom(
      `${base.replace("defaultAction: errno EPERM", "defaultAction: errno EPERM\narchitectures: [x86_64, i386]")}${NEW_CALLS}`,
    );
    const dir = mkdtempSync(join(tmpdir(), "sysfence-lsc-"));
    writeFileSync(join(dir, "install.c"), exportLibseccompC(policy).text);
    writeFileSync(
      join(dir, "main.c"),
      '#include <stdio.h>\n#include <sys/utsname.h>\nint sysfence_install(void);\nint main(void) { struct utsname u; int rc = sysfence_install(); printf("rc=%d uname=%d\\n", rc, uname(&u)); return rc ? 1 : 0; }\n',
    );
    execFileSync("gcc", ["-o", join(dir, "t"), join(dir, "main.c"), join(dir, "install.c"), "-lseccomp"]);
    const r = spawnSync(join(dir, "t"), { encoding: "utf8" });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^rc=-95 uname=0$/m, "failed, and no filter was loaded (uname still works)");
    assert.match(r.stderr, /does not know listmount on i386 .* not installing less than the policy/);
  });
  it("a rule that answers what the default answers is no loss: the install goes on", () => {
    const policy = policyFrom(
      `${base.replace("defaultAction: errno EPERM", "defaultAction: errno EPERM\narchitectures: [x86_64, i386]")}\n  - names: [mseal]\n    action: errno EPERM\n`,
    );
    const bin = probeWithExport(exportLibseccompC(policy).text, "libseccomp-c");
    assert.deepEqual(normalise(runWithExport(bin, calls)), normalise(ours(policy, calls)));
  });
});

describe("bpf-c: the self-contained header compiles and enforces", {
  skip: linuxX64 ? false : "needs Linux x86_64",
}, () => {
  it("decides like the filter it embeds", () => {
    const policy = policyFrom(IOCTL_POLICY);
    const { text } = exportBpfC(policy);
    assert.doesNotMatch(text, /#include <seccomp\.h>/, "needs no libseccomp");
    const bin = probeWithExport(text, "bpf-c");
    assert.deepEqual(normalise(runWithExport(bin, QUERIES)), normalise(ours(policy, QUERIES)));
  });
});

describe("bpf: bubblewrap runs a command under the exported program", {
  skip: linuxX64 ? requireOrSkip(has("bwrap"), "bubblewrap") : "needs Linux x86_64",
}, () => {
  it("uname is denied, everything else runs", () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-bwrap-"));
    const file = join(dir, "f.bpf");
    writeFileSync(
      file,
      exportBpf(policyFrom("defaultAction: allow\nsyscalls:\n  - name: uname\n    action: errno EPERM\n"))
        .bytes,
    );
    const run = (cmd: string) =>
      spawnSync("sh", ["-c", `bwrap --ro-bind / / --dev /dev --proc /proc --seccomp 9 9<"${file}" ${cmd}`], {
        encoding: "utf8",
      });
    const denied = run("uname -s");
    assert.notEqual(denied.status, 0);
    assert.match(denied.stderr, /Operation not permitted/);
    const ok = run("echo allowed");
    assert.equal(ok.stdout, "allowed\n", ok.stderr);
  });
});

describe("systemd drop-in", () => {
  it("log mode: no deny filter and a non-empty SystemCallLog= that logs all but the allowed calls", () => {
    const { text } = exportSystemd(
      policyFrom("defaultAction: log\nsyscalls:\n  - names: [read, write, exit_group]\n    action: allow\n"),
    );
    assert.doesNotMatch(text, /^SystemCallFilter=/m);
    assert.match(text, /^SystemCallLog=~exit_group read write$/m);
    const none = exportSystemd(policyFrom("defaultAction: log\nsyscalls: []\n")).text;
    assert.match(none, /^SystemCallLog=@known$/m, "never an empty assignment (it would reset the setting)");
  });
  it("uses @groups for fully allowed groups, widens argument rules with a warning, and passes systemd-analyze", (t) => {
    const policy = policyFrom(
      'defaultAction: errno EPERM\narchitectures: [x86_64, i386]\nsyscalls:\n  - names: ["@default", "@basic-io", "@network-io", getdents64]\n    action: allow\n  - name: ioctl\n    action: allow\n    args: ["arg1 == FIONBIO"]\n  - name: openat\n    action: errno EACCES\n',
    );
    const { text, warnings } = exportSystemd(policy);
    assert.match(text, /^SystemCallFilter=.*@basic-io/m);
    assert.match(text, /@network-io/);
    assert.match(text, /^SystemCallFilter=~openat:EACCES$/m);
    assert.match(text, /^SystemCallErrorNumber=EPERM$/m);
    assert.match(text, /^SystemCallArchitectures=x86-64 x86$/m);
    assert.match(text, /^NoNewPrivileges=yes$/m);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /ioctl is allowed only when arg1 == FIONBIO/);
    assert.match(text, /# sysfence: ioctl is allowed only when/);
    const skip = requireOrSkip(has("systemd-analyze"), "systemd-analyze");
    if (skip) return t.skip(skip);
    const dir = mkdtempSync(join(tmpdir(), "sysfence-unit-"));
    const unit = join(dir, "sysfence-test.service");
    writeFileSync(
      unit,
      `[Unit]\nDescription=sysfence export test\n[Service]\nExecStart=/bin/true\n${text.split("[Service]\n")[1]}`,
    );
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", unit], { encoding: "utf8" });
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /Failed to parse|Unknown|invalid/i);
  });
  it("a call allowed for some values and answered EPERM otherwise (a generated clone, socket) is allowed whole, never ~NAME:EPERM", (t) => {
    // an allow-list's ~clone:EPERM makes systemd answer clone EPERM for every value (apache2's exported
    // policy: no fork, no thread, no socket); the drop-in read back as systemd reads it must allow clone
    const policy = policyFrom(
      'defaultAction: kill-process\narchitectures: [x86_64]\nsyscalls:\n  - names: [read, write, exit_group]\n    action: allow\n  - name: clone\n    action: allow\n    args: ["arg0 & 0x7e020000 == 0"]\n  - name: clone\n    action: errno EPERM\n  - name: openat\n    action: errno EACCES\n',
    );
    const { text, warnings } = exportSystemd(policy);
    assert.doesNotMatch(text, /clone:EPERM/);
    assert.match(text, /^SystemCallFilter=~openat:EACCES$/m, "an unconditional errno answer stays");
    assert.match(
      warnings.map((w) => w.message).join("\n"),
      /clone is allowed only when .* the whole call is allowed/,
    );
    const read = compile(parsePolicy(text, { file: "x.conf" }).policy).program;
    const clone = (flags: bigint) =>
      emulate(read, {
        nr: syscallNumber("x86_64", "clone")!,
        arch: ARCHES.x86_64.audit,
        args: [flags, 0n, 0n, 0n, 0n, 0n],
      }).value;
    assert.equal(clone(0x1200011n), 0x7fff0000, "fork's flags: allowed");
    assert.equal(clone(0x10000000n), 0x7fff0000, "other flags too: systemd cannot filter arguments");
    // and as systemd itself reads it (systemd --test, as nobody)
    if (!haveSystemdTest()) return t.skip("systemd --test (the manager binary and setpriv) not here");
    const [sd] = systemdReadings([text.split("[Service]\n")[1]]);
    assert.deepEqual(systemdAnswer(sd, "clone"), { kind: "allow" }, sd.warnings.join("\n"));
    assert.deepEqual(systemdAnswer(sd, "openat"), { kind: "errno", data: 13 });
  });
});

function runcBundle(): string {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-runc-"));
  mkdirSync(join(dir, "rootfs/bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(dir, "rootfs/bin/busybox"));
  for (const c of ["sh", "uname", "echo", "cat", "true"]) symlinkSync("busybox", join(dir, "rootfs/bin", c));
  execFileSync("runc", ["spec"], { cwd: dir });
  return dir;
}
function runInRunc(
  dir: string,
  profileJson: string,
  script: string,
): { status: number | null; stdout: string; stderr: string } {
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  config.process.terminal = false;
  config.process.args = ["/bin/sh", "-c", script];
  config.root.readonly = true;
  config.linux.seccomp = JSON.parse(profileJson);
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  const id = `sysfence-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  const r = spawnSync("runc", ["run", id], { cwd: dir, encoding: "utf8", input: "", timeout: 60000 });
  spawnSync("runc", ["delete", "-f", id], { stdio: "ignore" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("oci: runc runs a busybox container with the exported profile", {
  skip: !linuxX64
    ? "needs Linux x86_64"
    : requireOrSkip(has("runc") && existsSync("/bin/busybox"), "runc and busybox-static"),
}, () => {
  it("denied calls fail as the policy says, allowed ones work", () => {
    const dir = runcBundle();
    const { text } = exportOci(
      policyFrom(
        "defaultAction: allow\narchitectures: [x86_64]\nsyscalls:\n  - name: kill\n    action: errno EPERM\n",
      ),
    );
    const r = runInRunc(dir, text, "kill -0 1 || echo KILL-DENIED; echo still-running");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /KILL-DENIED\nstill-running/);
    assert.match(r.stderr, /Operation not permitted/);
    const plain = runInRunc(dir, '{"defaultAction":"SCMP_ACT_ALLOW"}', "kill -0 1 && echo KILL-OK");
    assert.equal(plain.stdout, "KILL-OK\n", plain.stderr);
  });
  it("Docker's default profile, exported, runs a shell", () => {
    const dir = runcBundle();
    const { text } = exportOci(example("docker-default.json"));
    const r = runInRunc(dir, text, "echo inside; uname -s");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "inside\nLinux\n");
  });
});

describe("k8s: a SeccompProfile the CRD's schema accepts", () => {
  const crd = parseYaml(readFileSync(`${REPO}test/fixtures/spo-seccompprofile-crd.yaml`, "utf8"));
  const version = crd.spec.versions.find((v: { name: string }) => v.name === "v1beta1");
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(version.schema.openAPIV3Schema);
  for (const [label, policy] of [
    ["Docker's default profile", example("docker-default.json")],
    ["the server policy", example("server-policy.yaml")],
    [
      "argument rules beside EPERM (their complement as masked rules)",
      policyFrom(
        'defaultAction: kill-process\narchitectures: [x86_64]\nsyscalls:\n  - name: fcntl\n    action: allow\n    args: ["arg1 == F_GETFL"]\n  - name: fcntl\n    action: errno EPERM\n    tier: argument-fallback\n  - name: socket\n    action: allow\n    args: ["arg0 == AF_INET", "arg1 & 0xf == SOCK_STREAM"]\n  - name: socket\n    action: errno EPERM\n    tier: argument-fallback\n',
      ),
    ],
  ] as const) {
    it(label, () => {
      const { text } = exportK8s(policy, { name: "test-profile", podSnippet: true });
      const docs = parseAllDocuments(text).map((d) => d.toJS());
      assert.equal(docs[0].kind, "SeccompProfile");
      assert.ok(validate(docs[0]), JSON.stringify(validate.errors?.slice(0, 3)));
      assert.deepEqual(docs[1], {
        securityContext: {
          seccompProfile: { type: "Localhost", localhostProfile: "operator/default/test-profile.json" },
        },
      });
    });
  }
  it("integers stay integers, no local path in metadata, the namespace reaches the pod snippet", () => {
    const policy = policyFrom(
      'defaultAction: errno EPERM\nsyscalls:\n  - name: mmap\n    action: allow\n    args: ["arg1 == 0x1000000000000000"]\n',
    );
    const { text } = exportK8s(
      { ...policy, source: "/home/someone/secret/project/policy.yaml" },
      {
        name: "p",
        namespace: "prod",
        podSnippet: true,
      },
    );
    assert.match(text, /value: 1152921504606846976\n/, "exact digits, not a string");
    assert.doesNotMatch(text, /"1152921504606846976"/);
    assert.doesNotMatch(text, /\/home\/someone/);
    const docs = parseAllDocuments(text).map((d) => d.toJS());
    assert.equal(docs[0].metadata.namespace, "prod");
    assert.ok(validate(docs[0]), JSON.stringify(validate.errors?.slice(0, 3)));
    assert.equal(docs[1].securityContext.seccompProfile.localhostProfile, "operator/prod/p.json");
  });
  it("a resource that breaks the schema is caught (the check can fail)", () => {
    const { text } = exportK8s(example("server-policy.yaml"));
    const doc = parseAllDocuments(text)[0].toJS();
    doc.spec.defaultAction = "SCMP_ACT_EXPLODE";
    assert.equal(validate(doc), false);
  });
});

/** import(export(P)) must decide every exhaustive query exactly like P. */
function assertSame(original: Policy, reimported: Policy, label: string, unsignedCompares = false) {
  const { program } = compile(reimported, { stats: false });
  let { mismatches } = findMismatches(original, program, exhaustiveQueries(original));
  // OCI means what libseccomp makes of it: ordered comparisons are unsigned, so a negative `int` argument
  // compares as a large number there (the exporter warns: "compares all 64 bits of a 32-bit argument").
  if (unsignedCompares)
    mismatches = mismatches.filter(
      (m) =>
        !m.query.args.some(
          (v, i) =>
            BigInt.asUintN(32, v) >= 0x80000000n &&
            original.rules.some((r) =>
              r.conditions.some((c) => c.arg === i && !["==", "!=", "&=="].includes(c.op)),
            ),
        ),
    );
  assert.deepEqual(mismatches, [], `${label}: round trip changed decisions`);
}

describe("round trips: import(export(P)) decides like P", () => {
  const withArgs: [string, Policy][] = [
    ["docker", example("docker-default.json")],
    ["server", example("server-policy.yaml")],
    ...Object.entries(EDGE_POLICIES).map(([k, v]) => [k, policyFrom(v)] as [string, Policy]),
  ];
  // What OCI cannot carry (and warns about): trap data and the bad-arch action.
  const ociExpressible = (p: Policy): Policy => ({
    ...p,
    badArchAction: { kind: "kill-process" },
    defaultAction: p.defaultAction.kind === "trap" ? { kind: "trap" } : p.defaultAction,
    rules: p.rules.map((r) => (r.action.kind === "trap" ? { ...r, action: { kind: "trap" } } : r)),
  });
  for (const [label, p] of withArgs) {
    it(`oci and sysfence YAML: ${label}`, () => {
      assertSame(p, parsePolicy(policyToYaml(p), { file: "x.yaml" }).policy, `yaml ${label}`);
      // a name whose value differs between the policy's architectures: one OCI value cannot carry it
      if (p.rules.some((r) => r.conditions.some((c) => archDependentNames(c, p.architectures).length))) {
        assert.throws(() => exportOci(p), /means different values on .*export one policy per architecture/);
        return;
      }
      const { text, warnings } = exportOci(p);
      if (p.badArchAction.kind !== "kill-process")
        assert.ok(warnings.some((w) => /bad-architecture/.test(w.message)));
      // runc ORs conditions that repeat an argument index: such a policy is not expressible, and says so.
      if (warnings.some((w) => /OR-ed by runc/.test(w.message))) return;
      assertSame(
        ociExpressible(p),
        parsePolicy(text, { file: "x.json", arch: p.architectures[0] }).policy,
        `oci ${label}`,
        true,
      );
    });
  }
  it("k8s (default errno EPERM or non-errno)", () => {
    for (const p of [example("docker-default.json"), example("server-policy.yaml")]) {
      assertSame(
        p,
        parsePolicy(exportK8s(p).text.split("---")[0], { file: "x.yaml", arch: p.architectures[0] }).policy,
        "k8s",
        true,
      );
    }
  });
  const argFree = policyFrom(
    'defaultAction: errno EPERM\narchitectures: [x86_64, i386, x32]\nsyscalls:\n  - names: ["@default", "@basic-io", "@file-system"]\n    action: allow\n  - names: [ptrace]\n    action: kill-process\n  - names: [mount]\n    action: errno EACCES\n',
  );
  it("raw BPF (decompiled) for argument-free policies; argument rules get a clear error", () => {
    assertSame(argFree, importBpf(compile(argFree).program), "bpf");
    assert.throws(
      () => importBpf(decodeProgram(exportBpf(example("server-policy.yaml")).bytes)),
      /depends on its arguments/,
    );
  });
  it("systemd for expressible policies", () => {
    const p = { ...argFree, rules: argFree.rules.filter((r) => r.action.kind !== "kill-process") };
    assertSame(p, parsePolicy(exportSystemd(p).text, { file: "x.conf" }).policy, "systemd");
  });
});

describe("a name whose value differs by architecture (FIONBIO on ppc64le)", () => {
  const multi = policyFrom(
    'defaultAction: errno EPERM\narchitectures: [x86_64, ppc64le]\nsyscalls:\n  - name: ioctl\n    action: allow\n    args: ["arg1 == FIONBIO"]\n',
  );
  const ioctl = (arch: "x86_64" | "ppc64le", request: bigint) => ({
    nr: syscallNumber(arch, "ioctl") as number,
    arch: ARCHES[arch].audit,
    archName: arch,
    args: [3n, request, 0n, 0n, 0n, 0n],
  });
  it("the compiled filter allows each architecture's own FIONBIO, not x86_64's on ppc64le", () => {
    const emu = new Emulator(compile(multi).program);
    const decide = (q: ReturnType<typeof ioctl>) =>
      emu.runWords(packSeccompData(q, ARCHES[q.archName].littleEndian)).value;
    const allow = 0x7fff0000;
    assert.equal(decide(ioctl("x86_64", 0x5421n)), allow);
    assert.equal(decide(ioctl("ppc64le", 0x8004667en)), allow, "ppc64le's FIONBIO (_IOW('f', 126, int))");
    assert.notEqual(decide(ioctl("ppc64le", 0x5421n)), allow, "x86_64's number means another request there");
  });
  it("YAML keeps the name; OCI, Kubernetes and libseccomp's C refuse one value for both (naming file and line)", () => {
    const yaml = policyToYaml(multi);
    assert.match(yaml, /arg1 == FIONBIO/);
    assertSame(multi, parsePolicy(yaml, { file: "x.yaml" }).policy, "yaml");
    for (const exporter of [exportOci, exportK8s, exportLibseccompC])
      assert.throws(
        () => exporter(multi),
        /test\.yaml:\d+:\d+: .*'arg1 == FIONBIO' \(ioctl\) means different values on x86_64, ppc64le \(FIONBIO\).*export one policy per architecture/,
      );
    // one architecture at a time is exact
    const ppc = policyFrom(
      'defaultAction: errno EPERM\narchitectures: [ppc64le]\nsyscalls:\n  - name: ioctl\n    action: allow\n    args: ["arg1 == FIONBIO"]\n',
    );
    const entry = JSON.parse(exportOci(ppc).text).syscalls.find((s: { names: string[] }) =>
      s.names.includes("ioctl"),
    );
    assert.equal(BigInt(entry.args[0].valueTwo), 0x8004667en);
  });
});

describe("every exporter warns instead of silently changing meaning", () => {
  const mixed = policyFrom(
    'defaultAction: kill-process\narchitectures: [x86_64]\nbadArchAction: errno ENOSYS\nsyscalls:\n  - name: socket\n    action: errno EPERM\n    args: ["arg0 >= AF_VSOCK"]\n  - name: socket\n    action: allow\n  - name: getuid\n    action: trap 5\n  - name: kill\n    action: allow\n    args: ["arg0 > 0", "arg0 < 100"]\n',
  );
  it("libseccomp-c, oci, k8s: precedence, trap data, repeated argument, 64-bit compare of an int", () => {
    for (const [name, r] of [
      ["libseccomp-c", exportLibseccompC(mixed)],
      ["oci", exportOci(mixed)],
      ["k8s", exportK8s(mixed)],
    ] as const) {
      const all = r.warnings.map((w) => w.message).join("\n");
      assert.match(all, /unconditional rule win/, name);
      assert.match(all, /loses its data/, name);
      assert.match(all, /compares all 64 bits/, name);
      if (name !== "libseccomp-c") assert.match(all, /OR-ed by runc/, name);
    }
  });
  it("oci: an unconditional answer beside equality rules is written as their complement, not warned", () => {
    const eq = policyFrom(
      'defaultAction: kill-process\narchitectures: [x86_64]\nsyscalls:\n  - name: socket\n    action: errno EPERM\n    args: ["arg0 == AF_VSOCK"]\n  - name: socket\n    action: allow\n',
    );
    const r = exportOci(eq);
    assert.doesNotMatch(r.warnings.map((w) => w.message).join("\n"), /unconditional rule win/);
    const entries = JSON.parse(r.text).syscalls as { action: string; args?: { op: string }[] }[];
    assert.ok(entries.every((e) => e.args?.length === 1 && e.args[0].op === "SCMP_CMP_MASKED_EQ"));
    assert.ok(entries.some((e) => e.action === "SCMP_ACT_ALLOW"));
  });
  it("--strict turns warnings into an error and writes nothing", async () => {
    const { main } = await import("../../src/cli/main.js");
    const dir = mkdtempSync(join(tmpdir(), "sysfence-strict-"));
    const src = join(dir, "p.yaml");
    writeFileSync(src, policyToYaml(mixed));
    let err = "";
    const code = await main(["export", src, "--format", "oci", "--strict", "-o", join(dir, "out.json")], {
      stdout: () => {},
      stderr: (t) => {
        err += t;
      },
    });
    assert.equal(code, 2);
    assert.match(err, /cannot express/);
    assert.ok(!existsSync(join(dir, "out.json")));
  });
});
