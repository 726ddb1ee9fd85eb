import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { Emulator, packSeccompData } from "../../src/bpf/emulator.js";
import { decodeProgram, type Insn } from "../../src/bpf/insn.js";
import { IPC_SUBCALLS, SOCKETCALL_SUBCALLS } from "../../src/policy/libseccomp-semantics.js";
import { ARCHES, type ArchName } from "../../src/syscalls/arches.js";
import { argWidth } from "../../src/syscalls/args.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { SYSTEM_PYTHON } from "./libseccomp.js";
import { helperFile } from "./paths.js";

// The oracle for OCI input: Debian's libseccomp compiles the profile *text* the way runc does
// (oci_runc_build.py reads the JSON itself, never sysfence's model), and both programs are asked the same calls.

/** Compiles profile texts with libseccomp like runc; one program (or the error libseccomp gave) each. */
export function runcPrograms(texts: string[]): ({ program: Insn[] } | { error: string })[] {
  const out = execFileSync(SYSTEM_PYTHON, [helperFile("oci_runc_build.py")], {
    input: JSON.stringify({ profiles: texts }),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  return out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { bpf?: string; error?: string })
    .map((r) =>
      r.bpf !== undefined ? { program: decodeProgram(Buffer.from(r.bpf, "hex")) } : { error: r.error! },
    );
}

/** The calls the generated profiles use, chosen for their argument types (int, unsigned, 64-bit, pointer). */
export const ORACLE_SYSCALLS = ["read", "ioctl", "socket", "lseek", "shmat", "accept4", "getpid", "mmap"];
const ARCH_NAMES: Record<string, ArchName> = { SCMP_ARCH_X86_64: "x86_64", SCMP_ARCH_X86: "i386" };
const ACTIONS = [
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_LOG",
  "SCMP_ACT_TRAP",
];
const OPS = [
  "SCMP_CMP_EQ",
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_GT",
  "SCMP_CMP_GE",
  "SCMP_CMP_MASKED_EQ",
];
const SMALL = [0, 1, 2, 3, 5, 8, 16, 38, 40, 128, 256, 0x5401, 0x7fffffff];

/** Random OCI profiles with the constructs whose meaning differs between first-match and libseccomp. */
export function ociProfileArb(): fc.Arbitrary<Record<string, unknown>> {
  const value = fc.oneof(fc.constantFrom(...SMALL), fc.integer({ min: 0, max: 0x7fffffff }));
  const arg = fc.record({
    index: fc.integer({ min: 0, max: 3 }),
    value,
    valueTwo: value,
    op: fc.constantFrom(...OPS),
  });
  const rule = fc.record(
    {
      names: fc.uniqueArray(fc.constantFrom(...ORACLE_SYSCALLS), { minLength: 1, maxLength: 3 }),
      action: fc.constantFrom(...ACTIONS),
      errnoRet: fc.integer({ min: 1, max: 200 }),
      args: fc.array(arg, { maxLength: 3 }),
    },
    { requiredKeys: ["names", "action"] },
  );
  return fc.record({
    defaultAction: fc.constantFrom("SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_ALLOW"),
    defaultErrnoRet: fc.integer({ min: 1, max: 100 }),
    architectures: fc.constantFrom(["SCMP_ARCH_X86_64"], ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]),
    syscalls: fc.array(rule, { maxLength: 6 }),
  });
}

/** Calls where sysfence and libseccomp must agree: 32-bit arguments (and every argument on i386) below 2^31. */
export function oracleQueries(
  profile: Record<string, unknown>,
  seed: number,
): { arch: ArchName; nr: number; args: bigint[] }[] {
  const rules = (profile.syscalls ?? []) as { args?: { value: number; valueTwo?: number }[] }[];
  const values = new Set<bigint>([0n, 1n, 2n, 0x7fffffffn, 1n << 32n, (1n << 63n) + 5n]);
  for (const r of rules)
    for (const a of r.args ?? [])
      for (const v of [a.value, a.valueTwo ?? 0, a.value & (a.valueTwo ?? 0), a.value | (a.valueTwo ?? 0)])
        for (const d of [-1, 0, 1]) if (v + d >= 0) values.add(BigInt(v + d));
  const pool = [...values];
  let state = seed >>> 0 || 1;
  const rand = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  const out: { arch: ArchName; nr: number; args: bigint[] }[] = [];
  const arches = ((profile.architectures as string[]) ?? ["SCMP_ARCH_X86_64"]).map((a) => ARCH_NAMES[a]);
  for (const arch of arches) {
    const calls = [...ORACLE_SYSCALLS, "socketcall", "ipc", "write"];
    for (const name of calls) {
      const nr = syscallNumber(arch, name);
      if (nr === undefined) continue;
      const pick = (i: number) => {
        const narrow = argWidth(name, i, arch).bits < 64 || ARCHES[arch].bits === 32;
        const cands = narrow ? pool.filter((v) => v < 1n << 31n) : pool;
        return cands[rand(cands.length)];
      };
      for (let q = 0; q < 60; q++) {
        const args = [0, 1, 2, 3, 4, 5].map(pick);
        if (name === "socketcall" || name === "ipc") {
          const subs = Object.values(name === "socketcall" ? SOCKETCALL_SUBCALLS : IPC_SUBCALLS);
          args[0] = BigInt(subs[rand(subs.length)]);
        }
        out.push({ arch, nr, args });
      }
    }
  }
  return out;
}

/** The first call the two programs answer differently, or undefined. */
export function firstDifference(
  ours: Insn[],
  theirs: Insn[],
  queries: { arch: ArchName; nr: number; args: bigint[] }[],
): string | undefined {
  const a = new Emulator(ours);
  const b = new Emulator(theirs);
  for (const q of queries) {
    const data = packSeccompData({ nr: q.nr, arch: ARCHES[q.arch].audit, args: q.args });
    const x = a.runWords(data).value >>> 0;
    const y = b.runWords(data).value >>> 0;
    if (x !== y)
      return `${q.arch} nr ${q.nr} args ${q.args.join(",")}: sysfence 0x${x.toString(16)}, libseccomp 0x${y.toString(16)}`;
  }
  return undefined;
}
