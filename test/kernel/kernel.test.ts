import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { decodeActionValue } from "../../src/abi/action.js";
import { Emulator } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import type { Action } from "../../src/policy/model.js";
import { ARCHES, type ArchName } from "../../src/syscalls/arches.js";
import { evalValue } from "../../src/syscalls/constants.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { example, policyFrom } from "../helpers/policies.js";
import { type KernelCall, type KernelOutcome, runOnKernel } from "../helpers/probe.js";
import { requireOrSkip } from "../helpers/require.js";

const haveGcc = (() => {
  try {
    execFileSync("gcc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const onLinuxX64 = process.platform === "linux" && process.arch === "x64";
const skip = !onLinuxX64 ? "needs Linux on x86_64" : requireOrSkip(haveGcc, "gcc");

// Errno values no real syscall returns, so a filter's answer cannot be mistaken for the kernel's.
const POLICY = `
defaultAction: errno 201
badArchAction: kill-process
architectures: [x86_64, i386, x32]
syscalls:
  - names: [getpid, getppid]
    action: allow
  - name: ioctl
    action: allow
    args: ["arg1 == FIONBIO"]
  - name: ioctl
    action: errno 202
    args: ["arg1 == TIOCSTI"]
  - name: socket
    action: allow
    args: ["arg0 != AF_VSOCK"]
  - name: clone
    action: allow
    args: ["arg0 & CLONE_NEWUSER == 0"]
  - name: munmap
    action: allow
    args: ["arg1 <= 4096"]
  - name: munmap
    action: errno 203
    args: ["arg1 > 0x100000000"]
  - name: dup
    action: kill-process
  - name: dup3
    action: kill-thread
  - name: getuid
    action: trap 7
  - name: getgid
    action: log
`;

/** Maps a kernel outcome to the action class it shows. */
function observed(o: KernelOutcome, filterErrnos: Set<number>): string {
  if (o.kind === "signal") return o.signal === 31 ? "killed-by-SIGSYS" : `signal ${o.signal}`;
  if (o.kind === "trap") return `trap ${o.data}`;
  if (o.kind === "ret") return o.ret === -1 && filterErrnos.has(o.errno) ? `errno ${o.errno}` : "executed";
  return o.text;
}
function expected(a: Action): string {
  switch (a.kind) {
    case "kill-process":
    case "kill-thread":
      return "killed-by-SIGSYS";
    case "trap":
      return `trap ${a.data ?? 0}`;
    case "errno":
      return `errno ${a.data}`;
    default:
      return "executed"; // allow, log
  }
}

const call = (
  arch: ArchName,
  name: string,
  args: string[] = [],
): KernelCall & { arch: ArchName; label: string } => ({
  arch,
  label: `${arch} ${name}(${args.join(", ")})`,
  nr: syscallNumber(arch, name)!,
  args: args.map((a) => BigInt.asUintN(64, evalValue(a))),
  i386: arch === "i386",
});

function checkOnKernel(policyText: string, calls: ReturnType<typeof call>[], errnos: number[]) {
  const policy = policyFrom(policyText);
  const { program } = compile(policy);
  const emu = new Emulator(program);
  const outcomes = runOnKernel(program, calls);
  const filterErrnos = new Set(errnos);
  calls.forEach((c, i) => {
    const info = ARCHES[c.arch];
    const want = expected(decodeActionValue(emu.run({ nr: c.nr, arch: info.audit, args: c.args }).value));
    assert.equal(observed(outcomes[i], filterErrnos), want, `${c.label}: kernel vs emulator`);
  });
}

describe("the real kernel agrees with the emulator", { skip }, () => {
  const int80Works = (() => {
    if (skip) return false;
    const out = runOnKernel([{ code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }], [{ nr: 20, i386: true }]);
    return out[0].kind === "ret" && out[0].ret > 0;
  })();

  it("x86_64: allow, errno, kill-process, kill-thread, trap, log, and 32-bit argument truncation", () => {
    checkOnKernel(
      POLICY,
      [
        call("x86_64", "getpid"),
        call("x86_64", "getuid"),
        call("x86_64", "getgid"),
        call("x86_64", "dup", ["-1"]),
        call("x86_64", "dup3", ["-1", "-1", "0"]),
        call("x86_64", "ioctl", ["-1", "FIONBIO"]),
        call("x86_64", "ioctl", ["-1", "0x100005421"]),
        call("x86_64", "ioctl", ["-1", "TIOCSTI"]),
        call("x86_64", "ioctl", ["-1", "0x100005412"]),
        call("x86_64", "ioctl", ["-1", "TCGETS"]),
        call("x86_64", "socket", ["AF_VSOCK", "SOCK_STREAM"]),
        call("x86_64", "socket", ["0x100000028", "SOCK_STREAM"]),
        call("x86_64", "socket", ["AF_UNIX", "SOCK_STREAM"]),
        call("x86_64", "clone", ["CLONE_NEWUSER|CLONE_THREAD"]),
        call("x86_64", "clone", ["CLONE_THREAD"]),
        call("x86_64", "munmap", ["0", "4096"]),
        call("x86_64", "munmap", ["0", "4097"]),
        call("x86_64", "munmap", ["0", "0x100000001"]),
        call("x86_64", "munmap", ["0", "0x100000000"]),
        call("x86_64", "mount"),
      ],
      [201, 202, 203],
    );
  });
  it("x32 numbers reach the x32 part of a multi-arch filter", () => {
    checkOnKernel(
      POLICY,
      [call("x32", "getpid"), call("x32", "dup", ["-1"]), call("x32", "mount")],
      [201, 202, 203],
    );
  });
  it("i386 calls (int $0x80) are checked against the i386 table", {
    skip: int80Works ? false : "kernel lacks IA32 emulation",
  }, () => {
    checkOnKernel(
      POLICY,
      [
        call("i386", "getpid"),
        call("i386", "dup", ["-1"]),
        call("i386", "getuid"),
        call("i386", "ioctl", ["-1", "TIOCSTI"]),
        call("i386", "mount"),
      ],
      [201, 202, 203],
    );
  });
  it("a foreign architecture gets the bad-arch action", {
    skip: int80Works ? false : "kernel lacks IA32 emulation",
  }, () => {
    const only64 =
      "defaultAction: allow\nbadArchAction: kill-process\narchitectures: [x86_64]\nsyscalls:\n  - name: mount\n    action: errno 201\n";
    checkOnKernel(only64, [call("x86_64", "getpid"), call("i386", "getpid"), call("x32", "getpid")], [201]);
  });
  it("Docker's default profile: AF_VSOCK and CLONE_NEWUSER get EPERM, clone3 ENOSYS, getpid runs", () => {
    const { program } = compile(example("docker-default.json"));
    const out = runOnKernel(program, [
      { nr: syscallNumber("x86_64", "socket")!, args: [40n, 1n] },
      { nr: syscallNumber("x86_64", "clone")!, args: [0x10000000n | 0x10000n] },
      { nr: syscallNumber("x86_64", "clone3")!, args: [0n, 0n] },
      { nr: syscallNumber("x86_64", "getpid")! },
      { nr: syscallNumber("x86_64", "socket")!, args: [1n, 1n] },
    ]);
    assert.deepEqual(out[0], { kind: "ret", ret: -1, errno: 1 });
    assert.deepEqual(out[1], { kind: "ret", ret: -1, errno: 1 });
    assert.deepEqual(out[2], { kind: "ret", ret: -1, errno: 38 });
    assert.ok(out[3].kind === "ret" && out[3].ret > 0);
    assert.ok(out[4].kind === "ret" && out[4].ret >= 0, "socket(AF_UNIX) must work");
  });
});
