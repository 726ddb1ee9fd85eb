import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { patchLearned } from "../../src/learn/patch-learned.js";
import { seccompPolicyFor } from "../../src/policy/landlock.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import type { Profile, SyscallCounts } from "../../src/record/profile.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { syscallNumber } from "../../src/syscalls/table.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-patch-learned-"));
mkdirSync(join(dir, "data", "sub", "deeper"), { recursive: true });
writeFileSync(join(dir, "data", "sub", "f"), "");

const learned = (
  syscalls: Record<string, SyscallCounts>,
  pathAccess: Record<string, string> = {},
): Profile => ({
  format: "sysfence-profile",
  version: 1,
  command: ["prog"],
  engine: { name: "learn" },
  arch: "x86_64",
  complete: true,
  syscalls,
  processes: [],
  paths: Object.fromEntries(Object.keys(pathAccess).map((p) => [p, 1])),
  pathAccess,
  signals: {},
});
const once = (args?: SyscallCounts["args"]): SyscallCounts => ({
  setup: 1,
  work: 0,
  errors: 0,
  ...(args ? { args } : {}),
});
const decide = (text: string, name: string, args: bigint[] = []) =>
  referenceDecide(seccompPolicyFor(parsePolicy(text, { file: "p.yaml" }).policy, true), {
    arch: ARCHES.x86_64.audit,
    nr: syscallNumber("x86_64", name) as number,
    args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6),
  }).kind;

const POLICY = `defaultAction: kill-process
architectures: [x86_64]
landlock:
  read: [/etc]
syscalls:
  - names: [read, write, openat]
    action: allow
    tier: seen
  - names: [chmod, rename]
    action: errno EPERM
    tier: static-high
  - names: [fcntl]
    action: allow
    args: ["arg1 == F_GETFD"]
    tier: seen
  - names: [fcntl]
    action: errno EPERM
    tier: argument-fallback
  - names: [clone3]
    action: errno ENOSYS
`;

describe("audit --patch with a learned profile", () => {
  it("gives up a static-high refusal for a learned call (the name leaves the rule, its partner stays refused)", () => {
    const p = patchLearned(POLICY, "p.yaml", learned({ chmod: once() }));
    assert.equal(decide(p.text, "chmod"), "allow");
    assert.equal(decide(p.text, "rename"), "errno", "the other name of that rule is still refused");
  });

  it("widens an argument rule by exactly the learned value", () => {
    const p = patchLearned(POLICY, "p.yaml", learned({ fcntl: once({ "1": { "3": 2 } }) }));
    assert.deepEqual(p.added, ["fcntl when arg1 == F_GETFL: allowed"]);
    assert.equal(decide(p.text, "fcntl", [0n, 3n]), "allow");
    assert.equal(decide(p.text, "fcntl", [0n, 4n]), "errno", "F_SETFL, never learned, still refused");
  });

  it("adds the setsockopt levels and options learned together, not every option learned at every level", () => {
    const setsockopt = {
      ...once({ "1": { "1": 1, "6": 1 }, "2": { "2": 1, "1": 1 } }),
      combos: { "1,2": 1, "6,1": 1 },
    };
    const p = patchLearned(POLICY, "p.yaml", learned({ setsockopt }));
    assert.equal(decide(p.text, "setsockopt", [3n, 1n, 2n]), "allow", "SOL_SOCKET, SO_REUSEADDR");
    assert.equal(decide(p.text, "setsockopt", [3n, 6n, 1n]), "allow", "IPPROTO_TCP, TCP_NODELAY");
    assert.notEqual(
      decide(p.text, "setsockopt", [3n, 1n, 1n]),
      "allow",
      "SOL_SOCKET, SO_DEBUG: never learned",
    );
    assert.equal(p.added.length, 2, p.added.join("; "));
  });

  it("leaves the privilege class for a person", () => {
    const p = patchLearned(POLICY, "p.yaml", learned({ mount: once() }));
    assert.equal(p.added.length, 0);
    assert.match(p.skipped[0].why, /decision for a person/);
  });

  it("never adds write to / as a whole, nor a forked process's own /proc/PID entry: left for a person", () => {
    const d = join(dir, "data");
    const p = patchLearned(
      POLICY,
      "p.yaml",
      learned({ openat: once() }, { "/gone-file": "c", [join(d, "x")]: "cw", "/proc/4242/loginuid": "rw" }),
    );
    assert.deepEqual(p.added, [`landlock write: ${d} (learned: cw)`], JSON.stringify([p.added, p.skipped]));
    assert.ok(
      p.skipped.some((s) => /created or removed in \//.test(s.what)),
      JSON.stringify(p.skipped),
    );
    assert.ok(p.skipped.some((s) => /^\/proc\/4242\/loginuid/.test(s.what) && /forked process/.test(s.why)));
    assert.ok(
      !/- \/\n|\[\/\]|\[\/,/.test(p.text.split("landlock:")[1]?.split("syscalls:")[0] ?? ""),
      "no / in the lists",
    );
  });

  it("starts a Landlock list generate left out, with the fewest paths (nothing beneath a directory added)", () => {
    const d = join(dir, "data");
    const p = patchLearned(
      POLICY,
      "p.yaml",
      learned(
        { openat: once() },
        {
          [join(d, "new")]: "cw",
          [join(d, "sub", "g")]: "cw",
          [join(d, "sub", "f")]: "rw",
          [join(d, "sub", "deeper")]: "r",
          "/nonexistent/probe": "r",
          "/usr/bin/nonexistent-tool": "x",
        },
      ),
    );
    assert.deepEqual(p.added, [`landlock write: ${d} (learned: cw)`], p.text);
    const again = parsePolicy(p.text, { file: "p.yaml" }).policy;
    assert.deepEqual(
      again.landlock?.write.map((x) => x.path),
      [d],
    );
    assert.deepEqual(
      again.landlock?.read.map((x) => x.path),
      ["/etc"],
      "a file that does not exist adds nothing",
    );
  });

  it("refuses a policy format that cannot hold what was learned", () => {
    assert.throws(
      () => patchLearned("[Service]\nSystemCallFilter=read\n", "x.service", learned({ uname: once() })),
      /sysfence policies/,
    );
  });
});
