// The bpf engine's path program (path-programs.ts describes it and its event): at a traced call's
// sys_exit each path use is read, a relative one's directory walked, and the event sent. Emitted in steps
// into one assembler, in program order; a step may jump to another's labels.
import { BPF_NOEXIST } from "../../../abi/ebpf.js";
import { EbpfAsm, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 } from "../../../ebpf/asm.js";
import { PATH_MAX, SYSCALLS, TOTALS } from "./layout.js";
import {
  COUNTED,
  DIR,
  DIR_DEPTH,
  DIR_MAX,
  NAME_BYTES,
  PATH_EVENT,
  PATH_HEADER,
  PATH_PROG,
  type PathLayout,
  type PathMapFds,
  SECOND_USE,
  USE,
  USE_KIND,
} from "./path-programs.js";
import { EEXIST, lookup, type MapFds, NO_WAKEUP, total } from "./program-parts.js";

/** Bytes of a socket address read (struct sockaddr_un is 110). */
const SOCKADDR_BYTES = 112;

// stack slots (offsets from r10)
const KEY = -8;
const TMP = -16;
const REGS = -24;
const RET = -32;
const TGID = -40;
const NR = -48;
const USES = -56; // the syscall's `uses` entry (a map value pointer)
const K = -64; // the use (0, 1: SECOND_USE)
const LEN = -80; // bytes of the path
const CNT = -88; // steps walked
const POS = -72; // bytes of names so far
const ROOT_D = -96;
const ROOT_M = -104;
const FS = -112;
const MROOT = -120;
const PARENT = -128;
const UPTR = -136; // this use's entry
const ADDR = -144; // the path's (socket address's) user address
const DENTRY_SPAN = 64;
const DENTRY = -144 - DENTRY_SPAN; // a dentry's bytes from d_parent to d_name.name
const HASH = DENTRY - 8; // a counted use's hash (the `seen` key)
const ZERO = HASH - 8; // its first count

/** The hash's multiplier (odd; a multiply-xorshift mix per 8 bytes). */
const MIX = 0x9e3779b97f4a7c15n;

/** *(u64 *)(r10 + dst) = *(u64 *)(kernel address in `src` + off) (probe_read_kernel). */
function peek(a: EbpfAsm, dst: number, src: number, off: number): void {
  a.mov64Reg(R3, src);
  if (off) a.alu64Imm("add", R3, off);
  a.mov64Reg(R1, R10).alu64Imm("add", R1, dst).mov64Imm(R2, 8).call("probe_read_kernel");
}

/** r1 = the value of the register whose pt_regs offset + 1 is the u8 at UPTR + field (0 → `none`). */
function register(a: EbpfAsm, field: number, none: string): void {
  a.ldxMem(8, R1, R10, UPTR).ldxMem(1, R3, R1, field).jmpImm("eq", R3, 0, none);
  a.ldxMem(8, R1, R10, REGS).alu64Reg("add", R3, R1).alu64Imm("sub", R3, 1);
  a.mov64Reg(R1, R10).alu64Imm("add", R1, TMP).mov64Imm(R2, 8).call("probe_read_kernel");
  a.ldxMem(8, R1, R10, TMP);
}

/**
 * ctx as sys_exit's (raw_tp or tp_btf: regs, ret): the path uses of the call (tail-called by sys_exit for a
 * traced process's call with a `uses` entry). A successful exec's file comes with the exec event (its
 * memory is gone now): for it the event carries the current directory alone (USE_KIND.exec, no path).
 */
export function pathExit(m: PathMapFds, k: PathLayout): Buffer {
  const a = new EbpfAsm();
  start(a, m, k);
  useStart(a);
  readPath(a);
  readSockaddr(a, m);
  dirOfFd(a, k);
  dirOfPwd(a, k);
  walkStart(a, k);
  walkNames(a, k);
  crossMount(a, k);
  counted(a, m, k);
  send(a, m);
  return a.assemble();
}

/**
 * The call's number, result and process (out: not one traced), its `uses` entry, the per-CPU event buffer
 * (r9) and the header's fixed part; the first use next (K = 0).
 */
