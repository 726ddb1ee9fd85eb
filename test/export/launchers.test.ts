import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { exportPolicy } from "../../src/export/export.js";
import { chooseLauncher, withLauncher } from "../../src/export/launchers.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { evalValue } from "../../src/syscalls/constants.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { CLI_PATH } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { policyFrom } from "../helpers/policies.js";
import { requireOrSkip } from "../helpers/require.js";

// A generated policy's shape: allow-list, an errno answer for execve and prctl (static, high risk), argument
// rules on write.
const GENERATED = `defaultAction: kill-process
architectures: [x86_64]
syscalls:
  - names: [read, close, mmap, futex, exit_group]
    action: allow
  - names: [write]
    action: allow
    args: ["arg0 <= 2"]
  - names: [execve, prctl]
    action: errno EPERM
`;
const decide = (p: ReturnType<typeof policyFrom>, name: string, args: bigint[] = []) =>
  referenceDecide(p, {
    arch: ARCHES.x86_64.audit,
    nr: syscallNumber("x86_64", name)!,
    args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6),
  }).kind;

describe("launchers: what starts the program is allowed, and said", () => {
  it("bwrap: execve replaces the policy's own answer (no conflicting rules), the reaper's wait4 and write are narrow", () => {
    const p = policyFrom(GENERATED);
    const l = withLauncher(p, "bwrap");
    assert.equal(decide(l.policy, "execve"), "allow");
    assert.equal(decide(l.policy, "wait4", [evalValue("-1")]), "allow");
    assert.equal(decide(l.policy, "wait4", [5n]), "kill-process", "only the reaper's wait4(-1)");
    assert.equal(decide(l.policy, "write", [4n, 0n, 8n]), "allow", "the reaper's 8-byte write");
    assert.equal(decide(l.policy, "write", [4n, 0n, 100n]), "kill-process", "write's own rules still hold");
    assert.ok(l.added.every((r) => r.comment?.startsWith("launcher: bwrap")));
    assert.equal(l.warnings.length, 1);
    assert.match(l.warnings[0].message, /execve stays allowed for the program too/);
    // the result is a valid policy (one unconditional answer per call) that sysfence reads back
    exportPolicy(p, "bpf");
  });
  it("runc under libseccomp: an argument rule beside an unconditional answer cannot hold, so the call is allowed whole, with a warning", () => {
    const p = policyFrom(GENERATED);
    const precise = withLauncher(p, "runc", { noNewPrivileges: false });
    assert.equal(decide(precise.policy, "prctl", [evalValue("PR_CAPBSET_DROP")]), "allow");
    assert.equal(
      decide(precise.policy, "prctl", [evalValue("PR_SET_SECCOMP")]),
      "errno",
      "sysfence's own compiler keeps it narrow",
    );
    const lib = withLauncher(p, "runc", { noNewPrivileges: false, libseccomp: true });
    assert.equal(decide(lib.policy, "prctl", [evalValue("PR_SET_SECCOMP")]), "allow");
    assert.ok(lib.warnings.some((w) => /prctl.*now allowed whatever the arguments/.test(w.message)));
    // noNewPrivileges true needs fewer calls than false
    const nnp = withLauncher(p, "runc", { noNewPrivileges: true });
    assert.ok(nnp.added.length < precise.added.length);
    assert.equal(decide(nnp.policy, "setuid"), "kill-process");
    assert.equal(decide(precise.policy, "setuid"), "allow");
  });
  it("runc in the OCI export: the launcher's prctl rules stay narrow, the policy's EPERM written as their complement", () => {
    const ex = exportPolicy(policyFrom(GENERATED), "oci", { noNewPrivileges: false });
    const said = [...ex.launcherWarnings, ...ex.warnings].map((w) => w.message).join("\n");
    assert.doesNotMatch(said, /prctl.*now allowed whatever the arguments/);
    assert.equal(decide(ex.policy, "prctl", [evalValue("PR_CAPBSET_DROP")]), "allow");
    assert.equal(decide(ex.policy, "prctl", [evalValue("PR_SET_SECCOMP")]), "errno");
    const profile = JSON.parse(String(ex.output)) as { syscalls: { names: string[]; action: string }[] };
    assert.ok(profile.syscalls.some((e) => e.names.includes("prctl") && e.action === "SCMP_ACT_ERRNO"));
    assert.ok(
      !profile.syscalls.some((e) => e.names.includes("prctl") && !("args" in e)),
      "no whole-call prctl entry",
    );
  });
  it("exec: only execve, and the C launcher's guard keeps the policy's answer for every other exec", () => {
    const ex = exportPolicy(policyFrom(GENERATED), "bpf-c", { launcher: "exec" });
    assert.deepEqual(
      ex.launcherRules.map((r) => r.names[0]),
      ["execve"],
    );
    const c = String(ex.output);
    assert.match(c, /int main\(int argc, char \*\*argv\)/);
    assert.match(c, /sysfence_install_guard\(path, args, envp\)/);
    assert.match(c, /gets errno EPERM/);
  });
  it("a launcher that does not fit the format, crun (not measured here) and an unknown one are usage errors", () => {
    assert.throws(() => chooseLauncher("bpf", "runc"), /does not fit --format bpf; use one of bwrap, none/);
    assert.throws(
      () => exportPolicy(policyFrom(GENERATED), "oci", { launcher: "crun" }),
      /crun's launch calls are not measured/,
    );
    assert.equal(chooseLauncher("oci"), "runc");
    assert.equal(chooseLauncher("libseccomp-c"), "none");
  });
  it("systemd: @default is added as systemd's own, so the drop-in means what systemd enforces", () => {
    const ex = exportPolicy(policyFrom(GENERATED), "systemd");
    assert.match(ex.launcherWarnings[0].message, /systemd allows these itself/);
    assert.ok(ex.launcherRules.some((r) => r.names.includes("execve")));
  });
  it("log mode: OCI logs every answer but allow; systemd has no deny filter and a non-empty SystemCallLog=", () => {
    const p = policyFrom(GENERATED);
    const oci = JSON.parse(String(exportPolicy(p, "oci", { log: true }).output));
    assert.equal(oci.defaultAction, "SCMP_ACT_LOG");
    assert.ok(
      oci.syscalls.every(
        (s: { action: string }) => s.action === "SCMP_ACT_ALLOW" || s.action === "SCMP_ACT_LOG",
      ),
    );
    const unit = String(exportPolicy(p, "systemd", { log: true }).output);
    assert.match(unit, /^SystemCallLog=~\S+/m);
    assert.doesNotMatch(unit, /^SystemCallFilter=/m);
  });
});

