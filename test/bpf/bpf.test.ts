import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as O from "../../src/abi/opcodes.js";
import { Assembler } from "../../src/bpf/assembler.js";
import { Emulator } from "../../src/bpf/emulator.js";
import { decodeProgram, encodeProgram } from "../../src/bpf/insn.js";
import { verifyProgram } from "../../src/bpf/verify.js";

describe("assembler", () => {
  it("resolves far conditional jumps with trampolines and keeps semantics", () => {
    const asm = new Assembler();
    asm.load(0).jump(O.BPF_JEQ, 7, "far", "near").label("near");
    for (let i = 0; i < 300; i++) asm.ret(i);
    asm.label("far").ret(0x7fff0000);
    const prog = asm.assemble();
    assert.deepEqual(verifyProgram(prog), []);
    const emu = new Emulator(prog);
    assert.equal(emu.run({ nr: 7, arch: 0 }).value, 0x7fff0000);
    assert.equal(emu.run({ nr: 8, arch: 0 }).value, 0);
    // the far target is a ret, so the trampoline is a copy of it: no extra instruction executed
    assert.equal(emu.run({ nr: 7, arch: 0 }).executed, 3);
  });
  it("uses ja when the far target is not a return", () => {
    const asm = new Assembler();
    asm.load(0).jump(O.BPF_JEQ, 7, "far", "near").label("near");
    for (let i = 0; i < 300; i++) asm.ret(i);
    asm.label("far").load(4).ret(0x7fff0000);
    const prog = asm.assemble();
    assert.ok(prog.some((i) => i.code === (O.BPF_JMP | O.BPF_JA) && i.k > 255));
    assert.equal(new Emulator(prog).run({ nr: 7, arch: 0 }).value, 0x7fff0000);
  });
});

describe("encoding and the kernel's checks", () => {
  it("round-trips struct sock_filter bytes", () => {
    const prog = [
      { code: 0x20, jt: 0, jf: 0, k: 4 },
      { code: 0x15, jt: 1, jf: 0, k: 0xc000003e },
      { code: 0x06, jt: 0, jf: 0, k: 0 },
      { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 },
    ];
    assert.deepEqual(decodeProgram(encodeProgram(prog)), prog);
    assert.throws(() => decodeProgram(new Uint8Array(12), "x.bpf"), /x\.bpf: 12 bytes is not a whole number/);
  });
  it("rejects what seccomp_check_filter rejects", () => {
    assert.match(
      verifyProgram([
        { code: 0x20, jt: 0, jf: 0, k: 64 },
        { code: 0x06, jt: 0, jf: 0, k: 0 },
      ]).join(),
      /outside struct seccomp_data/,
    );
    assert.match(verifyProgram([{ code: 0x20, jt: 0, jf: 0, k: 4 }]).join(), /must be a return/);
    assert.match(
      verifyProgram([
        { code: 0x94, jt: 0, jf: 0, k: 3 },
        { code: 0x06, jt: 0, jf: 0, k: 0 },
      ]).join(),
      /not allowed/,
    );
    assert.match(
      verifyProgram([
        { code: 0x60, jt: 0, jf: 0, k: 2 },
        { code: 0x06, jt: 0, jf: 0, k: 0 },
      ]).join(),
      /before any store/,
    );
    assert.match(
      verifyProgram(Array.from({ length: 4097 }, () => ({ code: 0x06, jt: 0, jf: 0, k: 0 }))).join(),
      /too many BPF instructions: 4097/,
    );
  });
  it("emulates ALU, scratch memory and RET A like the kernel", () => {
    const prog = [
      { code: 0x20, jt: 0, jf: 0, k: 0 }, // A = nr
      { code: 0x04, jt: 0, jf: 0, k: 5 }, // A += 5
      { code: 0x02, jt: 0, jf: 0, k: 3 }, // M[3] = A
      { code: 0x00, jt: 0, jf: 0, k: 0 }, // A = 0
      { code: 0x60, jt: 0, jf: 0, k: 3 }, // A = M[3]
      { code: 0xa4, jt: 0, jf: 0, k: 0xffffffff }, // A ^= ~0
      { code: 0x16, jt: 0, jf: 0, k: 0 }, // ret A
    ];
    assert.deepEqual(verifyProgram(prog), []);
    assert.equal(new Emulator(prog).run({ nr: 10, arch: 0 }).value, ~15 >>> 0);
  });
});
