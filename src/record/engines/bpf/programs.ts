// The bpf engine's kernel programs, as eBPF instructions (pure: map fds, the kernel's struct layout from
// BTF and the recording's phase in, bytes out; kernel.ts loads them). Raw tracepoints throughout: ctx is
// an array of u64 arguments (include/trace/events/*.h TP_PROTO order), kernel memory is read with
// bpf_probe_read_kernel at offsets taken from the running kernel's BTF.
//
// State per traced process, in `st` by tgid: image << 3 | 4 (the launcher before its exec: only its main
// thread is the recording's) | 2 (traced) | 1 (work phase). A call costs one state lookup, one argument
// table lookup (an array: inlined by the verifier) and one per-CPU count update; the arguments counted by
// value and the paths read come from that table (`args`, filled by kernel.ts from VALUE_ARGS and
// PATH_USES), never from generated code.
import { EbpfAsm, R0, R1, R2, R3, R4, R6, R7, R8, R9, R10 } from "../../../ebpf/asm.js";
import { EVENT, HEADER, PATH_MAX, TOTALS } from "./layout.js";

/** The offsets the programs read kernel memory at (BTF member offsets of the running kernel, in bytes). */
export interface KernelLayout {
  /** struct pt_regs: where the syscall number is at sys_exit (x86_64 orig_ax, arm64 syscallno). */
  syscallNr: number;
  /** task_struct.pid, .tgid, .exit_code, .signal; signal_struct.live; linux_binprm.filename. */
  taskPid: number;
  taskTgid: number;
  taskExitCode: number;
  taskSignal: number;
  signalLive: number;
  binprmFilename: number;
}

/** The maps' fds (kernel.ts creates them; MAPS in layout.ts says their shapes). */
export interface MapFds {
  st: number;
  img: number;
  args: number;
  c: number;
  d: number;
  e: number;
  sig: number;
  tot: number;
  rb: number;
  scratch: number;
  want: number;
  cfg: number;
}

/** What a recording adds to the programs. */
export interface ProgramOptions {
  /** delay:SECONDS: every traced call is work from the CLOCK_MONOTONIC time (ns) in cfg[0] on. */
  delayed?: boolean;
  /** record --pid in a PID namespace: its device and inode (/proc/self/ns/pid), seeds in `want`. */
  pidns?: { dev: bigint; ino: bigint };
}

/** bpf.h BPF_NOEXIST; errno EEXIST; BPF_RB_NO_WAKEUP (Node polls the ring buffer). */
const NOEXIST = 1;
const EEXIST = 17;
const NO_WAKEUP = 1;

// stack slots (offsets from r10)
const KEY32 = -4; // a u32 map key
const K0 = -48; // count key: tgid << 32 | state, tid << 32 | syscall, v0, v1, v2 (40 bytes)
const ONE = -56; // a u64 1, a new count's value
const ST_PTR = -64; // the process's state in `st` (a map value pointer, spilled)
const TMP = -72; // probe_read_kernel's destination
const NSINFO = -80; // struct bpf_pidns_info { u32 pid, tgid }
const EV = -104; // a 24-byte event without a string
const PID_TGID = -112;
const ARG_PTR = -120; // the syscall's entry in `args` (a map value pointer, spilled; 0: none)
const NEEDS = -128; // what a sys_exit needs (1: count an error, ARG_BITS)
const REGS = -136; // the address of the syscall's struct pt_regs, as a number

/** `args` entry bytes: number of values, their pt_regs offsets (3), path's offset + 1, flags' offset + 1, bits. */
export const ARG = { count: 0, value: 1, path: 4, flags: 5, bits: 6, size: 8 } as const;
/** `args` bits: read the path at sys_exit; the call starts the work phase (--after first:SYSCALL). */
export const ARG_BITS = { path: 2, first: 4 } as const;

/** bpf_map_lookup_elem(map, r10 + keyOff): r0 = value or NULL. */
function lookup(a: EbpfAsm, fd: number, keyOff: number): void {
  a.ldMapFd(R1, fd).mov64Reg(R2, R10).alu64Imm("add", R2, keyOff).call("map_lookup_elem");
}