function start(a: EbpfAsm, m: PathMapFds, k: PathLayout): void {
  a.mov64Reg(R6, R1);
  peek(a, REGS, R6, 0);
  a.ldxMem(8, R1, R6, 8).stxMem(8, R10, R1, RET);
  a.ldxMem(8, R3, R10, REGS).alu64Imm("add", R3, k.syscallNr);
  a.mov64Reg(R1, R10).alu64Imm("add", R1, TMP).mov64Imm(R2, 8).call("probe_read_kernel");
  a.ldxMem(8, R1, R10, TMP).jmpImm("ge", R1, SYSCALLS, "out").stxMem(8, R10, R1, NR);
  a.call("get_current_pid_tgid").alu64Imm("rsh", R0, 32).stxMem(8, R10, R0, TGID).stxMem(4, R10, R0, KEY);
  lookup(a, m.st, KEY);
  a.jmpImm("eq", R0, 0, "out").ldxMem(8, R1, R0, 0).alu64Imm("rsh", R1, 3).stxMem(8, R10, R1, PARENT);
  a.ldxMem(8, R1, R10, NR).stxMem(4, R10, R1, KEY);
  lookup(a, m.uses, KEY);
  a.jmpImm("eq", R0, 0, "out").stxMem(8, R10, R0, USES);
  a.stMem(4, R10, KEY, 0);
  lookup(a, m.buf, KEY);
  a.jmpImm("eq", R0, 0, "out").mov64Reg(R9, R0);
  // the header's fixed part: kind, tgid, image (in PARENT until the walk needs it)
  a.stMem(4, R9, 0, PATH_EVENT).ldxMem(8, R1, R10, TGID).stxMem(4, R9, R1, 4);
  a.ldxMem(8, R1, R10, PARENT).stxMem(4, R9, R1, 8).ldxMem(8, R1, R10, RET).stxMem(4, R9, R1, 12);
  // which use: 0, or 1 when this is the program's own tail call (SECOND_USE): a value the verifier does not
  // know, so that it checks one use's code once for both instead of once for each
  a.ldxMem(1, R1, R9, SECOND_USE).stMem(1, R9, SECOND_USE, 0).alu64Imm("and", R1, 1).stxMem(8, R10, R1, K);
}

/**
 * One use (K = 0, then 1; label "use"): its entry (none: next), the header's per-use part cleared, its
 * access and kind, and its open flags (openat2's how read from user memory). A successful exec goes to its
 * directory alone (pwd).
 */
function useStart(a: EbpfAsm): void {
  a.label("use").ldxMem(8, R1, R10, USES).ldxMem(8, R2, R10, K).alu64Imm("lsh", R2, 3);
  a.alu64Reg("add", R1, R2).stxMem(8, R10, R1, UPTR);
  a.ldxMem(1, R2, R1, USE.arg).jmpImm("eq", R2, 0, "next");
  a.stMem(8, R9, 16, 0).stMem(8, R9, 24, 0).stMem(8, R10, CNT, 0).stMem(8, R10, LEN, 0);
  a.stMem(8, R10, POS, 0);
  a.ldxMem(1, R2, R1, USE.access).stxMem(1, R9, R2, 24);
  a.ldxMem(1, R2, R1, USE.kind).stxMem(1, R9, R2, 25);
  a.jmpImm("ne", R2, USE_KIND.exec, "flags");
  a.ldxMem(8, R1, R10, RET).jmpImm("eq", R1, 0, "pwd"); // a successful exec: its directory alone
  a.label("flags");
  register(a, USE.flags, "read");
  a.ldxMem(8, R2, R10, UPTR).ldxMem(1, R2, R2, USE.kind).jmpImm("eq", R2, USE_KIND.how, "how");
  a.stxMem(8, R9, R1, 16).ja("read");
  a.label("how").mov64Reg(R3, R1).mov64Reg(R1, R9).alu64Imm("add", R1, 16).mov64Imm(R2, 8);
  a.call("probe_read_user");
}

/**
 * The use's argument (label "read"): a socket address (on to sockaddr), else the path string after the
 * header; a successful chroot's goes to the new root (newroot), an absolute one is sent, a relative one
 * goes to its directory fd's file (fd) or the current directory (pwd).
 */
