// `audit --patch` adds only what the records show: the policy's architectures, the named program, never over
// an argument rule or a deliberate answer, in the target's own format, checked by reading it back. The
// patched policies run on the real kernel.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { patchPolicy } from "../../src/observe/patch.js";
import { groupRecords, parseSeccompRecord } from "../../src/observe/records.js";
import { formatAction } from "../../src/policy/actions.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { CLI_PATH as CLI } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const onLinux = process.platform === "linux" && process.arch === "x64" ? false : "needs Linux x86_64";

/** A dmesg SECCOMP line. */
function record(o: { exe: string; arch: string; nr: number; code?: string; pid?: number }): string {
  return `audit: type=1326 audit(1795328380.495:39): auid=0 uid=0 gid=0 ses=1 pid=${o.pid ?? 100} comm="x" exe="${o.exe}" sig=0 arch=${o.arch} syscall=${o.nr} compat=0 ip=0x1 code=${o.code ?? "0x7ffc0000"}`;
}
const X86 = "c000003e";
const AARCH64 = "c00000b7";
const violations = (lines: string[]) =>
  groupRecords(lines.map((l) => parseSeccompRecord(l)).filter((r) => r !== undefined));

const decide = (text: string, name: string, args: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n]) => {
  const policy = parsePolicy(text, { file: "p" }).policy;
  return formatAction(
    referenceDecide(policy, { arch: ARCHES.x86_64.audit, nr: syscallNumber("x86_64", name) as number, args }),
  );
};

const CLONE_POLICY = `defaultAction: allow
architectures: [x86_64]
syscalls:
  - names: [clone]
    action: kill-process
    args: ["arg0 & 0x10000000 == 0x10000000"]
  - names: [uname]
    action: errno EACCES
  - names: [personality]
    action: kill-process
`;

