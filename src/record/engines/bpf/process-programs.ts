// The bpf engine's process programs (fork, exec, exit, signal delivery), as eBPF instructions: pure, map
// fds and the kernel's layout in, bytes out (kernel.ts loads them); shared parts in program-parts.ts.
import { EbpfAsm, R0, R1, R2, R3, R4, R6, R7, R8, R9, R10 } from "../../../ebpf/asm.js";
import { EVENT, TOTALS } from "./layout.js";
import {
  EV,
  KEY32,
  type KernelLayout,
  lookup,
  type MapFds,
  ONE,
  oursOnly,
  readKernel,
  ST_PTR,
  scratch,
  sendSmall,
  sendWithString,
  stateOf,
  TMP,
  total,
} from "./program-parts.js";

/** raw_tp sched_process_fork(parent, child): a new process of a traced one gets its image number and state. */
export function processFork(m: MapFds, k: KernelLayout): Buffer {
  const a = new EbpfAsm();
  a.mov64Reg(R6, R1);
  stateOf(a, m, "out");
  a.ldxMem(8, R3, R6, 8).alu64Imm("add", R3, k.taskPid);
  readKernel(a, R10, EV + 8, 4, R3);
  a.ldxMem(8, R3, R6, 8).alu64Imm("add", R3, k.taskTgid);
  readKernel(a, R10, TMP, 4, R3);
  // a new thread (pid != tgid) is its process's: nothing to do
  a.ldxMem(4, R1, R10, EV + 8)
    .ldxMem(4, R2, R10, TMP)
    .jmpReg("ne", R1, R2, "out");
  a.stxMem(4, R10, R1, KEY32);
  a.mov64Imm(R9, 1);
  lookup(a, m.img, KEY32);
  a.jmpImm("eq", R0, 0, "first").ldxMem(4, R9, R0, 0).alu64Imm("add", R9, 1);
  a.label("first").stxMem(4, R10, R9, TMP);
  a.ldMapFd(R1, m.img)
    .mov64Reg(R2, R10)
    .alu64Imm("add", R2, KEY32)
    .mov64Reg(R3, R10)
    .alu64Imm("add", R3, TMP);
  a.mov64Imm(R4, 0).call("map_update_elem");
  a.mov64Reg(R1, R9).alu64Imm("lsh", R1, 3).mov64Reg(R2, R8).alu64Imm("and", R2, 1).alu64Reg("or", R1, R2);
  a.alu64Imm("or", R1, 2).stxMem(8, R10, R1, ONE);
  a.ldMapFd(R1, m.st).mov64Reg(R2, R10).alu64Imm("add", R2, KEY32).mov64Reg(R3, R10).alu64Imm("add", R3, ONE);
  a.mov64Imm(R4, 0).call("map_update_elem").jmpImm("eq", R0, 0, "event");
  total(a, m, TOTALS.lostEvents, "full");
  a.label("event")
    .stMem(4, R10, EV, EVENT.fork)
    .mov64Reg(R1, R7)
    .alu64Imm("rsh", R1, 32)
    .stxMem(4, R10, R1, EV + 4);
  a.stxMem(4, R10, R9, EV + 12)
    .alu64Imm("rsh", R8, 3)
    .stxMem(4, R10, R8, EV + 16)
    .stMem(4, R10, EV + 20, 0);
  sendSmall(a, m, "f");
  a.label("out").mov64Imm(R0, 0).exit();
  return a.assemble();
}

/** raw_tp sched_process_exec(p, old_pid, bprm): the process's next image, and the file it runs. */
export function processExec(m: MapFds, k: KernelLayout): Buffer {
  const a = new EbpfAsm();
  a.mov64Reg(R6, R1);
  stateOf(a, m, "out");
  a.mov64Imm(R9, 1);
  lookup(a, m.img, KEY32);
  a.jmpImm("eq", R0, 0, "first").ldxMem(4, R9, R0, 0).alu64Imm("add", R9, 1);
  a.label("first").stxMem(4, R10, R9, TMP);
  a.ldMapFd(R1, m.img)
    .mov64Reg(R2, R10)
    .alu64Imm("add", R2, KEY32)
    .mov64Reg(R3, R10)
    .alu64Imm("add", R3, TMP);
  a.mov64Imm(R4, 0).call("map_update_elem");
  // the new state: image << 3 | traced and work bits (the launcher's bit ends with its exec)
  a.mov64Reg(R1, R9).alu64Imm("lsh", R1, 3).alu64Imm("and", R8, 3).alu64Reg("or", R8, R1);
  a.ldxMem(8, R1, R10, ST_PTR).stxMem(8, R1, R8, 0);
  scratch(a, m, "out");
  a.stMem(4, R9, 0, EVENT.exec).mov64Reg(R1, R7).alu64Imm("rsh", R1, 32).stxMem(4, R9, R1, 4);
  a.stxMem(4, R9, R7, 8).alu64Imm("rsh", R8, 3).stxMem(4, R9, R8, 12).stMem(8, R9, 16, 0);
  a.ldxMem(8, R3, R6, 16).alu64Imm("add", R3, k.binprmFilename);
  readKernel(a, R10, TMP, 8, R3);
  a.ldxMem(8, R3, R10, TMP);
  sendWithString(a, m, true, "x");
  a.label("out").mov64Imm(R0, 0).exit();
  return a.assemble();
}

/** raw_tp sched_process_exit(p, …): the last thread of a traced process ends it (its state goes, its status is sent). */
export function processExit(m: MapFds, k: KernelLayout): Buffer {
  const a = new EbpfAsm();
  a.mov64Reg(R6, R1);
  stateOf(a, m, "out");
  a.call("get_current_task").mov64Reg(R9, R0).mov64Reg(R3, R0).alu64Imm("add", R3, k.taskSignal);
  readKernel(a, R10, TMP, 8, R3);
  a.ldxMem(8, R3, R10, TMP).alu64Imm("add", R3, k.signalLive);
  readKernel(a, R10, TMP, 4, R3);
  a.ldxMem(4, R1, R10, TMP).jmpImm("ne", R1, 0, "out");
  a.mov64Reg(R3, R9).alu64Imm("add", R3, k.taskExitCode);
  readKernel(a, R10, EV + 12, 4, R3);
  a.ldMapFd(R1, m.st).mov64Reg(R2, R10).alu64Imm("add", R2, KEY32).call("map_delete_elem");
  a.stMem(4, R10, EV, EVENT.exit)
    .ldxMem(4, R1, R10, KEY32)
    .stxMem(4, R10, R1, EV + 4)
    .stxMem(4, R10, R7, EV + 8);
  a.alu64Imm("rsh", R8, 3)
    .stxMem(4, R10, R8, EV + 16)
    .stMem(4, R10, EV + 20, 0);
  sendSmall(a, m, "x");
  a.label("out").mov64Imm(R0, 0).exit();
  return a.assemble();
}

/** raw_tp signal_deliver(int sig, …): counts a signal delivered to a traced thread. */
export function signalDeliver(m: MapFds): Buffer {
  const a = new EbpfAsm();
  a.mov64Reg(R6, R1);
  stateOf(a, m, "out");
  oursOnly(a, "out", "t");
  a.ldxMem(8, R1, R6, 0).stxMem(4, R10, R1, KEY32);
  lookup(a, m.sig, KEY32);
  a.jmpImm("eq", R0, 0, "out").ldxMem(8, R1, R0, 0).alu64Imm("add", R1, 1).stxMem(8, R0, R1, 0);
  a.label("out").mov64Imm(R0, 0).exit();
  return a.assemble();
}
