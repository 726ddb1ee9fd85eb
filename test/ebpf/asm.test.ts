// The eBPF encoder and disassembler without a kernel: encodings written out by hand from the ISA document
// (docs.kernel.org/bpf/standardization/instruction-set.html), every instruction form through assemble →
// disassemble, and label errors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EbpfAsm, R0, R1, R2, R3, R6, R10 } from "../../src/ebpf/asm.js";
import { disassembleEbpf, listEbpf } from "../../src/ebpf/disasm.js";
import { SysfenceError } from "../../src/errors.js";

const hexOf = (b: Buffer) =>
  b
    .toString("hex")
    .replace(/(.{16})/g, "$1 ")
    .trim();

describe("eBPF encoding against the ISA document", () => {
  const cases: [string, (a: EbpfAsm) => EbpfAsm, string][] = [
    // {BPF_ALU64 | BPF_MOV | BPF_K = 0xb7, dst 0, imm 1}
    ["r0 = 1", (a) => a.mov64Imm(R0, 1), "b700000001000000"],
    // {BPF_JMP | BPF_EXIT = 0x95}
    ["exit", (a) => a.exit(), "9500000000000000"],
    // {BPF_LDX | BPF_MEM | BPF_DW = 0x79, src 10 (high nibble), dst 1 (low nibble), off -8}
    ["ldx dw", (a) => a.ldxMem(8, R1, R10, -8), "79a1f8ff00000000"],
    // {BPF_STX | BPF_MEM | BPF_DW = 0x7b, dst 10, src 1}
    ["stx dw", (a) => a.stxMem(8, R10, R1, -8), "7b1af8ff00000000"],
    // {BPF_ST | BPF_MEM | BPF_W = 0x62, dst 10, off -4, imm 7}
    ["st w", (a) => a.stMem(4, R10, -4, 7), "620afcff07000000"],
    // {BPF_JMP | BPF_CALL = 0x85, imm helper id 1}
    ["call", (a) => a.call("map_lookup_elem"), "8500000001000000"],
    // {BPF_LD | BPF_DW | BPF_IMM = 0x18, src BPF_PSEUDO_MAP_FD 1, dst 1, imm fd 3}, then a zero slot
    ["ld map fd", (a) => a.ldMapFd(R1, 3), "1811000003000000 0000000000000000"],
    // 64-bit immediate: low half in the first imm, high half in the second
    ["ld_imm64", (a) => a.ldImm64(R0, 0x1122334455667788n), "1800000088776655 0000000044332211"],
    // {BPF_STX | BPF_ATOMIC | BPF_DW = 0xdb, dst 0, src 1, imm BPF_ADD 0}
    ["atomic add", (a) => a.atomicAdd(8, R0, R1, 0), "db10000000000000"],
    // {BPF_JMP | BPF_JEQ | BPF_K = 0x15, dst 0, off +1}: jump over the next instruction to "out"
    [
      "jeq",
      (a) => a.jmpImm("eq", R0, 0, "out").mov64Imm(R0, 1).label("out").exit(),
      "1500010000000000 b700000001000000 9500000000000000",
    ],
    // {BPF_ALU64 | BPF_ADD | BPF_K = 0x07, dst 10, imm -8}
    ["add imm", (a) => a.alu64Imm("add", R10, -8), "070a0000f8ffffff"],
    // {BPF_ALU | BPF_MOV | BPF_X = 0xbc, dst 1, src 2}
    ["mov32 reg", (a) => a.mov32Reg(R1, R2), "bc21000000000000"],
  ];
  for (const [name, build, bytes] of cases)
    it(name, () => assert.equal(hexOf(build(new EbpfAsm()).assemble()), bytes));
});

