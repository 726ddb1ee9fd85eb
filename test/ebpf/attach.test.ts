// Programs built with EbpfAsm, loaded and attached on the real kernel: a counter of one process's
// getppid() calls on raw_tp, tp_btf and classic tracepoint sys_enter counts exactly the N calls a child
// makes; a refused program's error carries the verifier's words.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_PROG_TYPE_RAW_TRACEPOINT,
  BPF_PROG_TYPE_TRACEPOINT,
  BPF_PROG_TYPE_TRACING,
  BPF_TRACE_RAW_TP,
} from "../../src/abi/ebpf.js";
import { EbpfAsm, R0, R1, R2, R6, R7, R10 } from "../../src/ebpf/asm.js";
import { attachRawTracepoint, attachTpBtf, attachTracepoint, type EbpfLink } from "../../src/ebpf/attach.js";
import { vmlinuxBtf } from "../../src/ebpf/btf.js";
import { EBPF_LICENSE, loadProgram } from "../../src/ebpf/load.js";
import { createMap, type EbpfMap, sumPerCpuU64 } from "../../src/ebpf/maps.js";
import { ebpfSys } from "../../src/ebpf/sys.js";
import { SysfenceError } from "../../src/errors.js";
import { kernelSkip, NR_GETPPID, startCaller } from "./kernel.js";

/**
 * Counts getppid() calls of process `tgid` into slot 0 of `map` (a u64 array). The syscall number is the
 * u64 at ctx + 8 on all three hooks: raw_tp and tp_btf args[1] (long id), and raw_syscalls/sys_enter's
 * `long id` after the 8 bytes of common fields.
 */
function counter(map: EbpfMap, tgid: number): Buffer {
  return new EbpfAsm()
    .ldxMem(8, R7, R1, 8)
    .jmpImm("ne", R7, NR_GETPPID, "out")
    .call("get_current_pid_tgid")
    .alu64Imm("rsh", R0, 32)
    .jmpImm("ne", R0, tgid, "out")
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
}

const N = 5000;

async function countWith(
  type: number,
  attach: (prog: number) => EbpfLink,
  extra: { expectedAttachType?: number; attachBtfId?: number } = {},
): Promise<{ count: bigint; link: EbpfLink }> {
  const map = createMap({
    type: BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: 8,
    maxEntries: 1,
    name: "test_count",
  });
  const caller = startCaller(N);
  const prog = loadProgram({
    type,
    code: counter(map, caller.pid),
    license: EBPF_LICENSE,
    name: "test_count",
    ...extra,
  });
  const link = attach(prog);
  try {
    assert.equal(await caller.go(), 0);
  } finally {
    link.close();
    ebpfSys().close(prog);
  }
  const value = map.lookup(Buffer.alloc(4));
  map.close();
  return { count: value!.readBigUInt64LE(0), link };
}

