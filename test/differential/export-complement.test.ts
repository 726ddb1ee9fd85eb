// A generated policy's "these values; any other: EPERM" exported for libseccomp engines: the OCI profile, compiled
// by libseccomp as runc compiles it, and read back by sysfence, decides every call as sysfence's own compiler
// decides the policy — the allowed values allowed, every other value EPERM, nothing killed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { actionValue } from "../../src/abi/action.js";
import { Emulator, packSeccompData } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import { MAX_COMPLEMENT_RULES } from "../../src/export/complement.js";
import { exportPolicy } from "../../src/export/export.js";
import type { Policy } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { buildWithLibseccomp, haveLibseccomp } from "../helpers/libseccomp.js";
import { runcPrograms } from "../helpers/oci-oracle.js";
import { policyFrom } from "../helpers/policies.js";
import { requireOrSkip } from "../helpers/require.js";

const skip = requireOrSkip(haveLibseccomp(), "libseccomp (python3-seccomp)");

const allow = (name: string, args: string[]) =>
  `  - name: ${name}\n    action: allow\n    args: [${args.map((a) => JSON.stringify(a)).join(", ")}]\n`;
const fallback = (name: string) =>
  `  - name: ${name}\n    action: errno EPERM\n    tier: argument-fallback\n`;

/** The shapes `sysfence generate` writes (sqlite3's policy, shortened): value lists, masked pairs, forbidden bits. */
const GENERATED = policyFrom(
  `defaultAction: kill-process
architectures: [x86_64]
flags: [log]
syscalls:
  - name: read
    action: allow
${[
  "F_DUPFD",
  "F_DUPFD_CLOEXEC",
  "F_GETFD",
  "F_SETFD",
  "F_GETFL",
  "F_SETFL",
  "F_GETLK",
  "F_SETLK",
  "F_SETLKW",
  "F_OFD_GETLK",
  "F_OFD_SETLK",
  "F_GETOWN",
  "F_GETPIPE_SZ",
  "F_ADD_SEALS",
  "F_GET_SEALS",
]
  .map((v) => allow("fcntl", [`arg1 == ${v}`]))
  .join("")}${fallback("fcntl")}${[
  "TCGETS",
  "TCSETS",
  "TIOCGWINSZ",
  "TIOCGPGRP",
  "TIOCGPTN",
  "TIOCSPTLCK",
  "FIONREAD",
  "FIONBIO",
  "FIOCLEX",
]
  .map((v) => allow("ioctl", [`arg1 == ${v}`]))
  .join(
    "",
  )}${fallback("ioctl")}${allow("socket", ["arg0 == AF_UNIX", "arg1 & 0xf == SOCK_STREAM"])}${allow("socket", ["arg0 == AF_INET", "arg1 & 0xf == SOCK_STREAM"])}${allow("socket", ["arg0 == AF_INET6", "arg1 & 0xf == SOCK_DGRAM"])}${fallback("socket")}${allow("clone", ["arg0 & 0x7e020000 == 0"])}${fallback("clone")}${allow("mprotect", ["arg2 & PROT_EXEC == 0"])}${fallback("mprotect")}`,
);

const NAMES = ["fcntl", "ioctl", "socket", "clone", "mprotect", "read", "getpid"];

/** Argument vectors: each rule's values, their neighbours, upper halves set, and their mixes. */
function queries(policy: Policy): { nr: number; args: bigint[] }[] {
  const values = new Set<bigint>([0n, 1n, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 64n) - 1n]);
  for (const r of policy.rules)
    for (const c of r.conditions)
      for (const d of [-1n, 0n, 1n, 0x10n, 0x1000n]) {
        const v = BigInt.asUintN(64, c.value + d);
        values.add(v);
        values.add(v | (0xabcdn << 32n));
        if (c.mask) values.add(BigInt.asUintN(64, v | c.mask));
      }
  const pool = [...values];
  let s = 28;
  const pick = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return pool[(s >>> 4) % pool.length];
  };
  const out: { nr: number; args: bigint[] }[] = [];
  for (const name of NAMES) {
    const nr = syscallNumber("x86_64", name) as number;
    for (const v of pool)
      for (let i = 0; i < 3; i++) {
        const args = [0n, 0n, 0n, 0n, 0n, 0n];
        args[i] = v;
        out.push({ nr, args });
      }
    for (let q = 0; q < 3000; q++) out.push({ nr, args: [pick(), pick(), pick(), pick(), 0n, 0n] });
  }
  return out;
}

