// A no-op eBPF program on the bpf engine's syscall hooks (raw tracepoints): what attaching anything there
// costs before it does a thing — the kernel's floor for every engine on those hooks (the first syscall
// probe moves every thread to the traced syscall path). `node dist/bench/ebpf-noop.js [HOOK …]` attaches
// to the hooks named (sys_enter, sys_exit; default both), prints READY once attached and detaches on
// SIGINT or SIGTERM.
import { BPF_PROG_TYPE_RAW_TRACEPOINT } from "../src/abi/ebpf.js";
import { EbpfAsm, R0 } from "../src/ebpf/asm.js";
import { attachRawTracepoint } from "../src/ebpf/attach.js";
import { EBPF_LICENSE, loadProgram } from "../src/ebpf/load.js";

const hooks = process.argv.slice(2);
const code = new EbpfAsm().mov64Imm(R0, 0).exit().assemble();
const links = (hooks.length ? hooks : ["sys_enter", "sys_exit"]).map((tp) =>
  attachRawTracepoint(
    loadProgram({ type: BPF_PROG_TYPE_RAW_TRACEPOINT, code, license: EBPF_LICENSE, name: `noop_${tp}` }),
    tp,
  ),
);
process.stdout.write("READY\n");
const keep = setInterval(() => {}, 1 << 30);
for (const s of ["SIGINT", "SIGTERM"] as const)
  process.on(s, () => {
    for (const l of links) l.close();
    clearInterval(keep);
  });
