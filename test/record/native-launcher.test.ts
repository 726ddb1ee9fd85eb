// record's native launcher (src/record/native-launcher.ts): the bpf engine's recordings start the program
// through a 160-byte static program in a memfd instead of a second Node (whose start, ~100–170 ms of CPU,
// was on the path of every recording). What the program sees must not change (fidelity.test.ts compares
// it with run's); here: the ELF itself, an execve that fails (its errno comes back through the status
// pipe and sysfence says what failed, as Node's launcher did), and the launch image it leaves.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { launcherElf } from "../../src/record/native-launcher.js";
import { CLI_PATH } from "../helpers/cli.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  requireOrSkip(process.getuid?.() === 0, "root") ||
  requireOrSkip(existsSync("/sys/kernel/btf/vmlinux"), "the kernel's BTF") ||
  requireOrSkip(process.arch === "x64", "x86_64 (the only native launcher)");

describe("record's native launcher (pure)", () => {
  it("is a static x86_64 ELF executable with a non-executable stack, none elsewhere", () => {
    const elf = launcherElf("x64") as Buffer;
    assert.equal(elf.toString("hex", 0, 7), "7f454c46020101");
    assert.equal(elf.readUInt16LE(16), 2, "ET_EXEC");
    assert.equal(elf.readUInt16LE(18), 0x3e, "EM_X86_64");
    assert.equal(elf.readUInt16LE(56), 2, "two program headers");
    assert.equal(elf.readUInt32LE(64 + 56), 0x6474e551, "PT_GNU_STACK");
    assert.equal(elf.readUInt32LE(64 + 56 + 4), 6, "the stack read and write, not executable");
    assert.equal(Number(elf.readBigUInt64LE(24)), 0x400000 + 64 + 2 * 56, "entry after the headers");
    assert.equal(launcherElf("arm64"), undefined);
  });
});

describe("record --engine bpf through the native launcher", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-native-launch-"));
  const record = (...argv: string[]) =>
    spawnSync(
      process.execPath,
      [CLI_PATH, "record", "-q", "--engine", "bpf", "-o", join(dir, "p.json"), "--", ...argv],
      {
        encoding: "utf8",
      },
    );

  it("a file whose #! interpreter is missing: exit 127 and the execve's error, as Node's launcher said it", () => {
    const script = join(dir, "no-interpreter");
    writeFileSync(script, "#!/nonexistent/interpreter\n");
    chmodSync(script, 0o755);
    const r = record(script);
    assert.equal(r.status, 127, r.stderr);
    assert.match(
      r.stderr,
      /execve .*no-interpreter failed: ENOENT: no such file or directory \(the file exists: its #! interpreter or ELF loader does not\)/,
    );
  });

  it("a file the kernel cannot run: exit 126 and ENOEXEC", () => {
    const junk = join(dir, "junk");
    writeFileSync(junk, Buffer.from([0, 1, 2, 3]));
    chmodSync(junk, 0o755);
    const r = record(junk);
    assert.equal(r.status, 126, r.stderr);
    assert.match(r.stderr, /execve .*junk failed: ENOEXEC: exec format error/);
  });

  it("the launch image holds the program's execve alone (the launcher's stop and exec add nothing)", () => {
    const r = record("/bin/true");
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(readFileSync(join(dir, "p.json"), "utf8"));
    assert.deepEqual(Object.keys(p.processes[0].threads[0].syscalls), ["execve"]);
    assert.equal(p.complete, true);
  });
});