describe("k8s: v1 by default, v1beta1 on request, both valid against SPO's CRD", () => {
  const crd = parseYaml(readFileSync(`${REPO}test/fixtures/spo-seccompprofile-crd.yaml`, "utf8"));
  for (const version of ["v1", "v1beta1"] as const) {
    it(version, () => {
      const schema = crd.spec.versions.find((v: { name: string }) => v.name === version).schema
        .openAPIV3Schema;
      const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
      const p = parsePolicy(readFileSync(`${REPO}examples/server-policy.yaml`, "utf8"), {
        file: "server-policy.yaml",
      }).policy;
      const ex = exportPolicy(p, "k8s", {
        name: "web",
        namespace: "prod",
        podSnippet: true,
        ...(version === "v1" ? {} : { apiVersion: version }),
      });
      const [doc, snippet] = parseAllDocuments(String(ex.output)).map((d) => d.toJS()) as [
        { apiVersion: string; metadata: { namespace: string }; spec: { syscalls: { args?: unknown[] }[] } },
        { securityContext: { seccompProfile: { localhostProfile: string } } },
      ];
      const valid = (x: object) => validate(x);
      assert.equal(doc.apiVersion, `security-profiles-operator.x-k8s.io/${version}`);
      assert.ok(valid(doc), JSON.stringify(validate.errors?.slice(0, 3)));
      assert.equal(doc.metadata.namespace, "prod");
      assert.equal(snippet.securityContext.seccompProfile.localhostProfile, "operator/prod/web.json");
      doc.spec.syscalls[0].args = [{ index: 0, value: -1, op: "SCMP_CMP_EQ" }];
      assert.equal(valid(doc), false, "a negative value breaks the schema (the check can fail)");
    });
  }
});

describe("C launchers on the real kernel", {
  skip:
    process.platform !== "linux" || process.arch !== "x64"
      ? "needs Linux x86_64"
      : requireOrSkip(spawnSync("gcc", ["--version"]).status === 0, "gcc and libseccomp-dev"),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-clauncher-"));
  // everything allowed but exec: what the launcher holds is visible, and sh runs under it
  const policy = policyFrom(
    "defaultAction: allow\narchitectures: [x86_64]\nsyscalls:\n  - names: [execve]\n    action: errno EPERM\n",
  );
  const build = (format: "bpf-c" | "libseccomp-c") => {
    const c = join(dir, `${format}.c`);
    writeFileSync(c, String(exportPolicy(policy, format, { launcher: "exec" }).output));
    const bin = join(dir, format);
    execFileSync("gcc", [
      "-O2",
      "-Wall",
      "-Werror",
      "-o",
      bin,
      c,
      ...(format === "libseccomp-c" ? ["-lseccomp"] : []),
    ]);
    return bin;
  };
  const launchers = { "bpf-c": build("bpf-c"), "libseccomp-c": build("libseccomp-c") };
  for (const [format, bin] of Object.entries(launchers))
    it(`${format}: runs the command with argv[0] as given, denies the program's own exec, 125/127 on bad use`, () => {
      const r = spawnSync(bin, ["sh", "-c", 'echo "$0 ran"; /bin/true; echo "exec: $?"'], {
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "sh ran\nexec: 126\n");
      assert.match(r.stderr, /Operation not permitted/);
      assert.equal(spawnSync(bin, ["no-such-command-here"]).status, 127);
      assert.equal(spawnSync(bin, []).status, 125);
    });
  it("a faked seccomp() (an outer filter answering it with 0) stops the launcher before it runs anything", () => {
    // the outer filter answers every install "success" without installing anything
    const fake = join(dir, "fake.yaml");
    writeFileSync(fake, "defaultAction: allow\nsyscalls:\n  - names: [seccomp]\n    action: errno 0\n");
    const r = spawnSync(
      process.execPath,
      [CLI_PATH, "run", "--policy", fake, "--", launchers["bpf-c"], "echo", "RAN"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 126, r.stderr);
    assert.doesNotMatch(r.stdout, /RAN/);
    assert.match(r.stderr, /the kernel did not take the filter/);
  });
});