function readPath(a: EbpfAsm): void {
  a.label("read");
  register(a, USE.arg, "next");
  // NULL names nothing (utimensat(fd, NULL, …): futimens), as strace's engine reads it
  a.jmpImm("eq", R1, 0, "next").mov64Reg(R3, R1).stxMem(8, R10, R1, ADDR);
  a.ldxMem(8, R2, R10, UPTR).ldxMem(1, R2, R2, USE.kind).jmpImm("eq", R2, USE_KIND.sockaddr, "sockaddr");
  a.mov64Reg(R1, R9).alu64Imm("add", R1, PATH_HEADER).mov64Imm(R2, PATH_MAX).call("probe_read_user_str");
  a.jmpImm("slt", R0, 1, "unread").jmpImm("gt", R0, PATH_MAX, "unread");
  a.jmpImm("eq", R0, 1, "next"); // "" (AT_EMPTY_PATH: the fd itself, no path)
  a.stxMem(8, R10, R0, LEN).stxMem(4, R9, R0, 28);
  // a successful chroot, whatever its path: the directory walked is the new root
  a.ldxMem(1, R1, R9, 25).jmpImm("ne", R1, USE_KIND.chroot, "named");
  a.ldxMem(8, R1, R10, RET).jmpImm("eq", R1, 0, "newroot");
  a.label("named").ldxMem(1, R1, R9, PATH_HEADER).jmpImm("eq", R1, 47 /* / */, "send");
  // relative: to the directory fd, or (none, AT_FDCWD) the current directory
  register(a, USE.dirfd, "pwd");
  a.mov64Reg(R2, R1).alu64Imm("lsh", R2, 32).alu64Imm("arsh", R2, 32).jmpImm("eq", R2, -100, "pwd");
  a.stxMem(8, R10, R1, PARENT).ja("fd");
}

/**
 * A socket address (label "sockaddr"): its length from the next register (at most SOCKADDR_BYTES), its
 * bytes, and an AF_UNIX path that is not absolute on to the current directory. Also "unread": a path or
 * address that could not be read is counted (TOTALS.unreadPaths) and the use skipped.
 */
function readSockaddr(a: EbpfAsm, m: PathMapFds): void {
  a.label("sockaddr");
  register(a, USE.len, "next");
  a.jmpImm("slt", R1, 3, "next").jmpImm("le", R1, SOCKADDR_BYTES, "socklen").mov64Imm(R1, SOCKADDR_BYTES);
  a.label("socklen").mov64Reg(R2, R1).stxMem(8, R10, R2, LEN).stxMem(4, R9, R2, 28);
  a.mov64Reg(R1, R9).alu64Imm("add", R1, PATH_HEADER).ldxMem(8, R3, R10, ADDR).call("probe_read_user");
  a.jmpImm("ne", R0, 0, "unread");
  // AF_UNIX with a path that is not absolute: relative to the current directory
  a.ldxMem(2, R1, R9, PATH_HEADER).jmpImm("ne", R1, 1, "send");
  a.ldxMem(1, R1, R9, PATH_HEADER + 2)
    .jmpImm("eq", R1, 0, "send")
    .jmpImm("eq", R1, 47, "send");
  a.ja("pwd");

  a.label("unread");
  total(a, m as unknown as MapFds, TOTALS.unreadPaths, "u");
  a.ja("next");
}

/** The directory fd's file (label "fd", the fd in PARENT): task->files->fdt->fd[dfd]->f_path into r8, r7. */
function dirOfFd(a: EbpfAsm, k: PathLayout): void {
  a.label("fd").call("get_current_task").mov64Reg(R7, R0);
  peek(a, TMP, R7, k.taskFiles);
  a.ldxMem(8, R7, R10, TMP);
  peek(a, TMP, R7, k.filesFdt);
  a.ldxMem(8, R7, R10, TMP);
  a.stMem(8, R10, MROOT, 0);
  a.mov64Reg(R3, R7).alu64Imm("add", R3, k.fdtMaxFds);
  a.mov64Reg(R1, R10).alu64Imm("add", R1, MROOT).mov64Imm(R2, 4).call("probe_read_kernel");
  a.ldxMem(8, R1, R10, PARENT).alu64Imm("lsh", R1, 32).alu64Imm("rsh", R1, 32);
  a.ldxMem(8, R2, R10, MROOT).jmpReg("ge", R1, R2, "badfd");
  peek(a, TMP, R7, k.fdtFd);
  a.ldxMem(8, R3, R10, PARENT).alu64Imm("lsh", R3, 32).alu64Imm("rsh", R3, 29).ldxMem(8, R1, R10, TMP);
  a.alu64Reg("add", R3, R1);
  a.mov64Reg(R1, R10).alu64Imm("add", R1, TMP).mov64Imm(R2, 8).call("probe_read_kernel");
  a.ldxMem(8, R7, R10, TMP).jmpImm("eq", R7, 0, "badfd");
  peek(a, TMP, R7, k.fileMnt);
  a.ldxMem(8, R8, R10, TMP);
  peek(a, TMP, R7, k.fileDentry);
  a.ldxMem(8, R7, R10, TMP).ja("walk");
  a.label("badfd").stMem(1, R9, 26, DIR.badFd).ja("send");
}

