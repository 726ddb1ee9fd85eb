// Raw BPF readers (disasm, emu, import, and any policy reader given raw BPF) read at most one program's worth
// of bytes — the kernel's BPF_MAXINSNS instructions — and refuse more with an error naming the file, the
// size and the limit: a huge (sparse) file is not read, /dev/zero is read only up to the cap.
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as O from "../../src/abi/opcodes.js";
import { encodeProgram, insn } from "../../src/bpf/insn.js";
import { readUpTo } from "../../src/util/read-input.js";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-rawlimits-"));
const READERS = [["disasm"], ["emu", "--syscall", "read"], ["import"], ["check"]] as const;

describe("raw BPF inputs are capped at the kernel's program size", () => {
  it("a 123 MB sparse file: every reader refuses it naming the file, its size and the limit", async () => {
    const big = join(dir, "big.bpf");
    closeSync(openSync(big, "w"));
    truncateSync(big, 123 * 1024 * 1024);
    for (const [cmd, ...rest] of READERS) {
      const r = await runCli(cmd, big, ...rest);
      assert.equal(r.code, cmd === "check" ? 1 : 2, `${cmd}: ${r.stderr}`); // check: its finding
      assert.match(r.stderr, new RegExp(`${big}: 128974848 bytes is more than a seccomp BPF program`), cmd);
      assert.match(
        r.stderr,
        /at most 4096 instructions \(32768 bytes\).*32768 over a whole filter stack/,
        cmd,
      );
    }
  });
  it("/dev/zero: read up to the cap, then refused (it never ends)", async () => {
    for (const [cmd, ...rest] of READERS) {
      const r = await runCli(cmd, "/dev/zero", ...rest);
      assert.equal(r.code, cmd === "check" ? 1 : 2, `${cmd}: ${r.stderr}`); // check: its finding
      assert.match(
        r.stderr,
        /\/dev\/zero: more than \d+ bytes is more than a seccomp BPF program can be/,
        cmd,
      );
    }
    const r = await readUpTo("/dev/zero", 100);
    assert.deepEqual([r.bytes.length, r.more], [100, true]);
  });
  it("one instruction over BPF_MAXINSNS is refused; BPF_MAXINSNS instructions are read", async () => {
    const ret = insn(O.BPF_RET | O.BPF_K, 0x7fff0000);
    const over = join(dir, "over.bpf");
    writeFileSync(over, encodeProgram(Array(O.BPF_MAXINSNS + 1).fill(ret)));
    const r = await runCli("disasm", over);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /over\.bpf: 32776 bytes is more than a seccomp BPF program can be/);
    const max = join(dir, "max.bpf");
    writeFileSync(max, encodeProgram(Array(O.BPF_MAXINSNS).fill(ret)));
    assert.equal((await runCli("disasm", max)).code, 0);
  });
});
