// Answers about vmlinux BTF are computed once per kernel build and read back from the private store; the
// build id comes from the kernel's ELF notes.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { VMLINUX_BTF } from "../../src/ebpf/btf.js";
import { buildIdOfNotes, kernelBuildId, vmlinuxAnswers } from "../../src/ebpf/btf-cache.js";

/** One ELF note: namesz, descsz, type, name and desc padded to 4. */
function note(name: string, type: number, desc: Buffer): Buffer {
  const n = Buffer.from(`${name}\0`);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(n.length, 0);
  head.writeUInt32LE(desc.length, 4);
  head.writeUInt32LE(type, 8);
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  return Buffer.concat([head, pad(n), pad(desc)]);
}

describe("kernel build id", () => {
  it("is the GNU note of type 3, after other notes", () => {
    const id = Buffer.from("32a7f3bacee6bf69da94f497a8a076483baea20e", "hex");
    const notes = Buffer.concat([
      note("Xen", 6, Buffer.from("abcde")),
      note("GNU", 1, Buffer.alloc(16)),
      note("GNU", 3, id),
    ]);
    assert.equal(buildIdOfNotes(notes), id.toString("hex"));
    assert.equal(buildIdOfNotes(note("Linux", 3, id)), undefined);
    assert.equal(buildIdOfNotes(notes.subarray(0, notes.length - 4)), undefined);
  });
});

const skip = !existsSync(VMLINUX_BTF)
  ? `${VMLINUX_BTF} is missing`
  : !kernelBuildId()
    ? "the kernel has no build id note"
    : false;

describe("vmlinux answers cache", { skip }, () => {
  it("computes once per kernel build and key, then reads the store", () => {
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), "sysfence-btf-cache-"));
    try {
      let computed = 0;
      const ask = (key: string) =>
        vmlinuxAnswers(key, (btf) => {
          computed++;
          return {
            tgid: btf.memberOffset("task_struct", "tgid").byteOffset,
            sysEnter: btf.typeId("btf_trace_sys_enter", "typedef"),
          };
        });
      const first = ask("test-v1");
      assert.equal(computed, 1);
      assert.deepEqual(ask("test-v1"), first);
      assert.equal(computed, 1);
      ask("test-v2");
      assert.equal(computed, 2);
      assert.equal(
        readdirSync(join(process.env.XDG_CACHE_HOME, "sysfence", "btf")).filter((f) => f.startsWith("btf-"))
          .length,
        2,
      );
      vmlinuxAnswers("test-v1", () => computed++, { cache: false });
      assert.equal(computed, 3);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});