/**
 * The current directory (label "pwd": task->fs->pwd) or, after a successful chroot, the task's root (label
 * "newroot": task->fs->root) into r8 (vfsmount), r7 (dentry).
 */
function dirOfPwd(a: EbpfAsm, k: PathLayout): void {
  for (const [label, mnt, dentry] of [
    ["pwd", k.fsPwdMnt, k.fsPwdDentry],
    ["newroot", k.fsRootMnt, k.fsRootDentry],
  ] as const) {
    a.label(label).call("get_current_task").mov64Reg(R7, R0);
    peek(a, FS, R7, k.taskFs);
    a.ldxMem(8, R7, R10, FS);
    peek(a, TMP, R7, mnt);
    a.ldxMem(8, R8, R10, TMP);
    peek(a, TMP, R7, dentry);
    a.ldxMem(8, R7, R10, TMP);
    a.ja("walk");
  }
}

/**
 * Before the walk (label "walk"): the first mount's root into MROOT. The walk goes up to the root of the
 * mount namespace, past the task's root (fs->root): a chroot'ed task's directories are named as sysfence
 * sees them (what a Landlock rule made before the chroot names), and a chroot's new root too.
 */
function walkStart(a: EbpfAsm, k: PathLayout): void {
  a.label("walk").stMem(8, R10, CNT, 0).stMem(1, R9, 26, DIR.walked);
  peek(a, MROOT, R8, k.vfsmountRoot);
}

/**
 * The walk's step by a name (label "name"; r7: the dentry, r8: its vfsmount): on to crossMount at the
 * mount's root (at the namespace's root mount, whose parent is itself, it is done), else the name appended
 * and on to the parent. Each name is appended
 * after the path, leaf first, at POS: its bounds checked, then masked (a no-op on the value) so that every
 * step's states have the same range whichever way the walk came, and the verifier prunes them (a growing
 * range made each path its own).
 */
function walkNames(a: EbpfAsm, k: PathLayout): void {
  a.label("name").ldxMem(8, R1, R10, CNT).jmpImm("ge", R1, DIR_DEPTH, "deep");
  a.ldxMem(8, R1, R10, MROOT).jmpReg("eq", R1, R7, "mount");
  // the parent and the name's address: one read when they lie close (d_parent, then d_name's name)
  const span = k.dentryName - k.dentryParent;
  if (span > 0 && span <= DENTRY_SPAN - 8 && span % 8 === 0) {
    a.mov64Reg(R3, R7).alu64Imm("add", R3, k.dentryParent);
    a.mov64Reg(R1, R10)
      .alu64Imm("add", R1, DENTRY)
      .mov64Imm(R2, span + 8)
      .call("probe_read_kernel");
    a.ldxMem(8, R1, R10, DENTRY)
      .stxMem(8, R10, R1, PARENT)
      .ldxMem(8, R1, R10, DENTRY + span);
    a.stxMem(8, R10, R1, TMP);
  } else {
    peek(a, PARENT, R7, k.dentryParent);
    peek(a, TMP, R7, k.dentryName);
  }
  a.ldxMem(8, R1, R10, PARENT).jmpReg("eq", R1, R7, "done"); // a file system's root outside any mount
  a.ldxMem(8, R1, R10, LEN).jmpImm("gt", R1, PATH_MAX, "deep").ldxMem(8, R2, R10, POS);
  a.alu64Imm("and", R2, DIR_MAX - 1)
    .alu64Reg("add", R1, R2)
    .alu64Reg("add", R1, R9);
  a.alu64Imm("add", R1, PATH_HEADER).mov64Imm(R2, NAME_BYTES).ldxMem(8, R3, R10, TMP);
  a.call("probe_read_kernel_str");
  a.jmpImm("slt", R0, 2, "badname");
  a.ldxMem(8, R1, R10, POS)
    .alu64Reg("add", R1, R0)
    .jmpImm("gt", R1, DIR_MAX - NAME_BYTES, "deep");
  a.alu64Imm("and", R1, DIR_MAX - 1).stxMem(8, R10, R1, POS);
  a.ldxMem(8, R7, R10, PARENT).ja("step");
}