describe("audit --patch is as narrow as the records", () => {
  it("a foreign-arch record and an argument-ruled call are not widened: clone(CLONE_NEWUSER) stays kill", () => {
    const v = violations([
      record({ exe: "/usr/bin/other", arch: AARCH64, nr: 220 }), // clone on aarch64
      record({ exe: "/usr/bin/app", arch: X86, nr: 56 }), // clone on x86_64 (the policy has argument rules)
    ]);
    const p = patchPolicy(CLONE_POLICY, "p.yaml", v);
    assert.deepEqual(p.added, []);
    assert.equal(p.text, CLONE_POLICY);
    assert.deepEqual(
      p.skipped.map((s) => [s.arch, s.syscall, /architectures|argument rules/.exec(s.why)?.[0]]).sort(),
      [
        ["aarch64", "clone", "architectures"],
        ["x86_64", "clone", "argument rules"],
      ],
    );
    assert.equal(decide(p.text, "clone", [0x10000000n, 0n, 0n, 0n, 0n, 0n]), "kill-process");
  });

  it("a call the policy answers on purpose (errno EACCES, kill) stays answered; the result still checks", () => {
    const v = violations([
      record({ exe: "/usr/bin/app", arch: X86, nr: 63, code: "0x5000d" }), // uname → EACCES
      record({ exe: "/usr/bin/app", arch: X86, nr: 135, code: "0x80000000" }), // personality → kill
    ]);
    const p = patchPolicy(CLONE_POLICY, "p.yaml", v);
    assert.deepEqual(p.added, []);
    assert.match(p.skipped[0].why, /answers it on purpose/);
    assert.equal(decide(p.text, "uname"), "errno EACCES");
  });

  it("a call that fell to the default is added, and nothing else changes", () => {
    const text = "defaultAction: errno EPERM\nsyscalls:\n  - names: [read]\n    action: allow\n";
    const p = patchPolicy(text, "p.yaml", violations([record({ exe: "/usr/bin/app", arch: X86, nr: 63 })]));
    assert.deepEqual(p.added, ["uname"]);
    assert.equal(decide(p.text, "uname"), "allow");
    assert.equal(decide(p.text, "write"), "errno EPERM");
  });

  it("OCI and moby JSON are patched as JSON: 64-bit values byte for byte, the entry added, libseccomp's meaning", () => {
    const oci = `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [
    {
      "names": ["read"],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "names": ["personality"],
      "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_EQ" }]
    }
  ]
}
`;
    const p = patchPolicy(oci, "profile.json", violations([record({ exe: "/app", arch: X86, nr: 63 })]));
    assert.deepEqual(p.added, ["uname"]);
    const parsed = JSON.parse(p.text);
    assert.deepEqual(parsed.syscalls[2], { names: ["uname"], action: "SCMP_ACT_ALLOW" });
    assert.ok(p.text.includes('"value": 18446744073709551615'), "u64 kept exactly");
    assert.ok(p.text.startsWith(oci.slice(0, oci.lastIndexOf("}\n  ]"))), "the rest untouched");
    assert.equal(parsePolicy(p.text, { file: "profile.json" }).format, "oci");
    // a whole config.json: linux.seccomp.syscalls
    const config = `{"ociVersion": "1.0.2", "process": {"args": ["sh"]}, "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"]}}}`;
    const c = patchPolicy(config, "config.json", violations([record({ exe: "/app", arch: X86, nr: 63 })]));
    assert.deepEqual(JSON.parse(c.text).linux.seccomp.syscalls, [
      { names: ["uname"], action: "SCMP_ACT_ALLOW" },
    ]);
    assert.equal(JSON.parse(c.text).process.args[0], "sh");
    // moby (Docker) profile with archMap
    const moby = readFileSync(`${REPO}examples/docker-default.json`, "utf8");
    const m = patchPolicy(moby, "docker.json", violations([record({ exe: "/app", arch: X86, nr: 169 })])); // reboot
    assert.deepEqual(m.added, ["reboot"]);
    const last = JSON.parse(m.text).syscalls.at(-1);
    assert.deepEqual(last.names, ["reboot"]);
    assert.match(last.comment, /added by sysfence audit/);
  });

  it("a systemd unit gets a SystemCallFilter= line; an SPO profile a syscalls entry", () => {
    const unit =
      "[Service]\nExecStart=/usr/bin/app\nSystemCallFilter=@system-service\nSystemCallErrorNumber=EPERM\n";
    const p = patchPolicy(unit, "app.service", violations([record({ exe: "/app", arch: X86, nr: 169 })]));
    assert.match(
      p.text,
      /SystemCallFilter=@system-service\n# added by sysfence audit.*\nSystemCallFilter=reboot\n/,
    );
    assert.equal(parsePolicy(p.text, { file: "app.service" }).format, "systemd");
    const spo = `apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: app
spec:
  defaultAction: SCMP_ACT_ERRNO
  architectures: [SCMP_ARCH_X86_64]
  syscalls:
    - names: [read, write]
      action: SCMP_ACT_ALLOW
`;
    const s = patchPolicy(spo, "app.yaml", violations([record({ exe: "/app", arch: X86, nr: 169 })]));
    assert.deepEqual(s.added, ["reboot"]);
    assert.match(s.text, /- names: \[reboot\]\n\s+action: SCMP_ACT_ALLOW/);
    assert.equal(parsePolicy(s.text, { file: "app.yaml" }).format, "spo");
    assert.equal(decide(s.text, "reboot"), "allow");
  });

  it("a malformed target and a BPF target are clear errors", () => {
    const v = violations([record({ exe: "/app", arch: X86, nr: 63 })]);
    assert.throws(() => patchPolicy("defaultAction: [\n", "bad.yaml", v), /bad\.yaml/);
    assert.throws(
      () => patchPolicy('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": 5}', "bad.json", v),
      /bad\.json/,
    );
  });
});

