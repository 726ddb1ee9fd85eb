import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { actionValue } from "../../src/abi/action.js";
import { Emulator, packSeccompData } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import type { Action, Condition, Policy, Rule } from "../../src/policy/model.js";
import { ARCHES, type ArchName } from "../../src/syscalls/arches.js";
import { argWidth } from "../../src/syscalls/args.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { buildWithLibseccomp, haveLibseccomp } from "../helpers/libseccomp.js";
import { example, policyFrom } from "../helpers/policies.js";
import { BOUNDARY_VALUES, numbersFor } from "../helpers/queries.js";
import { requireOrSkip } from "../helpers/require.js";

const skip = requireOrSkip(haveLibseccomp(), "libseccomp (python3-seccomp)");

/**
 * Compares sysfence's program with libseccomp's for the same policy on queries where the two are meant
 * to agree: libseccomp compares all 64 bits of every argument, so 32-bit arguments are asked with clean
 * upper halves and values below 2^31 (sysfence's stricter reading is tested against the kernel instead).
 */
function compare(policy: Policy, extraValues: bigint[] = []): number {
  const ours = new Emulator(compile(policy, { stats: false }).program);
  const { program, skipped, unknown } = buildWithLibseccomp(policy);
  const theirs = new Emulator(program);
  const skippedNrs = new Set<string>();
  let checked = 0;
  for (const arch of policy.architectures) {
    const info = ARCHES[arch];
    for (const s of [...skipped, ...(unknown[arch] ?? [])]) {
      const nr = syscallNumber(arch, s);
      if (nr !== undefined) skippedNrs.add(`${arch}:${nr}`);
    }
    const names = new Set(policy.rules.flatMap((r) => r.names));
    const values = [
      ...BOUNDARY_VALUES,
      ...extraValues,
      ...policy.rules.flatMap((r) => r.conditions.flatMap((c) => [c.value - 1n, c.value, c.value + 1n])),
    ];
    const nrs = numbersFor(arch).filter((n) => n < 0x3fffffff || arch === "x32");
    for (const nr of nrs) {
      if (skippedNrs.has(`${arch}:${nr}`)) continue;
      const queries: bigint[][] = [[]];
      const name = [...names].find((n) => syscallNumber(arch, n) === nr);
      if (name) {
        for (let i = 0; i < 6; i++) {
          // libseccomp treats x32 as a 32-bit ABI and compares only low words there; sysfence compares what the
          // 64-bit kernel entry reads. Ask x32 and i386 with clean upper halves.
          const narrow = argWidth(name, i, arch).bits < 64 || info.bits === 32 || arch === "x32";
          for (const v of values) {
            const u = BigInt.asUintN(64, v);
            if (narrow && u >= 1n << 31n) continue;
            const args = [0n, 0n, 0n, 0n, 0n, 0n];
            args[i] = u;
            queries.push(args);
          }
        }
      }
      for (const args of queries) {
        const data = packSeccompData({ nr, arch: info.audit, args }, info.littleEndian);
        const a = ours.runWords(data).value;
        const b = theirs.runWords(data).value;
        checked++;
        if (a !== b)
          assert.fail(
            `${arch} nr ${nr} args ${args.join(",")}: sysfence 0x${a.toString(16)} vs libseccomp 0x${b.toString(16)}`,
          );
      }
    }
  }
  return checked;
}

