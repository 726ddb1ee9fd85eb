// --json on record, merge and run --dry-run: one JSON object on stdout with the documented fields.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseRunWords } from "../../src/cli/commands/run-args.js";
import { UsageError } from "../../src/cli/io.js";
import { runCli } from "../helpers/cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "sysfence-json-"));

describe("--json", () => {
  it("record: where the profile went, the engine, counts, completeness and the program's status", async () => {
    const dir = tmp();
    const out = join(dir, "true.json");
    const r = await runCli("record", "-q", "--json", "-o", out, "--", "true");
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.writtenTo, out);
    assert.match(j.engine, /^(bpf|ftrace|strace)$/);
    const profile = JSON.parse(readFileSync(out, "utf8"));
    assert.equal(j.distinctSyscalls, Object.keys(profile.syscalls).length);
    assert.ok(j.calls >= j.distinctSyscalls && j.distinctSyscalls > 0);
    assert.equal(j.processImages >= 1, true);
    assert.equal(j.complete, true);
    assert.equal(j.status, 0);

    // merge: the inputs, the counts, where it went
    const merged = join(dir, "m.json");
    const m = await runCli("merge", "--json", out, out, "-o", merged);
    assert.equal(m.code, 0, m.stderr);
    const mj = JSON.parse(m.stdout);
    assert.equal(mj.writtenTo, merged);
    assert.deepEqual(mj.inputs, [out, out]);
    assert.equal(mj.profiles, 2);
    assert.equal(mj.distinctSyscalls, j.distinctSyscalls);
    // without -o the merged profile is inside the object
    const m2 = JSON.parse((await runCli("merge", "--json", out)).stdout);
    assert.deepEqual(Object.keys(m2.profile.syscalls).sort(), Object.keys(profile.syscalls).sort());
  });

  it("record --from-strace --json needs -o FILE (stdout holds the summary)", async () => {
    const dir = tmp();
    const log = join(dir, "s.log");
    writeFileSync(log, '100 write(1, "x", 1) = 1\n100 exit_group(0) = ?\n100 +++ exited with 0 +++\n');
    const r = await runCli("record", "--from-strace", log, "--json");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /-o FILE/);
    const ok = await runCli("record", "--from-strace", log, "--json", "-q", "-o", join(dir, "p.json"));
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).engine, "strace-log");
  });

  it("run --dry-run --json: the program, its length, syscalls with rules, the Landlock plan", async () => {
    const dir = tmp();
    const policy = join(dir, "p.yaml");
    writeFileSync(
      policy,
      [
        "defaultAction: errno EPERM",
        "architectures: [x86_64]",
        "landlock:",
        "  read: [/usr, /etc]",
        "  execute: [/usr/bin]",
        "syscalls:",
        "  - names: [read, write, exit_group]",
        "    action: allow",
        '  - names: [personality]\n    action: allow\n    args: ["arg0 == 0"]',
        "",
      ].join("\n"),
    );
    const r = await runCli("run", "--dry-run", "--json", "--policy", policy, "true", "x");
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.match(j.command, /\/true$/);
    assert.deepEqual(j.args, ["x"]);
    assert.ok(Number.isInteger(j.instructions) && j.instructions > 0);
    assert.equal(j.defaultAction, "errno EPERM");
    assert.equal(j.architectures[0].arch, "x86_64");
    const names = j.architectures[0].syscalls.map((s: { name: string }) => s.name);
    for (const n of ["read", "write", "exit_group", "personality"]) assert.ok(names.includes(n), n);
    const pers = j.architectures[0].syscalls.find((s: { name: string }) => s.name === "personality");
    assert.equal(pers.argumentRules, 1);
    assert.equal(j.syscallsWithRules, names.length);
    assert.ok(j.landlock, "a policy with a landlock: section has a plan");
    assert.equal(typeof j.landlock.abi, "number");
    assert.ok(Array.isArray(j.landlock.dropped));
    if (j.landlock.enforced.files)
      assert.ok(j.landlock.pathRules.some((p: { path: string }) => p.path === "/usr"));
    // the text dry run is unchanged
    const text = await runCli("run", "--dry-run", "--policy", policy, "true");
    assert.match(text.stdout, /^would run .* under \d+ instructions/);
  });

  it("run --json without --dry-run is a usage error (a run's stdout is the program's)", async () => {
    assert.throws(
      () => parseRunWords(["--json", "--policy", "p.yaml", "ls"]),
      (e: unknown) => e instanceof UsageError && /--json goes with --dry-run/.test(e.message),
    );
    assert.equal(parseRunWords(["--dry-run", "--json", "--policy", "p.yaml", "ls"]).args.json, true);
    const r = await runCli("run", "--json", "--policy", "p.yaml", "--", "true");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--json goes with --dry-run/);
  });
});
