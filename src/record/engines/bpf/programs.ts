// The bpf engine's syscall programs (sys_enter, sys_exit), as eBPF instructions: pure, map fds and the
// kernel's layout in, bytes out (kernel.ts loads them). The shared parts and the state each process has are
// described in program-parts.ts; the process programs are in process-programs.ts.
import { EbpfAsm, R0, R1, R2, R3, R4, R6, R7, R8, R9, R10 } from "../../../ebpf/asm.js";
import { EVENT, TOTALS } from "./layout.js";
import { pathTail } from "./path-programs.js";
import {
  ARG,
  ARG_BITS,
  ARG_PTR,
  cachedCount,
  count,
  countKey,
  EV,
  K0,
  KEY32,
  type KernelLayout,
  lookup,
  type MapFds,
  NEEDS,
  NSINFO,
  ONE,
  oursOnly,
  PID_TGID,
  type ProgramOptions,
  REGS,
  readKernel,
  ST_PTR,
  scratch,
  sendSmall,
  sendWithString,
  stateOf,
  TMP,
  total,
} from "./program-parts.js";

export { processExec, processExit, processFork, signalDeliver } from "./process-programs.js";
export { ARG, ARG_BITS, type KernelLayout, type MapFds, type ProgramOptions } from "./program-parts.js";

/** raw_tp sys_enter(struct pt_regs *regs, long id): counts the call, by value when `args` says so. */
export function sysEnter(m: MapFds, o: ProgramOptions = {}): Buffer {
  const a = new EbpfAsm();
  a.mov64Reg(R6, R1);
  stateOf(a, m, "untraced");
  a.ja("traced");
  a.label("untraced");
  if (o.pidns) {
    // a seed given by its pid in sysfence's namespace: traced (in the state want holds) from its first call on, and its
    // pid in the initial namespace (what every other program sees) streamed as an S event
    a.ldImm64(R1, o.pidns.dev).ldImm64(R2, o.pidns.ino).mov64Reg(R3, R10).alu64Imm("add", R3, NSINFO);
    a.mov64Imm(R4, 8).call("get_ns_current_pid_tgid").jmpImm("ne", R0, 0, "out");
    a.ldxMem(4, R1, R10, NSINFO + 4).stxMem(4, R10, R1, KEY32);
    lookup(a, m.want, KEY32);
    a.jmpImm("eq", R0, 0, "out");
    a.ldxMem(4, R8, R0, 0); // the state it is traced in (want's value)
    a.ldMapFd(R1, m.want).mov64Reg(R2, R10).alu64Imm("add", R2, KEY32).call("map_delete_elem");
    a.jmpImm("ne", R0, 0, "out"); // (another thread of it mapped it first)
    a.stMem(8, R10, EV + 8, 0).stMem(8, R10, EV + 16, 0);
    a.stMem(4, R10, EV, EVENT.seed)
      .ldxMem(4, R1, R10, NSINFO + 4)
      .stxMem(4, R10, R1, EV + 4);
    a.mov64Reg(R1, R7)
      .alu64Imm("rsh", R1, 32)
      .stxMem(4, R10, R1, EV + 8)
      .stxMem(4, R10, R1, KEY32);
    a.stxMem(8, R10, R8, ONE);
    a.ldMapFd(R1, m.st)
      .mov64Reg(R2, R10)
      .alu64Imm("add", R2, KEY32)
      .mov64Reg(R3, R10)
      .alu64Imm("add", R3, ONE);
    a.mov64Imm(R4, 0).call("map_update_elem");
    // its state's pointer, as stateOf leaves it for a traced process (the delayed phase writes through it)
    lookup(a, m.st, KEY32);
    a.jmpImm("eq", R0, 0, "out").stxMem(8, R10, R0, ST_PTR);
    sendSmall(a, m, "seed");
    a.ja("ours");
  } else a.ja("out");
  a.label("traced");
  oursOnly(a, "out", "t");
  a.label("ours");
  if (o.delayed) {
    // the work phase from the CLOCK_MONOTONIC time in cfg[0] on (0: not started yet)
    a.jmpImm("set", R8, 1, "phased").stMem(4, R10, KEY32, 0);
    lookup(a, m.cfg, KEY32);
    a.jmpImm("eq", R0, 0, "phased")
      .ldxMem(8, R1, R0, 0)
      .jmpImm("eq", R1, 0, "phased")
      .stxMem(8, R10, R1, TMP);
    a.call("ktime_get_ns").ldxMem(8, R1, R10, TMP).jmpReg("lt", R0, R1, "phased");
    a.alu64Imm("or", R8, 1).ldxMem(8, R1, R10, ST_PTR).stxMem(8, R1, R8, 0);
    a.label("phased");
  }
  a.ldxMem(8, R9, R6, 8); // the syscall
  countKey(a, R9);
  a.stxMem(4, R10, R9, KEY32);
  lookup(a, m.args, KEY32);
  a.jmpImm("eq", R0, 0, "plain").mov64Reg(R9, R0).ldxMem(1, R1, R9, ARG.count).jmpImm("eq", R1, 0, "plain");
  // the values: v0..v2 read from pt_regs at the table's offsets, the others zero
  for (let k = 0; k < 3; k++) a.stMem(8, R10, K0 + 16 + 8 * k, 0);
  for (let k = 0; k < 3; k++) {
    if (k > 0) a.ldxMem(1, R1, R9, ARG.count).jmpImm("le", R1, k, "valued");
    a.ldxMem(8, R3, R6, 0)
      .ldxMem(1, R1, R9, ARG.value + k)
      .alu64Reg("add", R3, R1);
    readKernel(a, R10, K0 + 16 + 8 * k, 8, R3);
  }
  a.label("valued");
  count(a, m, m.c, K0, "c");
  a.ja("counted");
  a.label("plain");
  cachedCount(a, m, m.d, "d");
  a.label("counted");
  total(a, m, TOTALS.calls, "n");
  a.label("out").mov64Imm(R0, 0).exit();
  return a.assemble();
}