/**
 * The walk's step by a mount (label "mount"): the mount's root, on to its mountpoint in the parent mount
 * (the global root's parent is itself: done); then "step" counts the step and goes on to the next name.
 * Its ends: too deep, or a name unreadable (the names dropped), then "done".
 */
function crossMount(a: EbpfAsm, k: PathLayout): void {
  a.label("mount").mov64Reg(R7, R8).alu64Imm("sub", R7, k.mountMnt);
  peek(a, PARENT, R7, k.mountParent);
  a.ldxMem(8, R1, R10, PARENT).jmpReg("eq", R1, R7, "done");
  peek(a, TMP, R7, k.mountMountpoint);
  a.ldxMem(8, R7, R10, TMP).ldxMem(8, R8, R10, PARENT).alu64Imm("add", R8, k.mountMnt);
  peek(a, MROOT, R8, k.vfsmountRoot);
  a.label("step").ldxMem(8, R1, R10, CNT).alu64Imm("add", R1, 1).stxMem(8, R10, R1, CNT).ja("name");
  a.label("deep").stMem(1, R9, 26, DIR.deep).stMem(8, R10, POS, 0).ja("done");
  a.label("badname").stMem(1, R9, 26, DIR.unreadable).stMem(8, R10, POS, 0);
  a.label("done");
}

/**
 * A use that needs no directory (label "send", DIR.none; others on to "emit"): its hash (r4: the header's
 * flags, access, kind and length, the task's root (fs->root: its mount and dentry, in ROOT_M and ROOT_D),
 * then the bytes read, 8 at a time, the last word masked to them: the
 * bounded loop's counter is exact at each step, and at PATH_MAX it ends) looked up in `seen`: found, one
 * added to its count and nothing sent; else the event sent with the hash after the path (COUNTED) and, once
 * the ring buffer took it, the hash inserted (BPF_NOEXIST: another CPU's insert first keeps its count).
 */
