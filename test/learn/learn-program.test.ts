import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeActionValue } from "../../src/abi/action.js";
import { SECCOMP_RET_ACTION_FULL, SECCOMP_RET_USER_NOTIF } from "../../src/abi/seccomp-data.js";
import { Emulator } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import { isDeliberate, learningPolicy, learningProgram } from "../../src/learn/learn-program.js";
import type { Policy } from "../../src/policy/model.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { buildWithLibseccomp, haveLibseccomp } from "../helpers/libseccomp.js";
import { requireOrSkip } from "../helpers/require.js";

const X = ARCHES.x86_64.audit;
const nr = (n: string) => syscallNumber("x86_64", n) as number;
const A = (...args: bigint[]) => [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6);

/** A pinned policy as generate writes one: seen calls, an argument rule, its fallback, a static EPERM, deliberate ENOSYS. */
const POLICY: Policy = {
  defaultAction: { kind: "kill-process" },
  badArchAction: { kind: "kill-process" },
  architectures: ["x86_64"],
  flags: ["log"],
  rules: [
    { names: ["clone3"], action: { kind: "errno", data: 38 }, conditions: [] },
    {
      names: ["read", "write", "execve", "exit_group"],
      action: { kind: "allow" },
      conditions: [],
      tier: "seen",
    },
    {
      names: ["fcntl"],
      action: { kind: "allow" },
      conditions: [{ arg: 1, op: "==", value: 1n }],
      tier: "seen",
    },
    { names: ["fcntl"], action: { kind: "errno", data: 1 }, conditions: [], tier: "argument-fallback" },
    { names: ["rename"], action: { kind: "errno", data: 1 }, conditions: [], tier: "static-high" },
    { names: ["sync"], action: { kind: "log" }, conditions: [], tier: "seen" },
  ],
};

const decide = (program: ReturnType<typeof learningProgram>, name: string, args = A()) =>
  new Emulator(program).run({ nr: nr(name), arch: X, args }).value;

describe("the learning filter", () => {
  const body = compile(learningPolicy(POLICY), { stats: false }).program;
  const program = learningProgram(body, X, [nr("execve"), nr("openat")]);

  it("lets through what the policy allows, and notifies what it would refuse or log", () => {
    assert.equal(decide(program, "read"), 0x7fff0000);
    assert.equal(decide(program, "fcntl", A(0n, 1n)), 0x7fff0000, "the allowed value");
    for (const [name, args] of [
      ["fcntl", A(0n, 3n)], // a value outside the argument rule (argument-fallback EPERM)
      ["rename", A()], // static high-risk EPERM
      ["uname", A()], // the default action
      ["sync", A()], // a log rule
    ] as const)
      assert.equal(decide(program, name, args), SECCOMP_RET_USER_NOTIF, name);
  });

  it("keeps deliberate answers (a refusal written without a tier) in the filter", () => {
    assert.ok(isDeliberate(POLICY.rules[0]));
    assert.ok(!isDeliberate(POLICY.rules[3]));
    assert.deepEqual(decodeActionValue(decide(program, "clone3")), { kind: "errno", data: 38 });
  });

  it("notifies the prologue's calls first, whatever the policy says (execve, the file calls)", () => {
    assert.equal(decide(program, "execve"), SECCOMP_RET_USER_NOTIF, "allowed by the policy, still notified");
    assert.equal(decide(program, "openat"), SECCOMP_RET_USER_NOTIF);
    // another architecture's call with the same number is not the prologue's
    const i386 = new Emulator(program).run({ nr: nr("execve"), arch: ARCHES.i386.audit }).value;
    assert.equal(
      (i386 & SECCOMP_RET_ACTION_FULL) >>> 0,
      SECCOMP_RET_USER_NOTIF,
      "bad arch: notified (the policy kills)",
    );
  });

  it("installs no log flag (nothing of a learning run goes to the kernel log)", () => {
    assert.equal(learningPolicy(POLICY).flags, undefined);
  });

  it("decides like libseccomp on the same learning policy", {
    skip: requireOrSkip(haveLibseccomp(), "libseccomp"),
  }, () => {
    const policy = learningPolicy({ ...POLICY, flags: undefined });
    const theirs = new Emulator(buildWithLibseccomp(policy).program);
    const ours = new Emulator(body);
    let checked = 0;
    for (const name of ["read", "fcntl", "rename", "uname", "sync", "clone3", "execve", "getpid"])
      for (const v of [0n, 1n, 2n, 3n, 0xffffffffn])
        for (const arg of [0, 1]) {
          const args = A();
          args[arg] = v;
          const q = { nr: nr(name), arch: X, args };
          assert.equal(ours.run(q).value, theirs.run(q).value, `${name} arg${arg}=${v}`);
          checked++;
        }
    assert.ok(checked > 50);
  });
});
