// The kernel's struct layout the bpf engine's programs read (programs.ts' KernelLayout, path-programs.ts'
// PathLayout, the argument registers, sys_exit's BTF id), from the running kernel's BTF, and its cache
// under $XDG_CACHE_HOME/sysfence (a recording with the cache warm never parses BTF).
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir, release, version } from "node:os";
import { join } from "node:path";
import { btfTraceId, vmlinuxBtf } from "../../../ebpf/btf.js";
import { type ArchName, nativeArch } from "../../../syscalls/arches.js";
import { type PathLayout, pathLayout } from "./path-programs.js";
import type { KernelLayout } from "./programs.js";

/** The argument registers in struct pt_regs, by argument index, from BTF (arch/x86 and arch/arm64 ptrace.h). */
function argRegisters(arch: ArchName): { args: number[]; nr: number } {
  const at = (struct: string, path: string) => vmlinuxBtf().memberOffset(struct, path).byteOffset;
  if (arch === "x86_64")
    return {
      args: ["di", "si", "dx", "r10", "r8", "r9"].map((r) => at("pt_regs", r)),
      nr: at("pt_regs", "orig_ax"),
    };
  if (arch === "aarch64") {
    const base = at("pt_regs", "regs");
    return { args: [0, 1, 2, 3, 4, 5].map((i) => base + 8 * i), nr: at("pt_regs", "syscallno") };
  }
  throw new Error(`the bpf engine does not know ${arch}'s argument registers`);
}

/**
 * The kernel's struct layout the programs read, from BTF; cached by the kernel's build (release, version
 * and the BTF file's size and time) under $XDG_CACHE_HOME/sysfence (parsing BTF takes a few hundred ms).
 */
export function kernelLayout(arch: ArchName = nativeArch()): CachedLayout {
  const btfFile = statSync("/sys/kernel/btf/vmlinux");
  const id = createHash("sha256")
    .update(`${arch} ${release()} ${version()} ${btfFile.size} ${btfFile.mtimeMs} ${LAYOUT_VERSION}`)
    .digest("hex")
    .slice(0, 16);
  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "sysfence");
  const file = join(dir, `kernel-layout-${id}.json`);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as CachedLayout;
  } catch {
    // not cached yet (or unreadable): read the BTF
  }
  const layout = layoutFromBtf(arch);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(layout));
    renameSync(`${file}.${process.pid}`, file);
  } catch {
    // a cache that cannot be written only costs the next recording the BTF parse
  }
  return layout;
}

/** Bumped when the layout's fields change (old cache files are then never read). */
const LAYOUT_VERSION = 3;

/**
 * What a recording needs from BTF: the programs' struct offsets, the argument registers, the path
 * program's offsets, and the BTF id of btf_trace_sys_exit (sys_exit's tp_btf program; -1 when the kernel
 * has none: the raw tracepoint). Cached whole: a recording with the cache warm never parses BTF (~60 ms of CPU).
 */
export type CachedLayout = KernelLayout & { args: number[]; paths: PathLayout; sysExitBtf: number };

/** The layout from the running kernel's BTF. */
export function layoutFromBtf(arch: ArchName): CachedLayout {
  const at = (struct: string, path: string) => vmlinuxBtf().memberOffset(struct, path).byteOffset;
  const regs = argRegisters(arch);
  // at sys_exit arm64's x0 holds the result; the first argument is in orig_x0
  const exitArgs = arch === "aarch64" ? [at("pt_regs", "orig_x0"), ...regs.args.slice(1)] : regs.args;
  let sysExitBtf = -1;
  try {
    sysExitBtf = btfTraceId("sys_exit");
  } catch {
    // no btf_trace_sys_exit: sys_exit is attached as a raw tracepoint
  }
  return {
    sysExitBtf,
    paths: pathLayout(at, exitArgs, regs.nr),
    args: regs.args,
    syscallNr: regs.nr,
    taskPid: at("task_struct", "pid"),
    taskTgid: at("task_struct", "tgid"),
    taskExitCode: at("task_struct", "exit_code"),
    taskSignal: at("task_struct", "signal"),
    signalLive: at("signal_struct", "live"),
    binprmFilename: at("linux_binprm", "filename"),
  };
}
