import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type Cube,
  complementCubes,
  cubeOf,
  fallbackComplement,
  libseccompPlans,
  MAX_COMPLEMENT_TOTAL,
  withoutArgumentFallbacks,
} from "../../src/export/complement.js";
import { planSyscalls } from "../../src/export/shared.js";
import { policyFrom } from "../helpers/policies.js";

const matches = (c: Cube, args: bigint[]) => c.every((x, i) => (args[i] & x.mask) === x.value);
const cube = (parts: Partial<Record<number, [bigint, bigint]>>): Cube =>
  Array.from({ length: 6 }, (_, i) =>
    parts[i] ? { mask: parts[i][0], value: parts[i][1] } : { mask: 0n, value: 0n },
  );

/** Every (arg0, arg1) with both below 2^bits: matched by some cube exactly when matched by no block. */
function assertExactComplement(cubes: Cube[], blocks: Cube[], bits: number): void {
  for (let a = 0n; a < 1n << BigInt(bits); a++)
    for (let b = 0n; b < 1n << BigInt(bits); b++) {
      const args = [a, b, 0n, 0n, 0n, 0n];
      const allowed = cubes.some((c) => matches(c, args));
      const refused = blocks.some((c) => matches(c, args));
      assert.notEqual(allowed, refused, `(${a}, ${b}): allowed ${allowed}, refused ${refused}`);
    }
}