describe("audit --patch on the CLI and the real kernel", { skip: onLinux }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-patch-"));
  const uname = spawnSync("sh", ["-c", "command -v uname"], { encoding: "utf8" }).stdout.trim();
  const POLICY = `defaultAction: errno EPERM
architectures: [x86_64]
syscalls:
  - names: ["@default", "@basic-io", "@file-system", "@io-event", "@process", "@signal", "@network-io", "@ipc", "@memlock", "@resources", "@timer", "@sync"]
    action: allow
  - names: [clone, unshare]
    action: errno EPERM
    args: ["arg0 & 0x10000000 == 0x10000000"]
  - names: [uname]
    action: errno EPERM
`;
  const policy = join(dir, "p.yaml");
  writeFileSync(policy, POLICY.replace("  - names: [uname]\n    action: errno EPERM\n", ""));
  const log = join(dir, "audit.log");
  writeFileSync(
    log,
    `${[
      record({ exe: uname, arch: X86, nr: 63 }),
      record({ exe: uname, arch: AARCH64, nr: 160 }), // uname on aarch64: not this policy's arch
      record({ exe: "/usr/bin/other", arch: X86, nr: 169 }),
    ].join("\n")}\n`,
  );

  it("records of several programs need --exe; with it only that program's calls are added", () => {
    const noExe = spawnSync(process.execPath, [CLI, "audit", log, "--patch", policy], { encoding: "utf8" });
    assert.equal(noExe.status, 2, noExe.stderr);
    assert.match(noExe.stderr, /records come from 2 programs .* --exe/);
    const out = join(dir, "patched.yaml");
    const r = spawnSync(process.execPath, [CLI, "audit", log, "--patch", policy, "--exe", uname, "-o", out], {
      encoding: "utf8",
    });
    assert.equal(r.status, 1, r.stderr); // records were found
    assert.match(r.stderr, /the patch allows uname/);
    assert.match(r.stderr, /not added: uname .*aarch64 is not one of the policy's architectures/);
    assert.doesNotMatch(readFileSync(out, "utf8"), /reboot/);
    // the patched policy runs uname; unshare -U is still refused by the argument rule
    const ok = spawnSync(process.execPath, [CLI, "run", "--policy", out, "--", "uname", "-s"], {
      encoding: "utf8",
    });
    assert.equal(ok.stdout, "Linux\n", ok.stderr);
    if (existsSync("/usr/bin/unshare")) {
      const userns = spawnSync(
        process.execPath,
        [CLI, "run", "--policy", out, "--", "unshare", "-U", "true"],
        {
          encoding: "utf8",
        },
      );
      assert.notEqual(userns.status, 0, "CLONE_NEWUSER still refused");
    }
  });

  it("a malformed target is one clear error and no output file", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "defaultAction: allow\nsyscalls:\n  - names: [read]\n    action: allow\n    args: [5]\n",
    );
    const out = join(dir, "never.yaml");
    const r = spawnSync(process.execPath, [CLI, "audit", log, "--patch", bad, "--exe", uname, "-o", out], {
      encoding: "utf8",
    });
    assert.equal(r.status, 2, "a malformed policy is input trouble");
    assert.match(r.stderr, /bad\.yaml/);
    assert.doesNotMatch(r.stderr, /internal error|TypeError/);
    assert.ok(!existsSync(out));
  });
});

describe("audit --patch output: a short summary with -o, a diff patch -p1 applies", () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-patch-p1-"));
  const POLICY = "defaultAction: errno EPERM\nsyscalls:\n  - names: [read, write]\n    action: allow\n";
  const log = join(dir, "k.log");
  writeFileSync(log, `${record({ exe: "/usr/bin/app", arch: X86, nr: 16, code: "0x50000" })}\n`);
  const audit = (cwd: string, ...args: string[]) =>
    spawnSync(process.execPath, [CLI, "audit", log, "--exe", "/usr/bin/app", ...args], {
      cwd,
      encoding: "utf8",
    });
  const hasPatch = spawnSync("patch", ["--version"]).error ? "patch(1) is not installed" : false;

  it("a policy named by an absolute path: a/ b/ relative to here, applied by the real patch -p1", {
    skip: hasPatch,
  }, () => {
    mkdirSync(join(dir, "etc"), { recursive: true });
    const policy = join(dir, "etc", "app.yaml");
    writeFileSync(policy, POLICY);
    const r = audit(dir, "--patch", policy);
    assert.match(r.stdout, /^--- a\/etc\/app\.yaml\n\+\+\+ b\/etc\/app\.yaml\n@@ /);
    const p = spawnSync("patch", ["-p1"], { cwd: dir, input: r.stdout, encoding: "utf8" });
    assert.equal(p.status, 0, p.stdout + p.stderr);
    assert.match(readFileSync(policy, "utf8"), /names: \[ioctl\]\n {4}action: allow/);
  });

  it("a policy outside the directory: named by its file name, applied with patch -p1 -d ITS_DIR", {
    skip: hasPatch,
  }, () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "sysfence-patch-else-"));
    const policy = join(elsewhere, "app.yaml");
    writeFileSync(policy, POLICY);
    const r = audit(dir, "--patch", policy);
    assert.match(r.stdout, /^--- a\/app\.yaml\n/);
    assert.ok(r.stderr.includes(`apply the diff in ${elsewhere} (patch -p1 -d ${elsewhere})`), r.stderr);
    const p = spawnSync("patch", ["-p1", "-d", elsewhere], { cwd: dir, input: r.stdout, encoding: "utf8" });
    assert.equal(p.status, 0, p.stdout + p.stderr);
    assert.match(readFileSync(policy, "utf8"), /names: \[ioctl\]/);
  });

  it("-o FILE: a one-line summary on standard output, the whole change in FILE", () => {
    const policy = join(dir, "o.yaml");
    writeFileSync(policy, POLICY);
    const out = join(dir, "fixed.yaml");
    const r = audit(dir, "--patch", policy, "-o", out);
    assert.equal(r.stdout, `${out}: ${policy} with 1 call(s) allowed (ioctl); 3 line(s) added, 0 removed\n`);
    assert.doesNotMatch(r.stdout, /@@/);
    assert.match(readFileSync(out, "utf8"), /names: \[ioctl\]/);
  });
});
