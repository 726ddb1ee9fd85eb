// The two layers on the real kernel (issue "Policies that keep programs working"): a program recorded at its
// ordinary work, generated with the defaults, keeps working under `sysfence run --policy`, and what injected
// code would try — a shell, the loader on a shell, a memfd exec, writes outside its data directory, a signal
// to pid 1 — fails. Without the Landlock layer (--no-landlock, lockdown() beside other threads, an export)
// the policy never allows more than the seccomp-only policy generated without it.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { exportPolicy } from "../../src/export/export.js";
import { seccompPolicyFor } from "../../src/policy/landlock.js";
import type { Policy } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { syscallTable } from "../../src/syscalls/table.js";
import { CLI_PATH } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  process.arch !== "x64" ? "needs x86_64" : requireOrSkip(spawnSync("strace", ["-V"]).status === 0, "strace");

describe("two layers: seccomp for which interfaces, Landlock for which files and processes", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-two-layers-"));
  const bin = join(dir, "two-layers");
  const data = join(dir, "data");
  const other = join(dir, "other");
  mkdirSync(data);
  mkdirSync(other);
  writeFileSync(join(data, "in"), "state\n");
  writeFileSync(join(other, "in"), "state\n");
  execFileSync("gcc", ["-O2", "-o", bin, `${REPO}test/fixtures/two-layers.c`]);
  const sysfence = (...args: string[]) =>
    spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: "utf8", timeout: 60000 });
  const profile = join(dir, "work.json");
  const policyFile = join(dir, "policy.yaml");
  const seccompOnlyFile = join(dir, "seccomp-only.yaml");
  const rec = sysfence("record", "-q", "--engine", "strace", "-o", profile, "--", bin, "work", data);
  const gen = sysfence("generate", profile, "-o", policyFile);
  const gen0 = sysfence("generate", "--no-landlock", profile, "-o", seccompOnlyFile);
  const read = (f: string) => parsePolicy(readFileSync(f, "utf8"), { file: f }).policy;

  it("generates a file layer: writes only in the data directory, executes only the program and its loader", () => {
    assert.equal(rec.status, 0, rec.stderr);
    assert.equal(gen.status, 0, gen.stderr);
    const p = read(policyFile);
    assert.ok(p.landlock, "a landlock: section");
    assert.deepEqual(
      p.landlock.write.map((w) => w.path),
      [data],
    );
    const exec = p.landlock.execute.map((e) => e.path);
    assert.ok(exec.includes(bin), exec.join(" "));
    assert.ok(!exec.some((e) => /\/(ba|da)?sh$/.test(e)), "no shell");
    assert.deepEqual(p.landlock.bindTcp, [], "it never bound a port");
    assert.ok(p.landlock.scope.includes("signal"));
  });

  it("the program keeps working: saves by rename and unlink, signals its own child", () => {
    const r = sysfence("run", "--policy", policyFile, "--", bin, "work", data);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "saved: ok\nchild signalled: ok\n");
    assert.equal(readFileSync(join(data, "state"), "utf8"), "state\n");
  });

  it("what injected code would try fails, each by the layer that judges it", () => {
    const attempt = (what: string, dirArg = data) => {
      const r = sysfence("run", "--policy", policyFile, "--", bin, what, dirArg);
      assert.equal(r.status, 0, `${what}: ${r.stderr}`);
      return r.stdout.trim();
    };
    assert.equal(attempt("sh"), "sh: Operation not permitted", "exec of a shell it never ran (seccomp)");
    assert.equal(attempt("ldso"), "ldso: Operation not permitted", "the loader on a shell (seccomp)");
    assert.equal(attempt("memfd"), "memfd: Operation not permitted", "memfd exec (seccomp)");
    assert.equal(attempt("etc"), "etc: Permission denied", "a write to /etc (Landlock)");
    assert.equal(attempt("tmp"), "tmp: Permission denied", "a write in /tmp outside its data (Landlock)");
    assert.equal(
      attempt("kill1"),
      "kill1: Operation not permitted",
      "a signal out of its sandbox (Landlock)",
    );
    assert.equal(attempt("work2", other), "work2: Permission denied", "saving in a directory never written");
    assert.ok(!existsSync("/etc/sysfence-two-layers"));
  });

  it("without Landlock, the policy falls back to the seccomp-only answers, never wider", () => {
    assert.equal(gen0.status, 0, gen0.stderr);
    const p = read(policyFile);
    const today = read(seccompOnlyFile);
    assert.equal(today.landlock, undefined);
    const fallback = seccompPolicyFor(p, false);
    const audit = ARCHES.x86_64.audit;
    const wider: string[] = [];
    const compare = (a: Policy, b: Policy, what: string) => {
      for (const [name, nr] of Object.entries(syscallTable("x86_64")))
        for (const args of [
          [0n, 0n, 0n, 0n, 0n, 0n],
          [1n, 1n, 1n, 1n, 1n, 1n],
          [10n, 5n, 7n, 0n, 0n, 0n],
        ]) {
          const x = referenceDecide(a, { arch: audit, nr, args });
          const y = referenceDecide(b, { arch: audit, nr, args });
          if (x.kind === "allow" && y.kind !== "allow") wider.push(`${what}: ${name}(${args.join(",")})`);
        }
    };
    compare(fallback, today, "no Landlock");
    compare(exportPolicy(p, "oci").policy, exportPolicy(today, "oci").policy, "OCI export");
    assert.deepEqual(wider, []);
    // under the kernel: the same attempts with --no-landlock are refused where seccomp can judge them
    const r = sysfence("run", "--no-landlock", "--policy", policyFile, "--", bin, "sh", data);
    assert.equal(r.stdout.trim(), "sh: Operation not permitted");
    assert.match(r.stderr, /landlock: disabled by --no-landlock/);
    const w = sysfence("run", "--no-landlock", "--policy", policyFile, "--", bin, "work", data);
    assert.equal(w.stdout, "saved: ok\nchild signalled: ok\n", "and the program still works");
  });
});
