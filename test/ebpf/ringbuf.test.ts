// The ring buffer reader on the real kernel: a program sends one record per getppid() of a child and the
// reader gets exactly N, in order; records the program discards are skipped; records wrap around the end
// of a small ring across rounds.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BPF_MAP_TYPE_ARRAY, BPF_PROG_TYPE_RAW_TRACEPOINT } from "../../src/abi/ebpf.js";
import { EbpfAsm, R0, R1, R2, R3, R4, R7, R8, R9, R10 } from "../../src/ebpf/asm.js";
import { attachRawTracepoint } from "../../src/ebpf/attach.js";
import { EBPF_LICENSE, loadProgram } from "../../src/ebpf/load.js";
import { createMap, type EbpfMap } from "../../src/ebpf/maps.js";
import { createRingBuffer, RingBufferReader } from "../../src/ebpf/ringbuf.js";
import { ebpfSys } from "../../src/ebpf/sys.js";
import { kernelSkip, NR_GETPPID, startCaller } from "./kernel.js";

/** Starts with: r9 = pid_tgid, and goes to "out" unless this is getppid() of process tgid. */
function filter(a: EbpfAsm, tgid: number): EbpfAsm {
  return a
    .ldxMem(8, R7, R1, 8)
    .jmpImm("ne", R7, NR_GETPPID, "out")
    .call("get_current_pid_tgid")
    .mov64Reg(R9, R0)
    .alu64Imm("rsh", R0, 32)
    .jmpImm("ne", R0, tgid, "out");
}

/** ringbuf_output of the 8-byte pid_tgid. */
function outputProgram(ring: EbpfMap, tgid: number): Buffer {
  return filter(new EbpfAsm(), tgid)
    .stxMem(8, R10, R9, -8)
    .ldMapFd(R1, ring.fd)
    .mov64Reg(R2, R10)
    .alu64Imm("add", R2, -8)
    .mov64Imm(R3, 8)
    .mov64Imm(R4, 0)
    .call("ringbuf_output")
    .label("out")
    .mov64Imm(R0, 0)
    .exit()
    .assemble();
}

/** Reserves 16 bytes (pid_tgid, sequence number from `counter`), submits even numbers, discards odd ones. */
function reserveProgram(ring: EbpfMap, counter: EbpfMap, tgid: number): Buffer {
  return filter(new EbpfAsm(), tgid)
    .stMem(4, R10, -4, 0)
    .mov64Reg(R2, R10)
    .alu64Imm("add", R2, -4)
    .ldMapFd(R1, counter.fd)
    .call("map_lookup_elem")
    .jmpImm("eq", R0, 0, "out")
    .ldxMem(8, R8, R0, 0)
    .mov64Reg(R1, R8)
    .alu64Imm("add", R1, 1)
    .stxMem(8, R0, R1, 0)
    .ldMapFd(R1, ring.fd)
    .mov64Imm(R2, 16)
    .mov64Imm(R3, 0)
    .call("ringbuf_reserve")
    .jmpImm("eq", R0, 0, "out")
    .stxMem(8, R0, R9, 0)
    .stxMem(8, R0, R8, 8)
    .mov64Reg(R1, R0)
    .mov64Imm(R2, 0)
    .jmpImm("set", R8, 1, "discard")
    .call("ringbuf_submit")
    .ja("out")
    .label("discard")
    .call("ringbuf_discard")
    .label("out")
    .mov64Imm(R0, 0)
    .exit()
    .assemble();
}

describe("ring buffer reader", { skip: kernelSkip }, () => {
  it("gets every record a program outputs, N exact", async () => {
    const N = 5000;
    const ring = createRingBuffer(256 * 1024, "test_ring");
    const reader = new RingBufferReader(ring.fd, 256 * 1024);
    const caller = startCaller(N);
    const prog = loadProgram({
      type: BPF_PROG_TYPE_RAW_TRACEPOINT,
      code: outputProgram(ring, caller.pid),
      license: EBPF_LICENSE,
      name: "test_ring",
    });
    const link = attachRawTracepoint(prog, "sys_enter");
    assert.equal(await caller.go(), 0);
    link.close();
    ebpfSys().close(prog);
    assert.equal(reader.pending(), N * 16);
    const pids: bigint[] = [];
    assert.equal(
      reader.drain((d) => pids.push(d.readBigUInt64LE(0))),
      N,
    );
    assert.equal(pids.length, N);
    const pidTgid = (BigInt(caller.pid) << 32n) | BigInt(caller.pid);
    assert.ok(pids.every((p) => p === pidTgid));
    assert.equal(reader.pending(), 0);
    assert.equal(
      reader.drain(() => assert.fail("nothing left")),
      0,
    );
    reader.close();
    ring.close();
  });

  it("skips discarded records and reads records that wrap around the ring's end", async () => {
    const size = 4 * ebpfSys().pageSize();
    const ring = createRingBuffer(size, "test_wrap");
    const counter = createMap({
      type: BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 1,
      name: "test_seq",
    });
    const reader = new RingBufferReader(ring.fd, size);
    // each reserve takes 24 bytes, kept or discarded; a round of 400 takes 9600 of the 16384, so rounds wrap
    const perRound = 400;
    const seen: bigint[] = [];
    for (let round = 0; round < 4; round++) {
      const caller = startCaller(perRound);
      const prog = loadProgram({
        type: BPF_PROG_TYPE_RAW_TRACEPOINT,
        code: reserveProgram(ring, counter, caller.pid),
        license: EBPF_LICENSE,
        name: "test_wrap",
      });
      const link = attachRawTracepoint(prog, "sys_enter");
      assert.equal(await caller.go(), 0);
      link.close();
      ebpfSys().close(prog);
      assert.equal(
        reader.drain((d) => {
          assert.equal(d.length, 16);
          assert.equal(d.readUInt32LE(4), caller.pid);
          seen.push(d.readBigUInt64LE(8));
        }),
        perRound / 2,
      );
    }
    const expected = Array.from({ length: (4 * perRound) / 2 }, (_, i) => BigInt(2 * i));
    assert.deepEqual(seen, expected);
    reader.close();
    counter.close();
    ring.close();
  });
});
