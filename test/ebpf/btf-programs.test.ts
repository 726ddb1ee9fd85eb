// Programs that read kernel structures at offsets from the running kernel's BTF, and GPL-only helpers
// accepted under EBPF_LICENSE: task_struct.tgid through get_current_task_btf on tp_btf, and the path a
// child opens, read from its pt_regs (the second argument register) with probe_read_kernel and
// probe_read_user_str into the ring buffer.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  BPF_MAP_TYPE_ARRAY,
  BPF_PROG_TYPE_RAW_TRACEPOINT,
  BPF_PROG_TYPE_TRACING,
  BPF_TRACE_RAW_TP,
} from "../../src/abi/ebpf.js";
import { EbpfAsm, R0, R1, R2, R3, R6, R7, R8, R9, R10 } from "../../src/ebpf/asm.js";
import { attachRawTracepoint, attachTpBtf } from "../../src/ebpf/attach.js";
import { btfTraceId, vmlinuxBtf } from "../../src/ebpf/btf.js";
import { EBPF_LICENSE, loadProgram } from "../../src/ebpf/load.js";
import { createMap } from "../../src/ebpf/maps.js";
import { createRingBuffer, RingBufferReader } from "../../src/ebpf/ringbuf.js";
import { ebpfSys } from "../../src/ebpf/sys.js";
import { kernelSkip, NR_GETPPID, startCaller } from "./kernel.js";

const NR_OPENAT = 257; // x86_64

describe("programs at BTF offsets", { skip: kernelSkip }, () => {
  it("tp_btf: task_struct.tgid of the current task picks the child's getppid() calls", async () => {
    const N = 3000;
    const tgid = vmlinuxBtf().memberOffset("task_struct", "tgid");
    assert.equal(tgid.size, 4);
    const map = createMap({
      type: BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 1,
      name: "test_count",
    });
    const caller = startCaller(N);
    const code = new EbpfAsm()
      .ldxMem(8, R7, R1, 8)
      .jmpImm("ne", R7, NR_GETPPID, "out")
      .call("get_current_task_btf")
      .ldxMem(4, R1, R0, tgid.byteOffset)
      .jmpImm("ne", R1, caller.pid, "out")
      .stMem(4, R10, -4, 0)
      .mov64Reg(R2, R10)
      .alu64Imm("add", R2, -4)
      .ldMapFd(R1, map.fd)
      .call("map_lookup_elem")
      .jmpImm("eq", R0, 0, "out")
      .mov64Imm(R1, 1)
      .atomicAdd(8, R0, R1, 0)
      .label("out")
      .mov64Imm(R0, 0)
      .exit()
      .assemble();
    const prog = loadProgram({
      type: BPF_PROG_TYPE_TRACING,
      code,
      license: EBPF_LICENSE,
      name: "test_task",
      expectedAttachType: BPF_TRACE_RAW_TP,
      attachBtfId: btfTraceId("sys_enter"),
    });
    const link = attachTpBtf(prog, "sys_enter");
    assert.equal(await caller.go(), 0);
    link.close();
    ebpfSys().close(prog);
    assert.equal(map.lookup(Buffer.alloc(4))!.readBigUInt64LE(0), BigInt(N));
    map.close();
  });

  it("raw_tp: the path a child opens, from pt_regs.si by probe_read_kernel and probe_read_user_str", async () => {
    const si = vmlinuxBtf().memberOffset("pt_regs", "si").byteOffset; // x86_64: the second argument
    const path = join(mkdtempSync(join(tmpdir(), "sysfence-ebpf-")), "opened-by-the-child");
    writeFileSync(path, "");
    const ring = createRingBuffer(64 * 1024, "test_paths");
    const reader = new RingBufferReader(ring.fd, 64 * 1024);
    const caller = startCaller(0, path);
    const code = new EbpfAsm()
      .mov64Reg(R6, R1)
      .ldxMem(8, R7, R6, 8)
      .jmpImm("ne", R7, NR_OPENAT, "out")
      .call("get_current_pid_tgid")
      .alu64Imm("rsh", R0, 32)
      .jmpImm("ne", R0, caller.pid, "out")
      .ldxMem(8, R8, R6, 0) // args[0]: struct pt_regs * of the call
      .mov64Reg(R1, R10)
      .alu64Imm("add", R1, -8)
      .mov64Imm(R2, 8)
      .mov64Reg(R3, R8)
      .alu64Imm("add", R3, si)
      .call("probe_read_kernel")
      .jmpImm("ne", R0, 0, "out")
      .ldMapFd(R1, ring.fd)
      .mov64Imm(R2, 256)
      .mov64Imm(R3, 0)
      .call("ringbuf_reserve")
      .jmpImm("eq", R0, 0, "out")
      .mov64Reg(R9, R0)
      .mov64Reg(R1, R9)
      .mov64Imm(R2, 256)
      .ldxMem(8, R3, R10, -8)
      .call("probe_read_user_str")
      .mov64Reg(R1, R9)
      .mov64Imm(R2, 0)
      .call("ringbuf_submit")
      .label("out")
      .mov64Imm(R0, 0)
      .exit()
      .assemble();
    const prog = loadProgram({
      type: BPF_PROG_TYPE_RAW_TRACEPOINT,
      code,
      license: EBPF_LICENSE,
      name: "test_paths",
    });
    const link = attachRawTracepoint(prog, "sys_enter");
    assert.equal(await caller.go(), 0);
    link.close();
    ebpfSys().close(prog);
    const paths: string[] = [];
    reader.drain((d) => paths.push(d.toString("latin1", 0, d.indexOf(0))));
    reader.close();
    ring.close();
    // the loader may open libraries after the attach too; the child's own open is there once
    assert.equal(paths.filter((p) => p === path).length, 1, paths.join(", "));
  });

  it("a GPL-only helper is refused under a proprietary license, with the verifier's words", () => {
    const code = new EbpfAsm()
      .mov64Reg(R1, R10)
      .alu64Imm("add", R1, -8)
      .mov64Imm(R2, 8)
      .mov64Imm(R3, 0)
      .call("probe_read_kernel")
      .mov64Imm(R0, 0)
      .exit()
      .assemble();
    assert.throws(
      () =>
        loadProgram({
          type: BPF_PROG_TYPE_RAW_TRACEPOINT,
          code,
          license: "Proprietary",
          name: "test_license",
        }),
      /cannot call GPL-restricted function/,
    );
    ebpfSys().close(loadProgram({ type: BPF_PROG_TYPE_RAW_TRACEPOINT, code, license: EBPF_LICENSE }));
  });
});