describe("eBPF assemble → disassemble", () => {
  it("prints every instruction form", () => {
    const a = new EbpfAsm()
      .mov64Imm(R0, 0)
      .mov64Reg(R6, R1)
      .mov32Imm(R2, -1)
      .mov32Reg(R2, R3)
      .alu64Imm("add", R2, 8)
      .alu64Imm("sub", R2, 1)
      .alu64Imm("mul", R2, 3)
      .alu64Imm("div", R2, 3)
      .alu64Imm("or", R2, 0x10)
      .alu64Imm("and", R2, 0xff)
      .alu64Imm("lsh", R2, 32)
      .alu64Imm("rsh", R2, 32)
      .alu64Imm("arsh", R2, 1)
      .alu64Imm("xor", R2, 5)
      .alu64Imm("mod", R2, 7)
      .alu64Reg("add", R2, R3)
      .alu32Imm("add", R2, 1)
      .alu32Reg("xor", R2, R3)
      .neg64(R2)
      .endian("be", R2, 16)
      .ldImm64(R3, 0xdeadbeefcafen)
      .ldMapFd(R1, 7)
      .ldxMem(1, R2, R1, 0)
      .ldxMem(2, R2, R1, 2)
      .ldxMem(4, R2, R1, 4)
      .ldxMem(8, R1, R10, -8)
      .stxMem(8, R10, R1, -16)
      .stMem(4, R10, -4, 7)
      .atomicAdd(4, R0, R1, 8)
      .atomicAdd(8, R0, R1, 0)
      .label("top")
      .jmpImm("eq", R0, 0, "end")
      .jmpImm("ne", R0, 1, "end")
      .jmpImm("gt", R0, 2, "end")
      .jmpImm("ge", R0, 3, "end")
      .jmpImm("lt", R0, 4, "end")
      .jmpImm("le", R0, 5, "end")
      .jmpImm("sgt", R0, -1, "end")
      .jmpImm("sge", R0, 6, "end")
      .jmpImm("slt", R0, 7, "end")
      .jmpImm("sle", R0, 8, "end")
      .jmpImm("set", R0, 1, "end")
      .jmpReg("eq", R0, R1, "top")
      .jmp32Imm("lt", R2, 9, "end")
      .jmp32Reg("sgt", R2, R3, "end")
      .ja("end")
      .call("get_current_pid_tgid")
      .call(999)
      .label("end")
      .exit();
    assert.deepEqual(disassembleEbpf(a.assemble()), [
      "r0 = 0x0",
      "r6 = r1",
      "w2 = -0x1",
      "w2 = w3",
      "r2 += 0x8",
      "r2 -= 0x1",
      "r2 *= 0x3",
      "r2 /= 0x3",
      "r2 |= 0x10",
      "r2 &= 0xff",
      "r2 <<= 0x20",
      "r2 >>= 0x20",
      "r2 s>>= 0x1",
      "r2 ^= 0x5",
      "r2 %= 0x7",
      "r2 += r3",
      "w2 += 0x1",
      "w2 ^= w3",
      "r2 = -r2",
      "r2 = be16 r2",
      "r3 = 0xdeadbeefcafe ll",
      "r1 = map[fd:7]",
      "r2 = *(u8 *)(r1 + 0)",
      "r2 = *(u16 *)(r1 + 2)",
      "r2 = *(u32 *)(r1 + 4)",
      "r1 = *(u64 *)(r10 - 8)",
      "*(u64 *)(r10 - 16) = r1",
      "*(u32 *)(r10 - 4) = 0x7",
      "lock *(u32 *)(r0 + 8) += r1",
      "lock *(u64 *)(r0 + 0) += r1",
      "if r0 == 0x0 goto +16",
      "if r0 != 0x1 goto +15",
      "if r0 > 0x2 goto +14",
      "if r0 >= 0x3 goto +13",
      "if r0 < 0x4 goto +12",
      "if r0 <= 0x5 goto +11",
      "if r0 s> -0x1 goto +10",
      "if r0 s>= 0x6 goto +9",
      "if r0 s< 0x7 goto +8",
      "if r0 s<= 0x8 goto +7",
      "if r0 & 0x1 goto +6",
      "if r0 == r1 goto -12",
      "if w2 < 0x9 goto +4",
      "if w2 s> w3 goto +3",
      "goto +2",
      "call get_current_pid_tgid",
      "call #999",
      "exit",
    ]);
    assert.equal(a.length, 50);
    assert.match(listEbpf(a.assemble()), /^ {3}0: r0 = 0x0\n/);
    assert.match(listEbpf(a.assemble()), /\n {2}49: exit$/);
  });

  it("prints an unknown opcode as such", () => {
    assert.deepEqual(disassembleEbpf(Buffer.from("ff01000000000000", "hex")), [
      ".insn 0xff dst=r1 src=r0 off=0 imm=0",
    ]);
  });
});

describe("eBPF assembler errors", () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof SysfenceError);
      return `${e.code}: ${e.message}`;
    }
    assert.fail("no error");
  };
  it("names an undefined label", () => {
    assert.match(
      code(() => new EbpfAsm().ja("nowhere").exit().assemble()),
      /E_EBPF: .*label "nowhere", which is not defined/,
    );
  });
  it("names a label out of reach", () => {
    const a = new EbpfAsm().ja("far");
    for (let i = 0; i < 32768; i++) a.mov64Imm(R0, 0);
    a.label("far").exit();
    assert.match(
      code(() => a.assemble()),
      /label "far" is 32768 instructions away/,
    );
  });
  it("refuses a register, an offset and a size out of range", () => {
    assert.match(
      code(() => new EbpfAsm().mov64Imm(11, 0)),
      /register dst is 11/,
    );
    assert.match(
      code(() => new EbpfAsm().ldxMem(8, R0, R10, -40000)),
      /offset -40000/,
    );
    assert.match(
      code(() => new EbpfAsm().ldxMem(3 as 4, R0, R10, 0)),
      /size 3/,
    );
    assert.match(
      code(() => new EbpfAsm().mov64Imm(R0, 2 ** 33)),
      /does not fit in 32 bits/,
    );
    assert.match(
      code(() => new EbpfAsm().label("a").label("a")),
      /"a" is defined twice/,
    );
  });
});