describe("differential: sysfence vs libseccomp on the same policy", { skip }, () => {
  it("Docker's default profile", () => {
    const checked = compare(example("docker-default.json"));
    assert.ok(checked > 1000);
  });
  it("the example server policy", () => {
    compare(example("server-policy.yaml"));
  });
  it("names with their own value on ppc64le (TCGETS, FIONREAD) resolve alike in both", () => {
    const ppc = policyFrom(
      'defaultAction: errno EPERM\narchitectures: [ppc64le]\nsyscalls:\n  - name: ioctl\n    action: allow\n    args: ["arg1 == TCGETS"]\n  - name: ioctl\n    action: allow\n    args: ["arg1 == FIONREAD"]\n',
    );
    // ppc64le's numbers beside x86_64's (which the conditions hold as parsed): only the former are allowed
    const checked = compare(ppc, [0x403c7413n, 0x4004667fn]);
    assert.ok(checked > 300);
    const ours = new Emulator(compile(ppc, { stats: false }).program);
    const ioctl = (request: bigint) =>
      ours.runWords(
        packSeccompData(
          {
            nr: syscallNumber("ppc64le", "ioctl") as number,
            arch: ARCHES.ppc64le.audit,
            args: [1n, request, 0n, 0n, 0n, 0n],
          },
          ARCHES.ppc64le.littleEndian,
        ),
      ).value;
    assert.equal(ioctl(0x403c7413n), actionValue({ kind: "allow" }));
    assert.notEqual(ioctl(0x5401n), actionValue({ kind: "allow" }), "x86_64's TCGETS");
    assert.throws(
      () => buildWithLibseccomp({ ...ppc, architectures: ["x86_64", "ppc64le"] }),
      /means different values on x86_64, ppc64le/,
    );
  });

  // Shapes both engines define the same way: per syscall either one unconditional rule or conditional
  // rules sharing one action; no rule action equal to the default (libseccomp refuses those).
  const NAMES = [
    "read",
    "write",
    "ioctl",
    "lseek",
    "socket",
    "mmap",
    "fcntl",
    "kill",
    "getpid",
    "futex",
    "dup2",
    "prctl",
    "mprotect",
    "madvise",
  ];
  const ACTIONS: Action[] = [
    { kind: "allow" },
    { kind: "errno", data: 1 },
    { kind: "errno", data: 13 },
    { kind: "kill-process" },
    { kind: "trap", data: 0 },
    { kind: "log" },
  ];
  const cond = fc.record({
    arg: fc.integer({ min: 0, max: 5 }),
    op: fc.constantFrom("==", "!=", "<", "<=", ">", ">=", "&==") as fc.Arbitrary<Condition["op"]>,
    value: fc.oneof(
      fc.constantFrom(0n, 1n, 2n, 3n, 0x5421n, 0x7ffffffen, 0x7fffffffn),
      fc.bigInt({ min: 0n, max: 0x7fffffffn }),
    ),
    mask: fc.constantFrom(0xffn, 0xff00n, 0x7fffffffn, 0x10000n),
  });
  const perSyscall = fc.record({
    action: fc.constantFrom(...ACTIONS),
    conds: fc.array(fc.array(cond, { minLength: 1, maxLength: 2 }), { maxLength: 3 }),
  });
  const arb = fc.record({
    defaultAction: fc.constantFrom<Action>(
      { kind: "kill-process" },
      { kind: "errno", data: 38 },
      { kind: "trap", data: 0 },
    ),
    architectures: fc.subarray<ArchName>(["x86_64", "i386", "x32"], { minLength: 1 }),
    chosen: fc.dictionary(fc.constantFrom(...NAMES), perSyscall, { maxKeys: 8 }),
  });
  it("random policies agree on boundary and random queries", () => {
    let compared = 0;
    fc.assert(
      fc.property(arb, (raw) => {
        const rules: Rule[] = [];
        for (const [name, s] of Object.entries(raw.chosen)) {
          if (actionValue(s.action) === actionValue(raw.defaultAction)) continue;
          if (s.conds.length === 0) rules.push({ names: [name], action: s.action, conditions: [] });
          for (const cs of s.conds) {
            const distinct = cs.filter((c, i) => cs.findIndex((d) => d.arg === c.arg) === i);
            rules.push({
              names: [name],
              action: s.action,
              conditions: distinct.map((c) =>
                c.op === "&==" ? { ...c, value: c.value & c.mask } : { ...c, mask: undefined },
              ),
            });
          }
        }
        if (rules.length === 0) return true;
        const policy: Policy = {
          defaultAction: raw.defaultAction,
          badArchAction: { kind: "kill-process" },
          architectures: raw.architectures,
          rules,
        };
        compare(policy);
        compared++;
        return true;
      }),
      { numRuns: 25, seed: 4242 },
    );
    assert.ok(compared >= 10);
  });
});