describe("eBPF programs on the kernel", { skip: kernelSkip }, () => {
  it("raw_tp sys_enter counts a child's getppid() calls exactly", async () => {
    const { count, link } = await countWith(BPF_PROG_TYPE_RAW_TRACEPOINT, (p) =>
      attachRawTracepoint(p, "sys_enter"),
    );
    assert.equal(count, BigInt(N));
    assert.equal(link.kind, "raw_tp");
  });

  it("tp_btf sys_enter counts them exactly", async () => {
    const attachBtfId = vmlinuxBtf().typeId("btf_trace_sys_enter", "typedef");
    assert.ok(attachBtfId! > 0);
    const { count } = await countWith(BPF_PROG_TYPE_TRACING, (p) => attachTpBtf(p, "sys_enter"), {
      expectedAttachType: BPF_TRACE_RAW_TP,
      attachBtfId,
    });
    assert.equal(count, BigInt(N));
  });

  it("classic tracepoint raw_syscalls/sys_enter counts them exactly", async () => {
    const { count, link } = await countWith(BPF_PROG_TYPE_TRACEPOINT, (p) =>
      attachTracepoint(p, "raw_syscalls", "sys_enter"),
    );
    assert.equal(count, BigInt(N));
    assert.equal(link.target, "raw_syscalls/sys_enter");
  });

  it("counts nothing once the link is closed", async () => {
    const map = createMap({
      type: BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 1,
      name: "test_count",
    });
    const caller = startCaller(N);
    const prog = loadProgram({
      type: BPF_PROG_TYPE_RAW_TRACEPOINT,
      code: counter(map, caller.pid),
      license: EBPF_LICENSE,
    });
    attachRawTracepoint(prog, "sys_enter").close();
    ebpfSys().close(prog);
    assert.equal(await caller.go(), 0);
    assert.equal(map.lookup(Buffer.alloc(4))!.readBigUInt64LE(0), 0n);
    map.close();
  });

  it("sums a per-CPU counter over every possible CPU", async () => {
    const map = createMap({
      type: BPF_MAP_TYPE_PERCPU_ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 1,
      name: "test_pcpu",
    });
    const caller = startCaller(N);
    // per-CPU slots need no atomic add: each CPU has its own
    const code = new EbpfAsm()
      .ldxMem(8, R7, R1, 8)
      .jmpImm("ne", R7, NR_GETPPID, "out")
      .call("get_current_pid_tgid")
      .alu64Imm("rsh", R0, 32)
      .jmpImm("ne", R0, caller.pid, "out")
      .stMem(4, R10, -4, 0)
      .mov64Reg(R2, R10)
      .alu64Imm("add", R2, -4)
      .ldMapFd(R1, map.fd)
      .call("map_lookup_elem")
      .jmpImm("eq", R0, 0, "out")
      .ldxMem(8, R6, R0, 0)
      .alu64Imm("add", R6, 1)
      .stxMem(8, R0, R6, 0)
      .label("out")
      .mov64Imm(R0, 0)
      .exit()
      .assemble();
    const prog = loadProgram({
      type: BPF_PROG_TYPE_RAW_TRACEPOINT,
      code,
      license: EBPF_LICENSE,
      name: "test_pcpu",
    });
    const link = attachRawTracepoint(prog, "sys_enter");
    assert.equal(await caller.go(), 0);
    link.close();
    ebpfSys().close(prog);
    const value = map.lookup(Buffer.alloc(4))!;
    assert.equal(value.length, map.userValueSize);
    assert.equal(sumPerCpuU64(value, map.slotSize), BigInt(N));
    map.close();
  });

  it("a refused program's error carries the verifier's last lines", () => {
    // exit without setting r0: the verifier says "R0 !read_ok"
    const code = new EbpfAsm().mov64Reg(R6, R1).exit().assemble();
    assert.throws(
      () =>
        loadProgram({ type: BPF_PROG_TYPE_RAW_TRACEPOINT, code, license: EBPF_LICENSE, name: "bad_prog" }),
      (e: unknown) => {
        assert.ok(e instanceof SysfenceError);
        assert.equal(e.code, "E_EBPF_VERIFIER");
        assert.match(e.message, /"bad_prog"/);
        assert.match(e.message, /EACCES/);
        assert.match(e.message, /R0 !read_ok/);
        return true;
      },
    );
  });

  it("an out-of-bounds stack read is refused with the verifier's words", () => {
    const code = new EbpfAsm().ldxMem(8, R0, R10, 8).exit().assemble();
    assert.throws(
      () =>
        loadProgram({ type: BPF_PROG_TYPE_RAW_TRACEPOINT, code, license: EBPF_LICENSE, name: "bad_stack" }),
      /invalid (read from stack|stack off|mem access)/,
    );
  });

  it("an unknown raw tracepoint is an E_EBPF naming it", () => {
    const prog = loadProgram({
      type: BPF_PROG_TYPE_RAW_TRACEPOINT,
      code: new EbpfAsm().mov64Imm(R0, 0).exit().assemble(),
      license: EBPF_LICENSE,
    });
    try {
      assert.throws(
        () => attachRawTracepoint(prog, "no_such_tracepoint"),
        /BPF_RAW_TRACEPOINT_OPEN.*"no_such_tracepoint".*ENOENT/,
      );
      assert.throws(
        () => attachTracepoint(prog, "syscalls", "no_such_event"),
        /"syscalls\/no_such_event" is not in/,
      );
    } finally {
      ebpfSys().close(prog);
    }
  });
});
