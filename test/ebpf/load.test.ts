// loadProgram under a storm of signals: the verifier abandons a load when a signal is pending (EAGAIN),
// as a child's SIGCHLD does to a recorder; loadProgram loads again. Without the retry about a third of
// these loads failed here.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { BPF_PROG_LOAD, BPF_PROG_TYPE_RAW_TRACEPOINT } from "../../src/abi/ebpf.js";
import { EbpfAsm, R0 } from "../../src/ebpf/asm.js";
import { EBPF_LICENSE, loadProgram, loadProgramAsync } from "../../src/ebpf/load.js";
import { ebpfSys } from "../../src/ebpf/sys.js";
import { kernelSkip } from "./kernel.js";

describe("program load", { skip: kernelSkip }, () => {
  it("loads every time while signals keep arriving", async (t) => {
    // a long program: the verifier walks 8,000 instructions, time for a signal to land
    const a = new EbpfAsm();
    for (let i = 0; i < 4000; i++) a.mov64Imm(R0, i).jmpImm("eq", R0, 5, `l${i}`).label(`l${i}`);
    const code = a.mov64Imm(R0, 0).exit().assemble();
    const onSignal = () => {};
    process.on("SIGUSR2", onSignal);
    // a signal every few milliseconds, the scale of a load here: many first tries are abandoned, a retry
    // lands between two signals (an unbroken kill loop starved every retry on a loaded CI machine)
    const storm = spawn("sh", ["-c", `while kill -USR2 ${process.pid} 2>/dev/null; do sleep 0.005; done`], {
      stdio: "ignore",
    });
    try {
      await new Promise((r) => setTimeout(r, 100));
      let loaded = 0;
      for (let i = 0; i < 20; i++) {
        ebpfSys().close(
          loadProgram({
            type: BPF_PROG_TYPE_RAW_TRACEPOINT,
            code,
            license: EBPF_LICENSE,
            name: "test_storm",
          }),
        );
        loaded++;
        await new Promise((r) => setImmediate(r)); // let Node run its signal handler
      }
      assert.equal(loaded, 20);
      t.diagnostic("20 loads of 8,002 instructions under SIGUSR2 from a shell loop");
    } finally {
      storm.kill();
      process.off("SIGUSR2", onSignal);
    }
  });

  it("runs the verifier once per load while signals keep arriving, and the signals still come", async (t) => {
    const a = new EbpfAsm();
    for (let i = 0; i < 4000; i++) a.mov64Imm(R0, i).jmpImm("eq", R0, 5, `l${i}`).label(`l${i}`);
    const code = a.mov64Imm(R0, 0).exit().assemble();
    let signals = 0;
    const onSignal = () => {
      signals++;
    };
    process.on("SIGUSR2", onSignal);
    const sys = ebpfSys();
    const raw = sys.bpfRaw;
    let loads = 0;
    sys.bpfRaw = (cmd, attr) => {
      if (cmd === BPF_PROG_LOAD) loads++;
      return raw(cmd, attr);
    };
    const storm = spawn("sh", ["-c", `while kill -USR2 ${process.pid} 2>/dev/null; do sleep 0.005; done`], {
      stdio: "ignore",
    });
    try {
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 20; i++) {
        sys.close(
          loadProgram({ type: BPF_PROG_TYPE_RAW_TRACEPOINT, code, license: EBPF_LICENSE, name: "test_once" }),
        );
        await new Promise((r) => setTimeout(r, 10)); // signals blocked during the load are delivered now
      }
      // before signals were blocked during a load, most loads here were abandoned (EAGAIN) and made again
      assert.equal(loads, 20, `${loads} BPF_PROG_LOAD calls for 20 loads`);
      assert.ok(signals > 0, "SIGUSR2 reached Node's handler after the loads");
      t.diagnostic(`20 loads, 20 verifier runs, ${signals} signals handled`);
    } finally {
      sys.bpfRaw = raw;
      storm.kill();
      process.off("SIGUSR2", onSignal);
    }
  });

  it("loadProgramAsync loads a program (verified on another thread), and a refusal is explained as loadProgram's", async () => {
    // (whether this thread's timers run during the load is a matter of timing: a fast verifier finished
    // before the first tick in CI; the start-up bench measures the overlap instead)
    const a = new EbpfAsm();
    for (let i = 0; i < 4000; i++) a.mov64Imm(R0, i).jmpImm("eq", R0, 5, `l${i}`).label(`l${i}`);
    const code = a.mov64Imm(R0, 0).exit().assemble();
    const fd = await loadProgramAsync({
      type: BPF_PROG_TYPE_RAW_TRACEPOINT,
      code,
      license: EBPF_LICENSE,
      name: "test_async",
    });
    assert.ok(fd >= 0);
    ebpfSys().close(fd);
    const refused = new EbpfAsm().mov64Imm(R0, 0).assemble(); // no exit
    await assert.rejects(
      loadProgramAsync({
        type: BPF_PROG_TYPE_RAW_TRACEPOINT,
        code: refused,
        license: EBPF_LICENSE,
        name: "test_refused",
      }),
      (e: Error & { code?: string }) => e.code === "E_EBPF_VERIFIER" && /test_refused/.test(e.message),
    );
  });
});