/** The current tgid's state: r7 = pid_tgid, st lookup; NULL → `miss`; else r8 = state, its pointer spilled. */
function stateOf(a: EbpfAsm, m: MapFds, miss: string): void {
  a.call("get_current_pid_tgid").mov64Reg(R7, R0).stxMem(8, R10, R0, PID_TGID);
  a.mov64Reg(R1, R0).alu64Imm("rsh", R1, 32).stxMem(4, R10, R1, KEY32);
  lookup(a, m.st, KEY32);
  a.jmpImm("eq", R0, 0, miss);
  a.stxMem(8, R10, R0, ST_PTR).ldxMem(8, R8, R0, 0);
}

/** Only the launcher's main thread is the recording's (state bit 4): other threads go to `out`. */
function oursOnly(a: EbpfAsm, out: string, tag: string): void {
  a.jmpImm("set", R8, 4, `${tag}_launcher`).ja(`${tag}_ours`);
  a.label(`${tag}_launcher`).mov64Reg(R1, R7).alu64Imm("rsh", R1, 32).mov32Reg(R2, R7);
  a.jmpReg("ne", R1, R2, out);
  a.label(`${tag}_ours`);
}

/** totals[slot] += 1 on this CPU. */
function total(a: EbpfAsm, m: MapFds, slot: number, tag: string): void {
  a.stMem(4, R10, KEY32, 0);
  lookup(a, m.tot, KEY32);
  a.jmpImm("eq", R0, 0, `${tag}_tot`);
  a.ldxMem(8, R1, R0, slot * 8)
    .alu64Imm("add", R1, 1)
    .stxMem(8, R0, R1, slot * 8);
  a.label(`${tag}_tot`);
}

/**
 * Adds one to the per-CPU count at r10 + keyOff (a key made by another CPU between the lookup and the
 * update is looked up again); a key that does not fit (the map is full) counts in totals.lostCalls.
 */
function count(a: EbpfAsm, m: MapFds, fd: number, keyOff: number, tag: string): void {
  lookup(a, fd, keyOff);
  a.jmpImm("ne", R0, 0, `${tag}_inc`);
  a.stMem(8, R10, ONE, 1)
    .ldMapFd(R1, fd)
    .mov64Reg(R2, R10)
    .alu64Imm("add", R2, keyOff)
    .mov64Reg(R3, R10)
    .alu64Imm("add", R3, ONE)
    .mov64Imm(R4, NOEXIST)
    .call("map_update_elem");
  a.jmpImm("eq", R0, 0, `${tag}_done`);
  a.jmpImm("ne", R0, -EEXIST, `${tag}_lost`);
  lookup(a, fd, keyOff);
  a.jmpImm("ne", R0, 0, `${tag}_inc`);
  a.label(`${tag}_lost`);
  total(a, m, TOTALS.lostCalls, `${tag}_l`);
  a.ja(`${tag}_done`);
  a.label(`${tag}_inc`).ldxMem(8, R1, R0, 0).alu64Imm("add", R1, 1).stxMem(8, R0, R1, 0);
  a.label(`${tag}_done`);
}

/** The count key's two words from r7 (pid_tgid), r8 (state) and `nr` (the syscall): at K0, K0 + 8. */
function countKey(a: EbpfAsm, nr: number): void {
  a.mov64Reg(R1, R7).alu64Imm("rsh", R1, 32).alu64Imm("lsh", R1, 32).mov32Reg(R2, R8);
  a.alu64Reg("or", R1, R2).stxMem(8, R10, R1, K0);
  a.mov64Reg(R1, R7).alu64Imm("lsh", R1, 32).mov32Reg(R2, nr);
  a.alu64Reg("or", R1, R2).stxMem(8, R10, R1, K0 + 8);
}

/** probe_read_kernel(r10 + dstOff, size, *(u64 *)(r10 + baseOff) + off) */
function readKernel(a: EbpfAsm, dst: number, dstOff: number, size: number, base: number): void {
  a.mov64Reg(R1, dst).alu64Imm("add", R1, dstOff).mov64Imm(R2, size).mov64Reg(R3, base);
  a.call("probe_read_kernel");
}

