import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as O from "../../src/abi/opcodes.js";
import type { Insn } from "../../src/bpf/insn.js";
import { compile } from "../../src/compile/compile.js";
import { SysfenceError } from "../../src/errors.js";
import type { Action, Condition, Policy, Rule } from "../../src/policy/model.js";
import type { ArchName } from "../../src/syscalls/arches.js";
import { EDGE_POLICIES, example, policyFrom } from "../helpers/policies.js";
import { exhaustiveQueries, findMismatches } from "../helpers/queries.js";

function assertAgrees(policy: Policy, label: string): number {
  const { program } = compile(policy, { stats: false });
  const { mismatches, checked } = findMismatches(policy, program, exhaustiveQueries(policy));
  assert.deepEqual(mismatches, [], `${label}: emulated BPF disagrees with the reference`);
  return checked;
}

describe("compiled BPF == reference semantics, exhaustively", () => {
  it("Docker's default profile (x86_64 + i386 + x32)", () => {
    const checked = assertAgrees(example("docker-default.json"), "docker");
    assert.ok(checked > 3000, `only ${checked} queries`);
  });
  it("the example server policy", () => {
    assertAgrees(example("server-policy.yaml"), "server");
  });
  for (const [name, text] of Object.entries(EDGE_POLICIES)) {
    it(`edge policy: ${name}`, () => {
      assertAgrees(policyFrom(text), name);
    });
  }
});

const SYSCALLS = [
  "read",
  "write",
  "ioctl",
  "openat",
  "lseek",
  "socket",
  "clone",
  "mmap",
  "mprotect",
  "fcntl",
  "kill",
  "personality",
  "prctl",
  "getpid",
  "futex",
  "dup2",
  "setsockopt",
  "umask",
];
const ACTIONS: Action[] = [
  { kind: "allow" },
  { kind: "kill-process" },
  { kind: "kill-thread" },
  { kind: "errno", data: 1 },
  { kind: "errno", data: 13 },
  { kind: "trap", data: 7 },
  { kind: "log" },
  { kind: "trace", data: 2 },
];
const VALUES = [
  0n,
  1n,
  2n,
  3n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  0x100000005n,
  -1n,
  -100n,
  1n << 63n,
  0x5421n,
];

const conditionArb = fc.record({
  arg: fc.integer({ min: 0, max: 5 }),
  op: fc.constantFrom("==", "!=", "<", "<=", ">", ">=", "&==") as fc.Arbitrary<Condition["op"]>,
  value: fc.oneof(fc.constantFrom(...VALUES), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
  mask: fc.constantFrom(0xffn, 0xff00n, 0xffffffffn, 0xffffffff00000000n, 0x80000000n, 1n << 63n),
});
const ruleArb = fc.record({
  names: fc.subarray(SYSCALLS, { minLength: 1, maxLength: 3 }),
  action: fc.constantFrom(...ACTIONS),
  conditions: fc.array(conditionArb, { maxLength: 3 }),
});
const policyArb = fc.record({
  defaultAction: fc.constantFrom(...ACTIONS),
  badArchAction: fc.constantFrom<Action>({ kind: "kill-process" }, { kind: "errno", data: 38 }),
  architectures: fc.subarray<ArchName>(["x86_64", "i386", "x32", "aarch64"], { minLength: 1 }),
  rules: fc.array(ruleArb, { minLength: 1, maxLength: 8 }),
});

/** A random policy, or undefined when it is invalid (values that do not fit a 32-bit argument, conflicts). */
export function compilable(p: Policy): Insn[] | undefined {
  try {
    return compile(p, { stats: false }).program;
  } catch (e) {
    if (e instanceof SysfenceError && e.code === "E_POLICY_INVALID") return undefined;
    throw e;
  }
}

describe("random policies (property-based)", () => {
  it("emulated BPF == reference for every query", () => {
    let compiled = 0;
    fc.assert(
      fc.property(policyArb, (raw) => {
        const policy: Policy = {
          ...raw,
          rules: raw.rules.map((r) => ({
            ...r,
            conditions: r.conditions.map((c) => (c.op === "&==" ? c : { ...c, mask: undefined })),
          })) as Rule[],
        };
        const program = compilable(policy);
        if (!program) return true;
        compiled++;
        const { mismatches } = findMismatches(policy, program, exhaustiveQueries(policy), 1);
        assert.deepEqual(mismatches, []);
        return true;
      }),
      { numRuns: 60, seed: 20261122 },
    );
    assert.ok(compiled > 10, `only ${compiled} random policies compiled`);
  });
});

describe("the checks catch a broken compiler", () => {
  const policy = policyFrom(EDGE_POLICIES.multiArch);
  const good = compile(policy, { stats: false }).program;

  it("comparing only the low half of 64-bit arguments", () => {
    // Replace every load of an argument's high word with "A = 0": the compiler then compares low halves only.
    const broken = good.map(
      (i): Insn =>
        i.code === (O.BPF_LD | O.BPF_W | O.BPF_ABS) && i.k >= 16 && (i.k - 16) % 8 === 4
          ? { code: O.BPF_LD | O.BPF_IMM, jt: 0, jf: 0, k: 0 }
          : i,
    );
    const { mismatches } = findMismatches(policy, broken, exhaustiveQueries(policy));
    assert.ok(mismatches.length > 0, "a low-half-only compiler went unnoticed");
  });
  it("an off-by-one ordered comparison (jgt emitted as jge)", () => {
    const broken = good.map(
      (i, pc): Insn =>
        pc > 10 && i.code === (O.BPF_JMP | O.BPF_JGT | O.BPF_K)
          ? { ...i, code: O.BPF_JMP | O.BPF_JGE | O.BPF_K }
          : i,
    );
    const { mismatches } = findMismatches(policy, broken, exhaustiveQueries(policy));
    assert.ok(mismatches.length > 0, "an off-by-one went unnoticed");
  });
  it("a missing architecture check", () => {
    const broken = good.map((i, pc): Insn => (pc === 1 ? { ...i, jf: i.jt } : i));
    const { mismatches } = findMismatches(policy, broken, exhaustiveQueries(policy));
    assert.ok(mismatches.length > 0, "a skipped arch check went unnoticed");
  });
});
