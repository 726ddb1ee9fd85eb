// How the bpf engine loads its programs into the kernel (raw_tp, or tp_btf by a BTF id), and which sys_exit
// it gets: as tp_btf with the path program, else as raw_tp with it, else sys_exit alone (kernel.ts attaches
// what this returns).
import { BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP } from "../../../abi/ebpf.js";
import { EBPF_LICENSE, loadProgram } from "../../../ebpf/load.js";
import type { CachedLayout } from "./kernel-layout.js";
import { type MapFds, sysExit } from "./programs.js";

/**
 * Loads a raw tracepoint program under EBPF_LICENSE (GPL-compatible: the probe_read helpers need one;
 * NOTICE). The verifier gives up with EAGAIN when a signal is pending (a child's SIGCHLD, a profiler's
 * SIGPROF): such a load is tried again.
 */
export function load(code: Buffer, name: string, tpBtf?: number): number {
  for (let i = 0; ; i++)
    try {
      return loadProgram(
        tpBtf === undefined
          ? { type: BPF_PROG_TYPE_RAW_TRACEPOINT, code, license: EBPF_LICENSE, name }
          : {
              type: BPF_PROG_TYPE_TRACING,
              code,
              license: EBPF_LICENSE,
              name,
              expectedAttachType: BPF_TRACE_RAW_TP,
              attachBtfId: tpBtf,
            },
      );
    } catch (e) {
      if ((e as { errno?: number }).errno !== 11 || i >= 4) throw e;
    }
}

/** sys_exit loaded: its fd, whether as tp_btf, and the path program's prog array (undefined: none). */
export interface SysExit {
  fd: number;
  tpBtf: boolean;
  pathProgs?: number;
}

/**
 * Loads sys_exit over the maps `fds`. `pathProgram` loads the path program as sys_exit's tail call (as
 * tp_btf with the BTF id given, as raw_tp without) and gives its prog array, or undefined when refused.
 */
export function loadSysExit(
  fds: MapFds,
  layout: CachedLayout,
  pathProgram: (tpBtf?: number) => number | undefined,
): SysExit {
  // sys_exit: as tp_btf it reads the syscall number without a helper call; a kernel that refuses tp_btf
  // gets the raw tracepoint. The path program (a tail call of sys_exit) is loaded as the same kind; a
  // kernel that refuses it as tp_btf gets both as raw tracepoints (paths matter more than a helper call)
  let exitFd: number | undefined;
  let tpBtf = true;
  let pathProgs: number | undefined;
  try {
    const id = layout.sysExitBtf;
    if (id < 0) throw new Error("no btf_trace_sys_exit");
    pathProgs = pathProgram(id);
    if (pathProgs !== undefined) exitFd = load(sysExit(fds, layout, true, pathProgs), "sf_sys_exit", id);
  } catch {
    pathProgs = undefined;
  }
  if (exitFd === undefined) pathProgs = pathProgram();
  if (exitFd === undefined && pathProgs !== undefined)
    try {
      exitFd = load(sysExit(fds, layout, false, pathProgs), "sf_sys_exit");
      tpBtf = false;
    } catch {
      pathProgs = undefined;
    }
  // no path program: sys_exit alone, as tp_btf where the kernel takes it
  if (exitFd === undefined)
    try {
      if (layout.sysExitBtf < 0) throw new Error("no btf_trace_sys_exit");
      exitFd = load(sysExit(fds, layout, true), "sf_sys_exit", layout.sysExitBtf);
    } catch {
      tpBtf = false;
      exitFd = load(sysExit(fds, layout), "sf_sys_exit");
    }
  return { fd: exitFd, tpBtf, pathProgs };
}