describe("export: the complement of argument rules as masked rules", () => {
  it("random masked equalities on two 5-bit arguments: the blocks are exactly the other values", () => {
    const part = fc
      .tuple(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 31 }))
      .map(([m, v]) => [BigInt(m), BigInt(v & m)] as [bigint, bigint]);
    const cubeArb = fc
      .record({ a0: fc.option(part), a1: fc.option(part) })
      .map(({ a0, a1 }) => cube({ ...(a0 ? { 0: a0 } : {}), ...(a1 ? { 1: a1 } : {}) }));
    fc.assert(
      fc.property(fc.array(cubeArb, { minLength: 1, maxLength: 8 }), (cubes) => {
        const blocks = complementCubes(cubes, 10_000);
        assert.ok(blocks);
        assertExactComplement(cubes, blocks, 5);
      }),
      { numRuns: 200, seed: 28 },
    );
  });

  it("a value list on a 32-bit argument: few rules, upper bits beyond the list's mask ignored", () => {
    const values = [1n, 3n, 4n, 1030n, 1033n, 1034n];
    const cubes = values.map((v) => cube({ 1: [0xffffffffn, v] }));
    const blocks = complementCubes(cubes);
    assert.ok(blocks && blocks.length <= 40, `${blocks?.length} blocks`);
    for (const b of blocks) assert.equal(b[1].mask & ~0xffffffffn, 0n, "only the low 32 bits are compared");
    const probe = [0n, 2n, 5n, 1029n, 1031n, 0x80000000n, 0xffffffffn, ...values];
    for (const v of probe)
      for (const high of [0n, 0xdead00000000n]) {
        const args = [0n, v | high, 0n, 0n, 0n, 0n];
        assert.notEqual(
          cubes.some((c) => matches(c, args)),
          blocks.some((c) => matches(c, args)),
          `value 0x${(v | high).toString(16)}`,
        );
      }
  });

  it("over the limit: undefined (the caller keeps the old answer and says so)", () => {
    const cubes = Array.from({ length: 40 }, (_, i) => cube({ 1: [0xffffffffn, BigInt(i * 0x01010101)] }));
    assert.equal(complementCubes(cubes, 8), undefined);
  });

  it("a generated shape: fcntl and socket argument rules beside EPERM get errno rules and keep no unconditional one", () => {
    const p = policyFrom(`defaultAction: kill-process
architectures: [x86_64]
syscalls:
  - name: fcntl
    action: allow
    args: ["arg1 == F_GETFL"]
  - name: fcntl
    action: errno EPERM
    tier: argument-fallback
  - name: socket
    action: allow
    args: ["arg0 == AF_UNIX", "arg1 & 0xf == SOCK_STREAM"]
  - name: socket
    action: allow
    args: ["arg0 == AF_INET", "arg1 & 0xf == SOCK_DGRAM"]
  - name: socket
    action: errno EPERM
    tier: argument-fallback
  - name: lseek
    action: allow
    args: ["arg1 <= 4096"]
  - name: lseek
    action: errno EPERM
    tier: argument-fallback
`);
    const fcntl = cubeOf(p, p.rules[0]);
    assert.deepEqual(fcntl?.[1], { mask: 0xffffffffn, value: 3n }, "int argument: the low 32 bits");
    const plans = libseccompPlans(p);
    const socket = plans.find((x) => x.name === "socket")!;
    assert.ok(socket.complement && socket.complement.length > 0);
    for (const r of socket.complement) assert.deepEqual(r.action, { kind: "errno", data: 1 });
    // lseek's <= is not a masked equality: no complement, and the fallback is dropped as before, with the reason
    assert.equal(plans.find((x) => x.name === "lseek")?.complement, undefined);
    const kept = withoutArgumentFallbacks(p);
    assert.deepEqual(kept.dropped, ["lseek"]);
    assert.match(kept.why.lseek, /not all equalities/);
    const lseek = planSyscalls(p).find((x) => x.name === "lseek")!;
    assert.ok("reason" in fallbackComplement(p, lseek));
  });

  it("over the policy's budget: the largest complements are left out, each named with the reason", () => {
    const values = [0x5401, 0x80045430, 0x40045431, 0x5421, 0x1234, 0xabcdef, 0x7fff0001, 0x100];
    const names = ["fcntl", "ioctl", "kill", "setns", "shutdown", "flock"];
    let text = "defaultAction: kill-process\narchitectures: [x86_64]\nsyscalls:\n";
    for (const n of names) {
      for (const v of values) text += `  - name: ${n}\n    action: allow\n    args: ["arg1 == ${v}"]\n`;
      text += `  - name: ${n}\n    action: errno EPERM\n    tier: argument-fallback\n`;
    }
    const p = policyFrom(text);
    const plans = libseccompPlans(p).filter((x) => x.conditional.length);
    const carried = plans.filter((x) => x.complement);
    const total = carried.reduce((n, x) => n + (x.complement?.length ?? 0), 0);
    assert.ok(carried.length >= 3 && carried.length < names.length, `${carried.length} carried`);
    assert.ok(total <= MAX_COMPLEMENT_TOTAL, `${total} rules`);
    const kept = withoutArgumentFallbacks(p);
    assert.equal(kept.dropped.length, names.length - carried.length);
    for (const n of kept.dropped) assert.match(kept.why[n], /together would take more than 640/);
  });

  it("k8s: a complement that needs bit 63 of a 64-bit argument is left out (the CRD holds int64), OCI keeps it", () => {
    const p = policyFrom(
      'defaultAction: kill-process\narchitectures: [x86_64]\nsyscalls:\n  - name: unshare\n    action: allow\n    args: ["arg0 == 0"]\n  - name: unshare\n    action: errno EPERM\n    tier: argument-fallback\n',
    );
    assert.ok(libseccompPlans(p).find((x) => x.name === "unshare")?.complement);
    assert.deepEqual(withoutArgumentFallbacks(p).dropped, []);
    const k8s = withoutArgumentFallbacks(p, { int63: true });
    assert.deepEqual(k8s.dropped, ["unshare"]);
    assert.match(k8s.why.unshare, /bit 63 .* int64/);
    assert.equal(
      libseccompPlans(p, { int63: true }).find((x) => x.name === "unshare")?.complement,
      undefined,
    );
  });

  it("i386 beside x86_64: socket's complement is left out (libseccomp would write it on socketcall and refuse the filter)", () => {
    const p = policyFrom(
      'defaultAction: kill-process\narchitectures: [x86_64, i386]\nsyscalls:\n  - name: socket\n    action: allow\n    args: ["arg0 == AF_UNIX"]\n  - name: socket\n    action: errno EPERM\n    tier: argument-fallback\n  - name: ioctl\n    action: allow\n    args: ["arg1 == TCGETS"]\n  - name: ioctl\n    action: errno EPERM\n    tier: argument-fallback\n',
    );
    const kept = withoutArgumentFallbacks(p);
    assert.deepEqual(kept.dropped, ["socket"]);
    assert.match(kept.why.socket, /i386 .*socketcall/);
    assert.ok(libseccompPlans(p).find((x) => x.name === "ioctl")?.complement);
  });
});
