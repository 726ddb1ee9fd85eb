// The bpf engine's kernel programs' shared parts (types, stack slots, instruction sequences); programs.ts
// (the syscall programs) and process-programs.ts (fork, exec, exit, signal) are built from them.
// The programs, as eBPF instructions (pure: map fds, the kernel's struct layout from
// BTF and the recording's phase in, bytes out; kernel.ts loads them). Raw tracepoints throughout: ctx is
// an array of u64 arguments (include/trace/events/*.h TP_PROTO order), kernel memory is read with
// bpf_probe_read_kernel at offsets taken from the running kernel's BTF.
//
// State per traced process, in `st` by tgid: image << 3 | 4 (the launcher before its exec: only its main
// thread is the recording's) | 2 (traced) | 1 (work phase). A call costs one state lookup, one argument
// table lookup (an array: inlined by the verifier) and one count — a repeat in a per-CPU cache slot (an
// inlined array access), a key's first call in the count map (cachedCount); the arguments counted by
// value and the paths read come from that table (`args`, filled by kernel.ts from VALUE_ARGS and
// PATH_USES), never from generated code.
import { type EbpfAsm, R0, R1, R2, R3, R4, R7, R8, R9, R10 } from "../../../ebpf/asm.js";
import { COUNT_CACHE_SLOTS, HEADER, PATH_MAX, TOTALS } from "./layout.js";

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
  /** sys_enter's per-CPU count cache (COUNT_CACHE_SLOTS in layout.ts). */
  dc: number;
}

/** What a recording adds to the programs. */
export interface ProgramOptions {
  /** delay:SECONDS: every traced call is work from the CLOCK_MONOTONIC time (ns) in cfg[0] on. */
  delayed?: boolean;
  /** record --pid in a PID namespace: its device and inode (/proc/self/ns/pid), seeds in `want`. */
  pidns?: { dev: bigint; ino: bigint };
}

/** bpf.h BPF_NOEXIST; errno EEXIST; BPF_RB_NO_WAKEUP (Node polls the ring buffer). */
export const NOEXIST = 1;
export const EEXIST = 17;
export const NO_WAKEUP = 1;

// stack slots (offsets from r10)
export const KEY32 = -4; // a u32 map key
export const K0 = -48; // count key: tgid << 32 | state, tid << 32 | syscall, v0, v1, v2 (40 bytes)
export const ONE = -56; // a u64 1, a new count's value
export const ST_PTR = -64; // the process's state in `st` (a map value pointer, spilled)
export const TMP = -72; // probe_read_kernel's destination
export const NSINFO = -80; // struct bpf_pidns_info { u32 pid, tgid }
export const EV = -104; // a 24-byte event without a string
export const PID_TGID = -112;
export const ARG_PTR = -120; // the syscall's entry in `args` (a map value pointer, spilled; 0: none)
export const NEEDS = -128; // what a sys_exit needs (1: count an error, ARG_BITS)
export const REGS = -136; // the address of the syscall's struct pt_regs, as a number
export const OLD = -152; // the count key a cache slot held (16 bytes)
export const OLD_N = -160; // its calls not yet in the count map

/** `args` entry bytes: number of values, their pt_regs offsets (3), path's offset + 1, flags' offset + 1, bits. */
export const ARG = { count: 0, value: 1, path: 4, flags: 5, bits: 6, size: 8 } as const;
/** `args` bits: read the path at sys_exit; the call starts the work phase (--after first:SYSCALL). */
export const ARG_BITS = { path: 2, first: 4 } as const;

/** bpf_map_lookup_elem(map, r10 + keyOff): r0 = value or NULL. */
export function lookup(a: EbpfAsm, fd: number, keyOff: number): void {
  a.ldMapFd(R1, fd).mov64Reg(R2, R10).alu64Imm("add", R2, keyOff).call("map_lookup_elem");
}

/** The current tgid's state: r7 = pid_tgid, st lookup; NULL → `miss`; else r8 = state, its pointer spilled. */
export function stateOf(a: EbpfAsm, m: MapFds, miss: string): void {
  a.call("get_current_pid_tgid").mov64Reg(R7, R0).stxMem(8, R10, R0, PID_TGID);
  a.mov64Reg(R1, R0).alu64Imm("rsh", R1, 32).stxMem(4, R10, R1, KEY32);
  lookup(a, m.st, KEY32);
  a.jmpImm("eq", R0, 0, miss);
  a.stxMem(8, R10, R0, ST_PTR).ldxMem(8, R8, R0, 0);
}

/** Only the launcher's main thread is the recording's (state bit 4): other threads go to `out`. */
export function oursOnly(a: EbpfAsm, out: string, tag: string): void {
  a.jmpImm("set", R8, 4, `${tag}_launcher`).ja(`${tag}_ours`);
  a.label(`${tag}_launcher`).mov64Reg(R1, R7).alu64Imm("rsh", R1, 32).mov32Reg(R2, R7);
  a.jmpReg("ne", R1, R2, out);
  a.label(`${tag}_ours`);
}