function counted(a: EbpfAsm, m: PathMapFds, k: PathLayout): void {
  a.label("send").ldxMem(1, R1, R9, 26).jmpImm("ne", R1, DIR.none, "emit");
  // the root: the same bytes under another root (a chroot) are another use
  a.call("get_current_task");
  peek(a, FS, R0, k.taskFs);
  a.ldxMem(8, R3, R10, FS);
  if (k.fsRootDentry === k.fsRootMnt + 8) {
    a.alu64Imm("add", R3, k.fsRootMnt);
    a.mov64Reg(R1, R10).alu64Imm("add", R1, ROOT_M).mov64Imm(R2, 16).call("probe_read_kernel");
  } else {
    peek(a, ROOT_M, R3, k.fsRootMnt);
    a.ldxMem(8, R3, R10, FS);
    peek(a, ROOT_D, R3, k.fsRootDentry);
  }
  a.ldxMem(8, R5, R10, LEN).jmpImm("gt", R5, PATH_MAX, "next");
  a.ldImm64(R0, MIX).ldxMem(8, R4, R9, 16).alu64Reg("mul", R4, R0);
  a.ldxMem(8, R1, R9, 24).alu64Reg("xor", R4, R1).alu64Reg("mul", R4, R0);
  a.ldxMem(8, R1, R10, ROOT_M).alu64Reg("xor", R4, R1).alu64Reg("mul", R4, R0);
  a.ldxMem(8, R1, R10, ROOT_D).alu64Reg("xor", R4, R1).alu64Reg("mul", R4, R0);
  a.mov64Reg(R7, R4).alu64Imm("rsh", R7, 32).alu64Reg("xor", R4, R7);
  // a create that failed with EEXIST only found its name (a lookup: path-access.ts existingName), so it is
  // counted apart from the same call's successful creates, which would otherwise be counted as lookups
  a.ldxMem(4, R1, R9, 12).jmp32Imm("ne", R1, -EEXIST, "h_start").alu64Imm("xor", R4, 0x5eee);
  a.label("h_start").mov64Imm(R1, 0);
  a.label("h_loop").jmpReg("ge", R1, R5, "h_done");
  a.mov64Reg(R2, R9).alu64Reg("add", R2, R1).ldxMem(8, R3, R2, PATH_HEADER);
  a.mov64Reg(R2, R5).alu64Reg("sub", R2, R1).jmpImm("ge", R2, 8, "h_word");
  a.alu64Imm("lsh", R2, 3).mov64Imm(R7, 1).alu64Reg("lsh", R7, R2).alu64Imm("sub", R7, 1);
  a.alu64Reg("and", R3, R7);
  a.label("h_word").alu64Reg("xor", R4, R3).alu64Reg("mul", R4, R0);
  a.mov64Reg(R7, R4).alu64Imm("rsh", R7, 29).alu64Reg("xor", R4, R7);
  a.alu64Imm("add", R1, 8).ja("h_loop");
  a.label("h_done").stxMem(8, R10, R4, HASH);
  lookup(a, m.seen, HASH);
  a.jmpImm("eq", R0, 0, "first").mov64Imm(R1, 1).atomicAdd(8, R0, R1, 0).ja("next");
  a.label("first").stMem(1, R9, COUNTED, 1).ldxMem(8, R3, R10, LEN).jmpImm("gt", R3, PATH_MAX, "next");
  a.ldxMem(8, R4, R10, HASH).mov64Reg(R1, R9).alu64Reg("add", R1, R3).stxMem(8, R1, R4, PATH_HEADER);
  a.alu64Imm("add", R3, PATH_HEADER + 8);
  a.ldMapFd(R1, m.rb).mov64Reg(R2, R9).mov64Imm(R4, NO_WAKEUP).call("ringbuf_output");
  a.jmpImm("ne", R0, 0, "lost");
  a.stMem(8, R10, ZERO, 0).ldMapFd(R1, m.seen).mov64Reg(R2, R10).alu64Imm("add", R2, HASH);
  a.mov64Reg(R3, R10).alu64Imm("add", R3, ZERO).mov64Imm(R4, BPF_NOEXIST).call("map_update_elem");
  a.ja("next");
}

/**
 * The event sent (label "emit": header, path, names; a full ring buffer counted as TOTALS.lostEvents),
 * then the next use ("next": the second, unless this was it or an exec) or the end ("out").
 */
function send(a: EbpfAsm, m: PathMapFds): void {
  a.label("emit").ldxMem(8, R3, R10, LEN).jmpImm("gt", R3, PATH_MAX, "next");
  a.ldxMem(8, R1, R10, POS)
    .alu64Imm("and", R1, DIR_MAX - 1)
    .alu64Reg("add", R3, R1);
  a.alu64Imm("add", R3, PATH_HEADER);
  a.ldMapFd(R1, m.rb).mov64Reg(R2, R9).mov64Imm(R4, NO_WAKEUP).call("ringbuf_output");
  a.jmpImm("eq", R0, 0, "next");
  a.label("lost");
  total(a, m as unknown as MapFds, TOTALS.lostEvents, "l");
  // what the walk counted is cleared: the second use's states are then the same whichever way the first went
  a.label("next").stMem(8, R10, LEN, 0).stMem(8, R10, CNT, 0).stMem(8, R10, POS, 0).ja("again");
  // the call's second use, if it has one: read by this program again, tail-called with SECOND_USE set (a
  // loop back to "use" would have the verifier check every step of the walk twice)
  a.label("again").ldxMem(8, R1, R10, K).jmpImm("ne", R1, 0, "out");
  a.ldxMem(8, R1, R10, UPTR).ldxMem(1, R2, R1, USE.kind).jmpImm("eq", R2, USE_KIND.exec, "out");
  a.ldxMem(8, R1, R10, USES)
    .ldxMem(1, R2, R1, USE.size + USE.arg)
    .jmpImm("eq", R2, 0, "out");
  a.stMem(1, R9, SECOND_USE, 1);
  a.mov64Reg(R1, R6).ldMapFd(R2, m.progs).mov64Imm(R3, PATH_PROG).call("tail_call");
  // (the tail call failed: the second use is lost, and counted so)
  a.stMem(1, R9, SECOND_USE, 0);
  total(a, m as unknown as MapFds, TOTALS.lostEvents, "t");
  a.label("out").mov64Imm(R0, 0).exit();
}
