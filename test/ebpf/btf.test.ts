// The BTF reader: a blob built by hand (typedef'd struct with an anonymous union, a bitfield, an array,
// const and pointers) checks the parse without a kernel; the real /sys/kernel/btf/vmlinux checks
// task_struct, pt_regs and btf_trace_sys_enter.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { btfTraceId, parseBtf, VMLINUX_BTF, vmlinuxBtf } from "../../src/ebpf/btf.js";
import { SysfenceError } from "../../src/errors.js";

/** A BTF blob from (kind, name, info-vlen, kind_flag, size/type, extra words) records and their names. */
function blob(
  types: {
    kind: number;
    name: string;
    vlen?: number;
    kflag?: boolean;
    sizeOrType: number;
    extra?: number[];
  }[],
  names: string[],
): Buffer {
  const strs = ["", ...names];
  const strOff = new Map<string, number>();
  let s = 0;
  for (const n of strs) {
    if (!strOff.has(n)) strOff.set(n, s);
    s += Buffer.byteLength(n) + 1;
  }
  const strBuf = Buffer.concat(strs.map((n) => Buffer.from(`${n}\0`)));
  const words: number[] = [];
  for (const t of types) {
    words.push(
      strOff.get(t.name)!,
      ((t.kflag ? 1 : 0) << 31) | (t.kind << 24) | (t.vlen ?? 0),
      t.sizeOrType,
      ...(t.extra ?? []),
    );
  }
  const typeBuf = Buffer.alloc(words.length * 4);
  for (const [i, w] of words.entries()) typeBuf.writeUInt32LE(w >>> 0, i * 4);
  const hdr = Buffer.alloc(24);
  hdr.writeUInt16LE(0xeb9f, 0);
  hdr[2] = 1;
  hdr.writeUInt32LE(24, 4);
  hdr.writeUInt32LE(0, 8);
  hdr.writeUInt32LE(typeBuf.length, 12);
  hdr.writeUInt32LE(typeBuf.length, 16);
  hdr.writeUInt32LE(strBuf.length, 20);
  return Buffer.concat([hdr, typeBuf, strBuf]);
}

const names = [
  "int",
  "long",
  "task",
  "pid",
  "flags",
  "kind",
  "u",
  "a",
  "b",
  "parent",
  "comm",
  "char",
  "task_t",
  "state",
  "ops",
];
const off = (name: string) => {
  const strs = ["", ...names];
  let s = 0;
  for (const n of strs) {
    if (n === name) return s;
    s += Buffer.byteLength(n) + 1;
  }
  throw new Error(name);
};
// ids: 1 int, 2 long, 3 char, 4 ptr → 6, 5 const → 2, 6 struct task, 7 anonymous union, 8 typedef task_t → 6,
// 9 array char[16], 10 struct with bitfields (kind_flag)
const hand = blob(
  [
    { kind: 1, name: "int", sizeOrType: 4, extra: [0x01000020] },
    { kind: 1, name: "long", sizeOrType: 8, extra: [0x01000040] },
    { kind: 1, name: "char", sizeOrType: 1, extra: [0x00000008] },
    { kind: 2, name: "", sizeOrType: 6 },
    { kind: 10, name: "", sizeOrType: 2 },
    {
      kind: 4,
      name: "task",
      vlen: 5,
      sizeOrType: 48,
      // members: pid int @0; (anon union) @64 bits; parent *task @128; comm char[16] @192; state (kflag struct) @320
      extra: [off("pid"), 1, 0, 0, 7, 64, off("parent"), 4, 128, off("comm"), 9, 192, off("state"), 10, 320],
    },
    { kind: 5, name: "", vlen: 2, sizeOrType: 8, extra: [off("a"), 5, 0, off("b"), 1, 0] },
    { kind: 8, name: "task_t", sizeOrType: 6 },
    { kind: 3, name: "", sizeOrType: 0, extra: [3, 1, 16] },
    {
      kind: 4,
      name: "",
      vlen: 2,
      kflag: true,
      sizeOrType: 4,
      extra: [off("flags"), 1, (3 << 24) | 0, off("kind"), 1, (5 << 24) | 3],
    },
  ],
  names,
);

