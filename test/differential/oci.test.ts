import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Insn } from "../../src/bpf/insn.js";
import { compile } from "../../src/compile/compile.js";
import { SysfenceError } from "../../src/errors.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { haveLibseccomp } from "../helpers/libseccomp.js";
import { firstDifference, ociProfileArb, oracleQueries, runcPrograms } from "../helpers/oci-oracle.js";
import { requireOrSkip } from "../helpers/require.js";

const skip = requireOrSkip(haveLibseccomp(), "libseccomp (python3-seccomp)");

/** Reads an OCI profile text with sysfence; the program, or why it was refused. */
function ours(text: string): { program?: Insn[]; refused?: string } {
  try {
    return {
      program: compile(parsePolicy(text, { file: "p.json", arch: "x86_64" }).policy, { stats: false })
        .program,
    };
  } catch (e) {
    if (e instanceof SysfenceError) return { refused: e.message };
    throw e;
  }
}

describe("differential: OCI profiles mean to sysfence what they mean to libseccomp (runc)", { skip }, () => {
  it("hand-made cases from the issue decide as libseccomp does", () => {
    const cases = [
      // value bits outside the mask: libseccomp compares (arg & mask) == (value & mask)
      {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          {
            names: ["ioctl"],
            action: "SCMP_ACT_ERRNO",
            args: [{ index: 1, value: 0xff, valueTwo: 0x5412, op: "SCMP_CMP_MASKED_EQ" }],
          },
        ],
      },
      // mask 0 always matches
      {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          {
            names: ["read"],
            action: "SCMP_ACT_ERRNO",
            errnoRet: 9,
            args: [{ index: 0, value: 0, valueTwo: 1, op: "SCMP_CMP_MASKED_EQ" }],
          },
        ],
      },
      // an unconditional rule wins over a conditional one, in either order
      {
        defaultAction: "SCMP_ACT_KILL_PROCESS",
        syscalls: [
          { names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }] },
          { names: ["read"], action: "SCMP_ACT_ERRNO" },
        ],
      },
      // i386: socket and shmat also govern socketcall/ipc
      {
        defaultAction: "SCMP_ACT_ERRNO",
        architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        syscalls: [
          { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 2, op: "SCMP_CMP_EQ" }] },
          { names: ["shmat", "accept4"], action: "SCMP_ACT_KILL_PROCESS" },
        ],
      },
      // a rule equal to the default is dropped; ERRNO without errnoRet is EPERM even with defaultErrnoRet
      {
        defaultAction: "SCMP_ACT_ERRNO",
        defaultErrnoRet: 38,
        syscalls: [
          { names: ["getpid"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
          { names: ["read"], action: "SCMP_ACT_ERRNO" },
          { names: ["lseek"], action: "SCMP_ACT_ALLOW" },
        ],
      },
      // signed int argument compared unsigned
      {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          { names: ["socket"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, value: 5, op: "SCMP_CMP_GT" }] },
        ],
      },
    ];
    const texts = cases.map((c) => JSON.stringify(c));
    const theirs = runcPrograms(texts);
    texts.forEach((t, i) => {
      const o = ours(t);
      const th = theirs[i];
      assert.ok(o.program, `case ${i} refused: ${o.refused}`);
      assert.ok("program" in th, `libseccomp failed on case ${i}`);
      const diff = firstDifference(o.program, th.program, oracleQueries(cases[i], i + 1));
      assert.equal(diff, undefined, `case ${i}: ${diff}`);
    });
  });

  it("overlapping conditional rules with different actions are refused with the call they disagree on", () => {
    const steps = [128, 256, 512, 1024].map((t, i) => ({
      names: ["read"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 5 + i,
      args: [{ index: 2, value: t, op: "SCMP_CMP_GT" }],
    }));
    const o = ours(JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: steps }));
    assert.ok(o.refused);
    assert.match(o.refused, /two rules for read answer read\(arg2=257\) differently/);
    assert.match(o.refused, /p\.json:1:\d+/);
  });

  it("generated profiles: every accepted one decides as libseccomp; refusals are only overlaps", () => {
    const profiles = fc.sample(ociProfileArb(), { numRuns: 300, seed: 20261130 });
    const texts = profiles.map((p) => JSON.stringify(p));
    const theirs = runcPrograms(texts);
    let accepted = 0;
    texts.forEach((t, i) => {
      const o = ours(t);
      if (o.refused !== undefined) {
        assert.match(
          o.refused,
          /answer .* differently|conflicting actions/,
          `profile ${i}: ${o.refused}\n${t}`,
        );
        return;
      }
      accepted++;
      const th = theirs[i];
      assert.ok(
        "program" in th,
        `libseccomp refused profile ${i} that sysfence accepted: ${"error" in th ? th.error : ""}\n${t}`,
      );
      const diff = firstDifference(o.program!, th.program, oracleQueries(profiles[i], i + 7));
      assert.equal(diff, undefined, `profile ${i}: ${diff}\n${t}`);
    });
    assert.ok(accepted > 100, `only ${accepted} of 300 accepted`);
  });
});
