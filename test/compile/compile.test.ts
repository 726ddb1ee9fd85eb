import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeActionValue } from "../../src/abi/action.js";
import * as O from "../../src/abi/opcodes.js";
import { Emulator } from "../../src/bpf/emulator.js";
import { verifyProgram } from "../../src/bpf/verify.js";
import { compile } from "../../src/compile/compile.js";
import { SysfenceError } from "../../src/errors.js";
import { formatAction } from "../../src/policy/actions.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { evalValue } from "../../src/syscalls/constants.js";
import { syscallNumber, syscallTable } from "../../src/syscalls/table.js";
import { example, policyFrom } from "../helpers/policies.js";

const docker = example("docker-default.json");
const dockerProgram = compile(docker).program;
const ask = (name: string, args: string[] = [], arch: "x86_64" | "i386" | "x32" = "x86_64") => {
  const r = new Emulator(dockerProgram).run({
    nr: syscallNumber(arch, name)!,
    arch: ARCHES[arch].audit,
    args: args.map((a) => BigInt.asUintN(64, evalValue(a))),
  });
  return formatAction(decodeActionValue(r.value));
};

describe("Docker's default profile behaves as Docker documents", () => {
  it("denies socket(AF_VSOCK) with EPERM and allows AF_INET", () => {
    assert.equal(ask("socket", ["AF_VSOCK"]), "errno EPERM");
    assert.equal(ask("socket", ["AF_INET"]), "allow");
  });
  it("denies clone with CLONE_NEWUSER, allows thread creation", () => {
    assert.equal(ask("clone", ["CLONE_NEWUSER|SIGCHLD"]), "errno EPERM");
    assert.equal(ask("clone", ["CLONE_VM|CLONE_THREAD|CLONE_SIGHAND"]), "allow");
  });
  it("answers clone3 with ENOSYS so libc falls back to clone", () => {
    assert.equal(ask("clone3"), "errno ENOSYS");
  });
  it("allows getpid, denies reboot and mount", () => {
    assert.equal(ask("getpid"), "allow");
    assert.equal(ask("reboot"), "errno EPERM");
    assert.equal(ask("mount"), "errno EPERM");
  });
  it("covers the i386 and x32 ABIs from archMap", () => {
    assert.equal(ask("getpid", [], "i386"), "allow");
    assert.equal(ask("getpid", [], "x32"), "allow");
    assert.equal(ask("socket", ["AF_VSOCK"], "i386"), "errno EPERM");
  });
  it("kills calls from a foreign architecture", () => {
    const r = new Emulator(dockerProgram).run({ nr: 0, arch: ARCHES.aarch64.audit });
    assert.equal(decodeActionValue(r.value).kind, "kill-process");
  });
});