/** The first query `a` and `b` answer differently, and how often each answer came up in `a`. */
function compare(a: Emulator, b: Emulator, qs: { nr: number; args: bigint[] }[]) {
  const answers = new Map<number, number>();
  for (const q of qs) {
    const data = packSeccompData({ nr: q.nr, arch: ARCHES.x86_64.audit, args: q.args });
    const x = a.runWords(data).value >>> 0;
    const y = b.runWords(data).value >>> 0;
    answers.set(x, (answers.get(x) ?? 0) + 1);
    if (x !== y)
      return {
        diff: `nr ${q.nr} args ${q.args.map((v) => `0x${v.toString(16)}`).join(",")}: sysfence 0x${x.toString(16)}, export 0x${y.toString(16)}`,
        answers,
      };
  }
  return { diff: undefined, answers };
}

describe("differential: argument fallbacks exported for libseccomp engines", { skip }, () => {
  const ex = exportPolicy(GENERATED, "oci", { launcher: "none" });
  const ours = new Emulator(compile(GENERATED, { stats: false }).program);
  const qs = queries(GENERATED);

  it("no warning that other values get the default; the profile holds errno rules beside the allow rules", () => {
    const said = ex.warnings.map((w) => w.message).join("\n");
    assert.doesNotMatch(said, /get the default action|unconditional rule win/);
    const profile = JSON.parse(String(ex.output)) as { syscalls: { names: string[]; action: string }[] };
    for (const n of ["fcntl", "ioctl", "socket", "clone", "mprotect"]) {
      const errno = profile.syscalls.filter((s) => s.names.includes(n) && s.action === "SCMP_ACT_ERRNO");
      assert.ok(
        errno.length > 0 && errno.length <= MAX_COMPLEMENT_RULES,
        `${n}: ${errno.length} errno rules`,
      );
    }
  });

  it("runc's libseccomp compiles the OCI profile to the same decisions as sysfence's compiler", () => {
    const [theirs] = runcPrograms([String(ex.output)]);
    assert.ok("program" in theirs, "error" in theirs ? theirs.error : "");
    const { diff, answers } = compare(ours, new Emulator(theirs.program), qs);
    assert.equal(diff, undefined);
    // both answers occur: the queries reach the allowed values and the refused ones, and nothing is killed
    assert.ok((answers.get(actionValue({ kind: "errno", data: 1 })) ?? 0) > 1000);
    assert.ok((answers.get(actionValue({ kind: "allow" })) ?? 0) > 1000);
  });

  it("the libseccomp-c export's rules, built with libseccomp, decide the same", () => {
    const c = exportPolicy(GENERATED, "libseccomp-c", { launcher: "none" });
    assert.doesNotMatch(c.warnings.map((w) => w.message).join("\n"), /get the default action/);
    // the C export's calls, read back from its text: name, action, and the masked comparisons
    const rules = [
      ...String(c.output).matchAll(
        /sysfence_add\(ctx, "(\w+)", [^,]+\}, (SCMP_ACT_\w+(?:\(\w+\))?), \d, \d+, (.*)\);/g,
      ),
    ].map(([, name, action, cmps]) => ({
      names: [name],
      action: action === "SCMP_ACT_ALLOW" ? { kind: "allow" as const } : { kind: "errno" as const, data: 1 },
      conditions: [...cmps.matchAll(/SCMP_A(\d)_64\(SCMP_CMP_MASKED_EQ, 0x(\w+)ULL, 0x(\w+)ULL\)/g)].map(
        ([, arg, mask, value]) => ({
          arg: Number(arg),
          op: "&==" as const,
          mask: BigInt(`0x${mask}`),
          value: BigInt(`0x${value}`),
        }),
      ),
    }));
    assert.ok(rules.some((r) => r.action.kind === "errno" && r.conditions.length > 0));
    const built = buildWithLibseccomp({ ...GENERATED, rules });
    const { diff } = compare(ours, new Emulator(built.program), qs);
    assert.equal(diff, undefined);
  });

  it("sysfence reads the exported profile back to the same decisions", () => {
    const back = parsePolicy(String(ex.output), { file: "x.json", arch: "x86_64" }).policy;
    const { diff } = compare(ours, new Emulator(compile(back, { stats: false }).program), qs);
    assert.equal(diff, undefined);
  });

  it("with i386 beside x86_64, libseccomp takes the profile: socket's complement is left out and named", () => {
    const multi: Policy = { ...GENERATED, architectures: ["x86_64", "i386"] };
    const ex2 = exportPolicy(multi, "oci", { launcher: "none" });
    assert.match(ex2.warnings.map((w) => w.message).join("\n"), /socket \(on i386 libseccomp also writes/);
    const [theirs] = runcPrograms([String(ex2.output)]);
    assert.ok("program" in theirs, "error" in theirs ? theirs.error : "");
    const { diff } = compare(
      new Emulator(compile(ex2.policy, { stats: false }).program),
      new Emulator(theirs.program),
      qs,
    );
    assert.equal(diff, undefined);
  });
});
