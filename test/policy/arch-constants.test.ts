// A named constant means what it means on the architecture a filter is compiled for: O_DIRECTORY is
// 0x10000 on x86_64 and 0x4000 on aarch64 (values from each architecture's headers: scripts/gen_syscalls.py
// builds the constants program with the aarch64 cross compiler and runs it under qemu-user).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeActionValue } from "../../src/abi/action.js";
import { emulate } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import { formatAction } from "../../src/policy/actions.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import { ARCHES, type ArchName } from "../../src/syscalls/arches.js";
import { constantValue, evalValue } from "../../src/syscalls/constants.js";
import { ARCH_CONSTANTS, ARCH_MISSING } from "../../src/syscalls/generated/constants.js";
import { syscallNumber } from "../../src/syscalls/table.js";

const policy = parsePolicy(
  `defaultAction: allow
architectures: [x86_64, aarch64]
syscalls:
  - names: [openat]
    action: errno EACCES
    args: ["arg2 & O_DIRECTORY == O_DIRECTORY"]
`,
  { file: "dirs.yaml" },
).policy;
const { program } = compile(policy);

/** The compiled filter's answer and the reference's, as text. */
function decide(arch: ArchName, flags: bigint): [string, string] {
  const nr = syscallNumber(arch, "openat") as number;
  const args = [0n, 0n, flags, 0n, 0n, 0n];
  const r = emulate(program, { nr, arch: ARCHES[arch].audit, instructionPointer: 0n, args });
  return [
    formatAction(decodeActionValue(r.value)),
    formatAction(referenceDecide(policy, { arch: ARCHES[arch].audit, nr, args })),
  ];
}

describe("constants by architecture", () => {
  it("the generated table holds only values that differ, and they differ", () => {
    for (const [arch, table] of Object.entries(ARCH_CONSTANTS))
      for (const [name, v] of Object.entries(table)) {
        assert.notEqual(v, constantValue(name), `${name} on ${arch}`);
        assert.equal(evalValue(name, arch as ArchName), BigInt(v));
      }
    assert.equal(ARCH_CONSTANTS.aarch64.O_DIRECTORY, 0x4000);
  });

  it("a filter for x86_64 and aarch64 tests each architecture's own O_DIRECTORY (emulator and reference agree)", () => {
    assert.deepEqual(decide("x86_64", 0x10000n), ["errno EACCES", "errno EACCES"]);
    assert.deepEqual(decide("x86_64", 0x4000n), ["allow", "allow"]);
    assert.deepEqual(decide("aarch64", 0x4000n), ["errno EACCES", "errno EACCES"]);
    assert.deepEqual(
      decide("aarch64", 0x10000n),
      ["allow", "allow"],
      "0x10000 is O_DIRECT on aarch64, not a directory",
    );
  });
});

describe("names an architecture's kernel headers lack", () => {
  it("have no value there (ppc64le has no termios2): not the x86_64 number", () => {
    assert.ok(ARCH_MISSING.ppc64le.includes("TCGETS2"));
    assert.equal(constantValue("TCGETS2", "ppc64le"), undefined);
    assert.equal(constantValue("TCGETS2", "aarch64"), constantValue("TCGETS2"));
    assert.equal(constantValue("SIOCGIFINDEX", "ppc64le"), 0x8933);
  });
});