/** Sends the 24-byte event at r10 + EV; a full ring buffer counts in totals.lostEvents. */
function sendSmall(a: EbpfAsm, m: MapFds, tag: string): void {
  a.ldMapFd(R1, m.rb).mov64Reg(R2, R10).alu64Imm("add", R2, EV).mov64Imm(R3, HEADER).mov64Imm(R4, NO_WAKEUP);
  a.call("ringbuf_output").jmpImm("eq", R0, 0, `${tag}_sent`);
  total(a, m, TOTALS.lostEvents, `${tag}_s`);
  a.label(`${tag}_sent`);
}

/**
 * Reads the string at the address in r3 (user memory, or kernel with `kernel`) into the scratch event at
 * r9 (its header already written) and sends header + string; an unreadable string counts in
 * totals.unreadPaths, a full ring buffer in totals.lostEvents.
 */
function sendWithString(a: EbpfAsm, m: MapFds, kernel: boolean, tag: string): void {
  a.mov64Reg(R1, R9).alu64Imm("add", R1, HEADER).mov64Imm(R2, PATH_MAX);
  a.call(kernel ? "probe_read_kernel_str" : "probe_read_user_str");
  a.jmpImm("slt", R0, 1, `${tag}_unread`).jmpImm("gt", R0, PATH_MAX, `${tag}_unread`);
  a.mov64Reg(R3, R0).alu64Imm("add", R3, HEADER);
  a.ldMapFd(R1, m.rb).mov64Reg(R2, R9).mov64Imm(R4, NO_WAKEUP).call("ringbuf_output");
  a.jmpImm("eq", R0, 0, `${tag}_end`);
  total(a, m, TOTALS.lostEvents, `${tag}_l`);
  a.ja(`${tag}_end`);
  a.label(`${tag}_unread`);
  total(a, m, TOTALS.unreadPaths, `${tag}_u`);
  a.label(`${tag}_end`);
}

/** r9 = this CPU's scratch event (NULL: to `out`). */
function scratch(a: EbpfAsm, m: MapFds, out: string): void {
  a.stMem(4, R10, KEY32, 0);
  lookup(a, m.scratch, KEY32);
  a.jmpImm("eq", R0, 0, out).mov64Reg(R9, R0);
}

/** raw_tp sys_enter(struct pt_regs *regs, long id): counts the call, by value when `args` says so. */
export function sysEnter(m: MapFds, o: ProgramOptions = {}): Buffer {
  const a = new EbpfAsm();
  a.mov64Reg(R6, R1);
  stateOf(a, m, "untraced");
  a.ja("traced");
  a.label("untraced");
  if (o.pidns) {
    // a seed given by its pid in sysfence's namespace: traced (state 3) from its first call on, and its
    // pid in the initial namespace (what every other program sees) streamed as an S event
    a.ldImm64(R1, o.pidns.dev).ldImm64(R2, o.pidns.ino).mov64Reg(R3, R10).alu64Imm("add", R3, NSINFO);
    a.mov64Imm(R4, 8).call("get_ns_current_pid_tgid").jmpImm("ne", R0, 0, "out");
    a.ldxMem(4, R1, R10, NSINFO + 4).stxMem(4, R10, R1, KEY32);
    lookup(a, m.want, KEY32);
    a.jmpImm("eq", R0, 0, "out");
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
    a.stMem(8, R10, ONE, 3);
    a.ldMapFd(R1, m.st)
      .mov64Reg(R2, R10)
      .alu64Imm("add", R2, KEY32)
      .mov64Reg(R3, R10)
      .alu64Imm("add", R3, ONE);
    a.mov64Imm(R4, 0).call("map_update_elem");
    sendSmall(a, m, "seed");
    a.mov64Imm(R8, 3).ja("ours");
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
  count(a, m, m.d, K0, "d");
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
export function sysExit(m: MapFds, k: KernelLayout, btf = false): Buffer {
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
  a.label("named").ldxMem(8, R1, R10, ARG_PTR).jmpImm("eq", R1, 0, "first");
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
