import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { heldBack, judge, policyAnswer } from "../../src/learn/judge.js";
import { fileOfUse, landlockRefuses } from "../../src/learn/landlock-judge.js";
import { Access } from "../../src/record/path-access.js";

const learn = { all: false, answerAsPolicy: false };

describe("what a learning run does with a notified call", () => {
  it("lets a call the policy refuses continue, and records it", () => {
    assert.deepEqual(judge("rename", { kind: "errno", data: 1 }, false, learn), {
      learned: "seccomp",
      answer: { kind: "continue" },
    });
  });
  it("answers the privilege class as the policy does (recorded), unless --learn-all", () => {
    for (const name of ["mount", "ptrace", "setuid", "init_module", "bpf", "unshare", "execve", undefined])
      assert.ok(heldBack(name), String(name));
    assert.ok(!heldBack("rename"));
    assert.deepEqual(judge("mount", { kind: "errno", data: 1 }, false, learn).answer, {
      kind: "errno",
      errno: 1,
    });
    assert.deepEqual(judge("mount", { kind: "kill-process" }, false, learn), {
      learned: "seccomp",
      answer: { kind: "kill" },
    });
    assert.deepEqual(
      judge("mount", { kind: "errno", data: 1 }, false, { all: true, answerAsPolicy: false }).answer,
      {
        kind: "continue",
      },
    );
  });
  it("--learn-answer policy answers everything as the policy (and Landlock refusals with EACCES)", () => {
    const strict = { all: false, answerAsPolicy: true };
    assert.deepEqual(judge("rename", { kind: "errno", data: 1 }, false, strict).answer, {
      kind: "errno",
      errno: 1,
    });
    assert.deepEqual(judge("openat", { kind: "allow" }, true, strict), {
      learned: "landlock",
      answer: { kind: "errno", errno: 13 },
    });
  });
  it("records nothing for a call both layers allow", () => {
    assert.deepEqual(judge("openat", { kind: "allow" }, false, learn), { answer: { kind: "continue" } });
  });
  it("gives the policy's answers as a supervisor can", () => {
    assert.deepEqual(policyAnswer({ kind: "trace", data: 1 }), { kind: "errno", errno: 38 });
    assert.deepEqual(policyAnswer({ kind: "log" }), { kind: "continue" });
    assert.deepEqual(policyAnswer({ kind: "trap", data: 0 }), { kind: "kill" });
  });
});

describe("what the Landlock layer would refuse", () => {
  const lists = {
    read: ["/etc"],
    write: ["/var/lib/app"],
    execute: ["/usr/bin/app"],
    devices: ["/dev/null"],
  };
  it("grants beneath each listed path, by list", () => {
    assert.ok(!landlockRefuses(lists, "/etc/passwd", Access.read));
    assert.ok(landlockRefuses(lists, "/etc/passwd", Access.write));
    assert.ok(landlockRefuses(lists, "/etcetera", Access.read), "a prefix is not a directory");
    assert.ok(!landlockRefuses(lists, "/var/lib/app/db", Access.read | Access.write | Access.create));
    assert.ok(landlockRefuses(lists, "/var/lib/other/db", Access.create));
    assert.ok(!landlockRefuses(lists, "/dev/null", Access.write));
    assert.ok(!landlockRefuses(lists, "/usr/bin/app", Access.exec));
    assert.ok(landlockRefuses(lists, "/usr/bin/sh", Access.exec));
  });
  it("never refuses metadata (Landlock does not confine it)", () => {
    assert.ok(!landlockRefuses(lists, "/root/secret", Access.meta));
  });
  it("creating an entry needs write beneath its directory, not the entry", () => {
    assert.ok(!landlockRefuses(lists, "/var/lib/app/new", Access.create));
    assert.ok(landlockRefuses({ ...lists, write: ["/var/lib/app/new"] }, "/var/lib/app/new", Access.create));
  });
});

describe("which file a use names for the file layer", () => {
  it("a socket address is no file, except a unix socket bound at a path", () => {
    assert.equal(fileOfUse("inet:127.0.0.1:2222", Access.create), undefined);
    assert.equal(fileOfUse("inet6:[::]:22", Access.create), undefined);
    assert.equal(fileOfUse("unix:@abstract", Access.create), undefined);
    assert.equal(fileOfUse("unix:/run/app.sock", Access.read), undefined, "a connect names no file right");
    assert.equal(fileOfUse("unix:/run/app.sock", Access.create), "/run/app.sock");
    assert.equal(fileOfUse("/etc/hosts", Access.read), "/etc/hosts");
  });
});