/**
 * raw_tp sys_exit(struct pt_regs *regs, long ret): counts a failed call (by process, thread and syscall),
 * sends the path a call named (read now: the kernel has copied it, so its page is there), and starts the
 * work phase after the call --after first:SYSCALL names.
 */
export function sysExit(m: MapFds, k: KernelLayout, btf = false, pathProgs?: number): Buffer {
  const a = new EbpfAsm();
  a.mov64Reg(R6, R1).stMem(8, R10, ARG_PTR, 0).ldxMem(8, R3, R6, 0);
  if (btf) {
    // tp_btf: ctx[0] is a typed struct pt_regs *, read directly (no helper call on every exit)
    a.ldxMem(8, R9, R3, k.syscallNr);
  } else {
    a.alu64Imm("add", R3, k.syscallNr);
    readKernel(a, R10, TMP, 8, R3);
    a.ldxMem(8, R9, R10, TMP);
  }
  // r8: what this exit needs — 1: count an error, ARG_BITS from the syscall's table entry
  a.mov64Imm(R8, 0).ldxMem(8, R1, R6, 8).jmpImm("sgt", R1, -1, "ok").jmpImm("slt", R1, -4095, "ok");
  a.mov64Imm(R8, 1);
  a.label("ok").stxMem(4, R10, R9, KEY32);
  lookup(a, m.args, KEY32);
  a.jmpImm("eq", R0, 0, "needs")
    .stxMem(8, R10, R0, ARG_PTR)
    .ldxMem(1, R1, R0, ARG.bits)
    .alu64Reg("or", R8, R1);
  a.label("needs").jmpImm("eq", R8, 0, "out");
  a.stxMem(8, R10, R8, NEEDS);
  stateOf(a, m, "out");
  oursOnly(a, "out", "t");
  a.ldxMem(8, R1, R10, NEEDS).jmpImm("set", R1, 1, "failed").ja("path");
  a.label("failed");
  countKey(a, R9);
  count(a, m, m.e, K0, "e");
  a.label("path").ldxMem(8, R1, R10, NEEDS).jmpImm("set", R1, ARG_BITS.path, "named").ja("first");
  a.label("named");
  // path-programs.ts's program reads every path use (a tail call; it returns only when the array is empty)
  if (pathProgs !== undefined) pathTail(a, pathProgs);
  a.ldxMem(8, R1, R10, ARG_PTR).jmpImm("eq", R1, 0, "first");
  scratch(a, m, "first");
  // header: kind, tgid, image, result; the open flags (0: none)
  a.stMem(4, R9, 0, EVENT.path).ldxMem(8, R1, R10, PID_TGID).alu64Imm("rsh", R1, 32).stxMem(4, R9, R1, 4);
  a.mov64Reg(R1, R8).alu64Imm("rsh", R1, 3).stxMem(4, R9, R1, 8).ldxMem(8, R1, R6, 8).stxMem(4, R9, R1, 12);
  // the registers' address as a number (tp_btf's typed pointer takes no variable offset)
  if (btf) readKernel(a, R10, REGS, 8, R6);
  else a.ldxMem(8, R1, R6, 0).stxMem(8, R10, R1, REGS);
  a.stMem(8, R9, 16, 0)
    .ldxMem(8, R1, R10, ARG_PTR)
    .ldxMem(1, R3, R1, ARG.flags)
    .jmpImm("eq", R3, 0, "noflags");
  a.ldxMem(8, R1, R10, REGS).alu64Reg("add", R3, R1).alu64Imm("sub", R3, 1);
  a.mov64Reg(R1, R9).alu64Imm("add", R1, 16).mov64Imm(R2, 8).call("probe_read_kernel");
  a.label("noflags").ldxMem(8, R1, R10, ARG_PTR).ldxMem(1, R3, R1, ARG.path).ldxMem(8, R1, R10, REGS);
  a.alu64Reg("add", R3, R1).alu64Imm("sub", R3, 1);
  readKernel(a, R10, TMP, 8, R3);
  a.ldxMem(8, R3, R10, TMP);
  sendWithString(a, m, false, "p");
  a.label("first").ldxMem(8, R1, R10, NEEDS).jmpImm("set", R1, ARG_BITS.first, "work").ja("out");
  a.label("work").alu64Imm("or", R8, 1).ldxMem(8, R1, R10, ST_PTR).stxMem(8, R1, R8, 0);
  a.label("out").mov64Imm(R0, 0).exit();
  return a.assemble();
}
