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

/**
 * record --cgroup on a cgroup v2: the cgroup's id (its directory's inode number) and the levels its
 * ancestor id may be at (one: its depth below the hierarchy's root; more when sysfence's cgroup
 * namespace hides the root). A task under it has that id as its default-hierarchy cgroup's ancestor.
 */
export interface CgroupFilter {
  id: bigint;
  levels: readonly number[];
}

/**
 * The current task is under the filter's cgroup (bpf_get_current_ancestor_cgroup_id at each level): on
 * to `hit`, else on past (clobbers r0 … r5).
 */
function underCgroup(a: EbpfAsm, c: CgroupFilter, hit: string): void {
  for (const level of c.levels) {
    a.mov64Imm(R1, level).call("get_current_ancestor_cgroup_id");
    a.ldImm64(R1, c.id).jmpReg("eq", R0, R1, hit);
  }
}

/**
 * The next image number of the process whose tgid is at KEY32 (1 for its first fork or exec seen): in
 * r9, and stored in `img` (forks and execs number a pid's images alike, so a reused pid never repeats one).
 */
function nextImage(a: EbpfAsm, m: MapFds): void {
  a.mov64Imm(R9, 1);
  lookup(a, m.img, KEY32);
  a.jmpImm("eq", R0, 0, "img_first").ldxMem(4, R9, R0, 0).alu64Imm("add", R9, 1);
  a.label("img_first").stxMem(4, R10, R9, TMP);
  a.ldMapFd(R1, m.img)
    .mov64Reg(R2, R10)
    .alu64Imm("add", R2, KEY32)
    .mov64Reg(R3, R10)
    .alu64Imm("add", R3, TMP);
  a.mov64Imm(R4, 0).call("map_update_elem");
}

/**
 * The current process's state into r8 (its entry's address at ST_PTR), or `out` when it is untraced; with a
 * cgroup filter, an untraced process under the cgroup joins instead: traced, work (r8 = 3), no entry yet
 * (ST_PTR 0).
 */
function stateOrJoin(a: EbpfAsm, m: MapFds, cgroup?: CgroupFilter): void {
  stateOf(a, m, cgroup ? "join" : "out");
  if (!cgroup) return;
  a.ja("traced").label("join");
  underCgroup(a, cgroup, "joined");
  a.ja("out").label("joined").mov64Imm(R8, 3).stMem(8, R10, ST_PTR, 0);
  a.label("traced");
}

/**
 * raw_tp sched_process_fork(parent, child): a new process of a traced one gets its image number and state;
 * with a cgroup filter, so does a new process of an untraced parent under the cgroup (the parent joined it
 * without an exec, or forked before its seed: the child is traced, work from its first call).
 */
export function processFork(m: MapFds, k: KernelLayout, cgroup?: CgroupFilter): Buffer {
  const a = new EbpfAsm();
  a.mov64Reg(R6, R1);
  stateOrJoin(a, m, cgroup);
  a.ldxMem(8, R3, R6, 8).alu64Imm("add", R3, k.taskPid);
  readKernel(a, R10, EV + 8, 4, R3);
  a.ldxMem(8, R3, R6, 8).alu64Imm("add", R3, k.taskTgid);
  readKernel(a, R10, TMP, 4, R3);
  // a new thread (pid != tgid) is its process's: nothing to do
  a.ldxMem(4, R1, R10, EV + 8)
    .ldxMem(4, R2, R10, TMP)
    .jmpReg("ne", R1, R2, "out");
  a.stxMem(4, R10, R1, KEY32);
  nextImage(a, m);
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

/**
 * raw_tp sched_process_exec(p, old_pid, bprm): the process's next image, and the file it runs; with a
 * cgroup filter, an untraced process under the cgroup is traced from this exec on (it joined the cgroup,
 * as `docker exec` does, and runs its program: work from its first call).
 */
export function processExec(m: MapFds, k: KernelLayout, cgroup?: CgroupFilter): Buffer {
  const a = new EbpfAsm();
  a.mov64Reg(R6, R1);
  stateOrJoin(a, m, cgroup);
  nextImage(a, m);
  // the new state: image << 3 | traced and work bits (the launcher's bit ends with its exec)
  a.mov64Reg(R1, R9).alu64Imm("lsh", R1, 3).alu64Imm("and", R8, 3).alu64Reg("or", R8, R1);
  if (cgroup) {
    // a joining process has no state to write in place: its state is added
    a.ldxMem(8, R1, R10, ST_PTR).jmpImm("eq", R1, 0, "add").stxMem(8, R1, R8, 0).ja("stated");
    a.label("add").stxMem(8, R10, R8, ONE);
    a.ldMapFd(R1, m.st)
      .mov64Reg(R2, R10)
      .alu64Imm("add", R2, KEY32)
      .mov64Reg(R3, R10)
      .alu64Imm("add", R3, ONE);
    a.mov64Imm(R4, 0).call("map_update_elem").jmpImm("eq", R0, 0, "stated");
    total(a, m, TOTALS.lostEvents, "full");
    a.ja("out");
    a.label("stated");
  } else a.ldxMem(8, R1, R10, ST_PTR).stxMem(8, R1, R8, 0);
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