/** totals[slot] += 1 on this CPU. */
export function total(a: EbpfAsm, m: MapFds, slot: number, tag: string): void {
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
export function count(a: EbpfAsm, m: MapFds, fd: number, keyOff: number, tag: string): void {
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

/**
 * Adds the u64 at r10 + nOff to the per-CPU count at r10 + keyOff (made if missing, looked up again when
 * another CPU made it first); a key that does not fit counts its calls in totals.lostCalls.
 */
export function countBy(a: EbpfAsm, m: MapFds, fd: number, keyOff: number, nOff: number, tag: string): void {
  lookup(a, fd, keyOff);
  a.jmpImm("ne", R0, 0, `${tag}_inc`);
  a.ldMapFd(R1, fd)
    .mov64Reg(R2, R10)
    .alu64Imm("add", R2, keyOff)
    .mov64Reg(R3, R10)
    .alu64Imm("add", R3, nOff)
    .mov64Imm(R4, NOEXIST)
    .call("map_update_elem");
  a.jmpImm("eq", R0, 0, `${tag}_done`);
  a.jmpImm("ne", R0, -EEXIST, `${tag}_lost`);
  lookup(a, fd, keyOff);
  a.jmpImm("ne", R0, 0, `${tag}_inc`);
  a.label(`${tag}_lost`).stMem(4, R10, KEY32, 0);
  lookup(a, m.tot, KEY32);
  a.jmpImm("eq", R0, 0, `${tag}_done`);
  a.ldxMem(8, R1, R0, TOTALS.lostCalls * 8)
    .ldxMem(8, R2, R10, nOff)
    .alu64Reg("add", R1, R2)
    .stxMem(8, R0, R1, TOTALS.lostCalls * 8);
  a.ja(`${tag}_done`);
  a.label(`${tag}_inc`).ldxMem(8, R1, R0, 0).ldxMem(8, R2, R10, nOff).alu64Reg("add", R1, R2);
  a.stxMem(8, R0, R1, 0);
  a.label(`${tag}_done`);
}

/**
 * Counts the call whose key is at K0 (16 bytes) in `fd` through this CPU's count cache (`dc`): the slot
 * of (thread, syscall) adds one while it holds this key — an inlined array access instead of a hash
 * lookup on every call. Taking the slot over moves its calls to `fd` under the key it held and counts this
 * call in `fd` directly, so every key is in `fd` from its first call on (progress sees it) and the cache
 * holds only repeats, which kernel.ts adds to the counts it reads at the end. (The same program cannot
 * run twice at once on one CPU: the slot needs no atomics.)
 */
export function cachedCount(a: EbpfAsm, m: MapFds, fd: number, tag: string): void {
  // slot: (syscall + thread id * 0x9e37) mod COUNT_CACHE_SLOTS
  a.ldxMem(8, R1, R10, K0 + 8)
    .mov64Reg(R2, R1)
    .alu64Imm("rsh", R2, 32)
    .alu64Imm("mul", R2, 0x9e37);
  a.alu64Reg("add", R1, R2)
    .alu64Imm("and", R1, COUNT_CACHE_SLOTS - 1)
    .stxMem(4, R10, R1, KEY32);
  lookup(a, m.dc, KEY32);
  a.jmpImm("eq", R0, 0, `${tag}_direct`);
  a.ldxMem(8, R1, R0, 0).ldxMem(8, R2, R10, K0).jmpReg("ne", R1, R2, `${tag}_take`);
  a.ldxMem(8, R1, R0, 8)
    .ldxMem(8, R2, R10, K0 + 8)
    .jmpReg("ne", R1, R2, `${tag}_take`);
  a.ldxMem(8, R1, R0, 16).alu64Imm("add", R1, 1).stxMem(8, R0, R1, 16).ja(`${tag}_cached`);
  // another key's slot (or an empty one): its calls to the count map, this key's from now on here
  a.label(`${tag}_take`);
  a.ldxMem(8, R1, R0, 0)
    .stxMem(8, R10, R1, OLD)
    .ldxMem(8, R1, R0, 8)
    .stxMem(8, R10, R1, OLD + 8);
  a.ldxMem(8, R1, R0, 16).stxMem(8, R10, R1, OLD_N);
  a.ldxMem(8, R1, R10, K0)
    .stxMem(8, R0, R1, 0)
    .ldxMem(8, R1, R10, K0 + 8)
    .stxMem(8, R0, R1, 8);
  a.stMem(8, R0, 16, 0);
  a.ldxMem(8, R1, R10, OLD_N).jmpImm("eq", R1, 0, `${tag}_direct`);
  countBy(a, m, fd, OLD, OLD_N, `${tag}_old`);
  a.label(`${tag}_direct`);
  count(a, m, fd, K0, tag);
  a.label(`${tag}_cached`);
}

/** The count key's two words from r7 (pid_tgid), r8 (state) and `nr` (the syscall): at K0, K0 + 8. */
export function countKey(a: EbpfAsm, nr: number): void {
  a.mov64Reg(R1, R7).alu64Imm("rsh", R1, 32).alu64Imm("lsh", R1, 32).mov32Reg(R2, R8);
  a.alu64Reg("or", R1, R2).stxMem(8, R10, R1, K0);
  a.mov64Reg(R1, R7).alu64Imm("lsh", R1, 32).mov32Reg(R2, nr);
  a.alu64Reg("or", R1, R2).stxMem(8, R10, R1, K0 + 8);
}

/** probe_read_kernel(r10 + dstOff, size, *(u64 *)(r10 + baseOff) + off) */
export function readKernel(a: EbpfAsm, dst: number, dstOff: number, size: number, base: number): void {
  a.mov64Reg(R1, dst).alu64Imm("add", R1, dstOff).mov64Imm(R2, size).mov64Reg(R3, base);
  a.call("probe_read_kernel");
}

/** Sends the 24-byte event at r10 + EV; a full ring buffer counts in totals.lostEvents. */
export function sendSmall(a: EbpfAsm, m: MapFds, tag: string): void {
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
export function sendWithString(a: EbpfAsm, m: MapFds, kernel: boolean, tag: string): void {
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
export function scratch(a: EbpfAsm, m: MapFds, out: string): void {
  a.stMem(4, R10, KEY32, 0);
  lookup(a, m.scratch, KEY32);
  a.jmpImm("eq", R0, 0, out).mov64Reg(R9, R0);
}