describe("compiler guarantees", () => {
  it("decides every argument-independent syscall without reading arguments", () => {
    const { resolved } = compile(docker);
    const emu = new Emulator(dockerProgram);
    for (const f of resolved.arches) {
      const conditioned = new Set(f.syscalls.filter((d) => d.conditional.length).map((d) => d.nr));
      for (const nr of Object.values(syscallTable(f.arch))) {
        const r = emu.run({
          nr,
          arch: ARCHES[f.arch].audit,
          args: [0xffffffffffffffffn, 1n, 2n, 3n, 4n, 5n],
        });
        assert.equal(r.readArgs, conditioned.has(nr), `${f.arch} nr ${nr}`);
      }
    }
  });
  it("never emits a program the kernel's checker rejects", () => {
    assert.deepEqual(verifyProgram(dockerProgram), []);
  });
  it("uses a search, not a chain: at most 16 instructions for any x86_64 syscall without argument rules", () => {
    const stats = compile(docker).stats!;
    const x64 = stats.perArch.find((a) => a.arch === "x86_64")!;
    assert.ok(x64.max <= 16, `max ${x64.max}`);
  });
  it("handles jumps longer than 255 instructions", () => {
    // Many argument rules make the program long enough that the search needs far jumps.
    const rules = Array.from(
      { length: 120 },
      (_, i) => `  - name: ioctl\n    action: allow\n    args: ["arg1 == ${0x5400 + i}", "arg2 == ${i}"]`,
    ).join("\n");
    const policy = policyFrom(
      `defaultAction: errno EPERM\narchitectures: [x86_64]\nsyscalls:\n  - names: ["@system-service"]\n    action: allow\n${rules}\n  - name: ioctl\n    action: errno ENOTTY\n`,
    );
    const { program } = compile(policy);
    assert.ok(program.length > 600);
    assert.deepEqual(verifyProgram(program), []);
    const emu = new Emulator(program);
    const ioctl = syscallNumber("x86_64", "ioctl")!;
    assert.equal(
      decodeActionValue(
        emu.run({ nr: ioctl, arch: ARCHES.x86_64.audit, args: [0n, 0x5400n + 119n, 119n] }).value,
      ).kind,
      "allow",
    );
    assert.equal(
      formatAction(
        decodeActionValue(
          emu.run({ nr: ioctl, arch: ARCHES.x86_64.audit, args: [0n, 0x5400n + 119n, 118n] }).value,
        ),
      ),
      "errno ENOTTY",
    );
    const far = program.some(
      (i, pc) => O.cls(i.code) === O.BPF_JMP && O.op(i.code) === O.BPF_JA && i.k > 255 && pc >= 0,
    );
    assert.ok(far, "expected at least one long jump");
  });
  it("refuses programs over 4096 instructions with a clear error", () => {
    const rules = Array.from(
      { length: 700 },
      (_, i) => `  - name: ioctl\n    action: allow\n    args: ["arg1 == ${i}", "arg2 == ${i}"]`,
    ).join("\n");
    const policy = policyFrom(`defaultAction: errno EPERM\narchitectures: [x86_64]\nsyscalls:\n${rules}\n`);
    assert.throws(
      () => compile(policy),
      (e: unknown) =>
        e instanceof SysfenceError &&
        e.code === "E_PROGRAM_TOO_LONG" &&
        /4096/.test(e.message) &&
        /too many BPF instructions: \d+/.test(e.message),
    );
  });
  it("reads 32-bit arguments as the kernel does: 0x1_00005412 is TIOCSTI, AT_FDCWD matches either extension", () => {
    const policy = policyFrom(
      `defaultAction: allow\narchitectures: [x86_64]\nsyscalls:\n  - name: ioctl\n    action: kill-process\n    args: ["arg1 == TIOCSTI"]\n  - name: openat\n    action: errno EACCES\n    args: ["arg0 == AT_FDCWD"]\n`,
    );
    const emu = new Emulator(compile(policy).program);
    const run = (name: string, args: bigint[]) =>
      formatAction(
        decodeActionValue(
          emu.run({ nr: syscallNumber("x86_64", name)!, arch: ARCHES.x86_64.audit, args }).value,
        ),
      );
    assert.equal(run("ioctl", [0n, 0x1_00005412n]), "kill-process");
    assert.equal(run("ioctl", [0n, 0x5412n]), "kill-process");
    assert.equal(run("openat", [0xffffff9cn]), "errno EACCES");
    assert.equal(run("openat", [0xffffffffffffff9cn]), "errno EACCES");
    assert.equal(run("openat", [3n]), "allow");
  });
  it("refuses x32 numbers on an x86_64-only policy", () => {
    const policy = policyFrom(
      "defaultAction: allow\narchitectures: [x86_64]\nsyscalls:\n  - name: ptrace\n    action: errno EPERM\n",
    );
    const emu = new Emulator(compile(policy).program);
    const r = emu.run({ nr: syscallNumber("x32", "ptrace")!, arch: ARCHES.x86_64.audit });
    assert.equal(decodeActionValue(r.value).kind, "kill-process");
  });
});