describe("BTF parse (by hand)", () => {
  const btf = parseBtf(hand, "hand.btf");
  it("indexes types by id, name and kind", () => {
    assert.equal(btf.count, 10);
    assert.equal(btf.typeId("task"), 6);
    assert.equal(btf.typeId("task", "typedef"), undefined);
    assert.equal(btf.typeId("task_t", "typedef"), 8);
    assert.equal(btf.typeId("nothing"), undefined);
    assert.equal(btf.kind(7), "union");
    assert.equal(btf.name(7), "");
    assert.equal(btf.resolve(8), 6);
    assert.equal(btf.sizeOf(9), 16);
    assert.equal(btf.sizeOf(5), 8);
  });
  it("finds members through anonymous unions, typedefs, and in bitfields", () => {
    assert.deepEqual(btf.memberOffset("task", "pid"), { byteOffset: 0, bitOffset: 0, size: 4, typeId: 1 });
    assert.deepEqual(btf.memberOffset("task", "a"), { byteOffset: 8, bitOffset: 64, size: 8, typeId: 5 });
    assert.deepEqual(btf.memberOffset("task", "b"), { byteOffset: 8, bitOffset: 64, size: 4, typeId: 1 });
    assert.deepEqual(btf.memberOffset("task", "parent"), {
      byteOffset: 16,
      bitOffset: 128,
      size: 8,
      typeId: 4,
    });
    assert.deepEqual(btf.memberOffset(8, "comm"), { byteOffset: 24, bitOffset: 192, size: 16, typeId: 9 });
    assert.deepEqual(btf.memberOffset("task", "state.kind"), {
      byteOffset: 40,
      bitOffset: 323,
      bitSize: 5,
      size: 4,
      typeId: 1,
    });
    assert.equal(btf.struct("task").members.length, 5);
  });
  it("names what it cannot find", () => {
    assert.throws(
      () => btf.memberOffset("task", "nope"),
      /struct task has no member "nope" \(looking for task\.nope\)/,
    );
    assert.throws(
      () => btf.memberOffset("task", "pid.x"),
      /task\.pid is an int, not a struct; it has no member "x"/,
    );
    assert.throws(() => btf.struct("nothing"), /has no struct or union named "nothing"/);
    assert.throws(
      () => parseBtf(Buffer.alloc(40), "zero.btf"),
      (e: unknown) =>
        e instanceof SysfenceError && /zero\.btf does not start with the BTF magic/.test(e.message),
    );
    assert.throws(() => parseBtf(hand.subarray(0, 60), "short.btf"), /short\.btf is cut short/);
  });
});

const noBtf = existsSync(VMLINUX_BTF)
  ? false
  : `${VMLINUX_BTF} is missing (a kernel without CONFIG_DEBUG_INFO_BTF)`;

describe("BTF of the running kernel", { skip: noBtf }, () => {
  it("has task_struct's tgid and real_parent", () => {
    const btf = vmlinuxBtf();
    const tgid = btf.memberOffset("task_struct", "tgid");
    assert.equal(tgid.size, 4);
    assert.equal(btf.name(btf.resolve(tgid.typeId)), "int"); // pid_t
    const parent = btf.memberOffset("task_struct", "real_parent");
    assert.equal(parent.size, 8);
    assert.equal(btf.kind(parent.typeId), "ptr");
    assert.ok(parent.byteOffset > tgid.byteOffset);
    assert.equal(btf.memberOffset("task_struct", "comm").size, 16);
  });
  it("has x86_64 pt_regs with the syscall argument registers in order", {
    skip: process.arch !== "x64" && "x86_64 only",
  }, () => {
    const btf = vmlinuxBtf();
    // the kernel's syscall ABI: rdi, rsi, rdx, r10, r8, r9; struct pt_regs (arch/x86/include/asm/ptrace.h)
    const at = (m: string) => btf.memberOffset("pt_regs", m).byteOffset;
    assert.deepEqual(
      ["di", "si", "dx", "r10", "r8", "r9", "orig_ax", "ax"].map(at),
      [112, 104, 96, 56, 72, 64, 120, 80],
    );
  });
  it("has btf_trace_sys_enter, and vmlinuxBtf() parses once", () => {
    assert.ok(btfTraceId("sys_enter") > 0);
    assert.equal(vmlinuxBtf().kind(btfTraceId("sys_enter")), "typedef");
    assert.equal(vmlinuxBtf(), vmlinuxBtf());
    assert.throws(() => btfTraceId("no_such_tracepoint"), /no btf_trace_no_such_tracepoint/);
  });
});
