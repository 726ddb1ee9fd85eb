// `report --diff OLD NEW`: what changed between two policies or profiles, as text, Markdown, JSON and a page.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const POLICY = `${REPO}examples/server-policy.yaml`;
const PROFILE = `${REPO}examples/demo-server/profile.json`;
const dir = mkdtempSync(join(tmpdir(), "sysfence-report-diff-"));
const OLD = join(dir, "old.yaml");
const NEW = join(dir, "new.yaml");
writeFileSync(
  OLD,
  'version: 1\ndefaultAction: kill-process\narchitectures: [x86_64]\nsyscalls:\n  - names: [read, write, exit_group, ptrace]\n    action: allow\n  - names: [openat]\n    action: allow\n    args: ["arg2 & O_CREAT == 0"]\n',
);
writeFileSync(
  NEW,
  "version: 1\ndefaultAction: kill-process\narchitectures: [x86_64]\nsyscalls:\n  - names: [read, write, exit_group, close]\n    action: allow\n  - names: [openat]\n    action: allow\n  - names: [bpf]\n    action: errno EPERM\n",
);

describe("report --diff", () => {
  it("names the calls opened, closed and changed, and the risky calls that moved", async () => {
    const r = await runCli("report", "--diff", OLD, NEW, "--json");
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    const by = Object.fromEntries(d.changes.map((c: { name: string; change: string }) => [c.name, c.change]));
    assert.deepEqual(by, { close: "opened", ptrace: "closed", openat: "changed", bpf: "changed" });
    assert.deepEqual(
      d.risky.map((k: { what: string; old: string; new: string }) => `${k.what}: ${k.old} → ${k.new}`),
      ["ptrace: allow → denied", "bpf: denied → errno"],
    );
    assert.equal(d.old.allowed, 5);
    assert.equal(d.new.allowed, 5);
    const text = await runCli("report", "--diff", OLD, NEW);
    assert.match(text.stdout, /1 opened, 1 closed, 2 with a changed answer/);
    assert.match(
      text.stdout,
      /^ {2}openat +allow when arg2 & O_CREAT == 0; otherwise kill-process → allow$/m,
    );
    const md = await runCli("report", "--diff", OLD, NEW, "--format", "md");
    assert.match(md.stdout, /^## opened \(1\)\n\* `close`: kill-process → allow$/m);
  });

  it("a page: the map marks each change by pattern, sign and word; tables have headers", async () => {
    const r = await runCli("report", "--diff", OLD, NEW, "--format", "html");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /<span class="c t-allow" title="3 close: opened: now allowed">\+close<\/span>/);
    assert.match(
      r.stdout,
      /<span class="c t-closed" title="101 ptrace: closed: no longer allowed">−ptrace<\/span>/,
    );
    assert.match(
      r.stdout,
      /<h2 class="changed"><span class="mark">~<\/span>Calls whose answer changed \(2\)<\/h2>/,
    );
    assert.match(r.stdout, /<thead><tr><th scope="col">call<\/th><th scope="col">before<\/th>/);
    assert.doesNotMatch(r.stdout, /<script|<link|src=|url\(/);
  });

  it("the same policy twice: no difference; a profile against the policy made from it", async () => {
    const same = await runCli("report", "--diff", POLICY, POLICY);
    assert.equal(same.code, 0);
    assert.match(same.stdout, /\n\nno difference\n$/);
    const mixed = await runCli("report", "--diff", PROFILE, POLICY, "--json");
    assert.equal(mixed.code, 0, mixed.stderr);
    assert.equal(JSON.parse(mixed.stdout).old.kind, "profile");
  });

  it("usage: --diff needs two inputs, two inputs need --diff", async () => {
    const one = await runCli("report", "--diff", POLICY);
    assert.equal(one.code, 2);
    assert.match(one.stderr, /report --diff needs two inputs: report --diff OLD NEW/);
    const two = await runCli("report", POLICY, POLICY);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /write report --diff /);
  });
});
