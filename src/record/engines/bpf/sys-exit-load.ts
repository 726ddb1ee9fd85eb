// How the bpf engine loads its programs into the kernel (raw_tp, or tp_btf by a BTF id), and which sys_exit
// it gets: as tp_btf with the path program, else as raw_tp with it, else sys_exit alone (kernel.ts attaches
// what this returns).
import { BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP } from "../../../abi/ebpf.js";
import { EBPF_LICENSE, loadProgram, loadProgramAsync } from "../../../ebpf/load.js";
import { ebpfSys } from "../../../ebpf/sys.js";
import type { CachedLayout } from "./kernel-layout.js";
import { type MapFds, sysExit } from "./programs.js";

/** The spec of a program under EBPF_LICENSE: raw_tp, or tp_btf with the BTF id given. */
function spec(code: Buffer, name: string, tpBtf?: number) {
  return tpBtf === undefined
    ? { type: BPF_PROG_TYPE_RAW_TRACEPOINT, code, license: EBPF_LICENSE, name }
    : {
        type: BPF_PROG_TYPE_TRACING,
        code,
        license: EBPF_LICENSE,
        name,
        expectedAttachType: BPF_TRACE_RAW_TP,
        attachBtfId: tpBtf,
      };
}

/**
 * Loads a raw tracepoint program under EBPF_LICENSE (GPL-compatible: the probe_read helpers need one;
 * NOTICE). The verifier gives up with EAGAIN when a signal is pending (a child's SIGCHLD, a profiler's
 * SIGPROF): such a load is tried again.
 */
export function load(code: Buffer, name: string, tpBtf?: number): number {
  for (let i = 0; ; i++)
    try {
      return loadProgram(spec(code, name, tpBtf));
    } catch (e) {
      if ((e as { errno?: number }).errno !== 11 || i >= 4) throw e;
    }
}

/** load, verified on koffi's worker thread while this one goes on (ebpf/load.ts loadProgramAsync). */
export function loadAsync(code: Buffer, name: string, tpBtf?: number): Promise<number> {
  return loadProgramAsync(spec(code, name, tpBtf)).catch(() => load(code, name, tpBtf));
}

/** sys_exit loaded: its fd, whether as tp_btf, and the path program's prog array (undefined: none). */
export interface SysExit {
  fd: number;
  tpBtf: boolean;
  pathProgs?: number;
}

/** A path program's load under way: its prog array (undefined: no maps), and whether it got in. */
export interface PathStart {
  progs?: number;
  loaded: Promise<boolean>;
}

/**
 * Loads sys_exit over the maps `fds`. `first` is the path program's load as tp_btf (layout.sysExitBtf),
 * started before the count maps were made: sys_exit is loaded over its prog array while it verifies.
 * `pathProgram` starts another (raw_tp without the BTF id): for a kernel that refuses tp_btf, both are
 * loaded as raw tracepoints (paths matter more than a helper call); the path program refused, sys_exit
 * alone (as tp_btf where the kernel takes it).
 */
export async function loadSysExit(
  fds: MapFds,
  layout: CachedLayout,
  first: PathStart | undefined,
  pathProgram: (tpBtf?: number) => PathStart,
): Promise<SysExit> {
  const id = layout.sysExitBtf;
  if (first?.progs !== undefined) {
    let fd: number | undefined;
    try {
      fd = load(sysExit(fds, layout, true, first.progs), "sf_sys_exit", id);
    } catch {
      // (as raw_tp below)
    }
    if ((await first.loaded) && fd !== undefined) return { fd, tpBtf: true, pathProgs: first.progs };
    if (fd !== undefined) ebpfSys().close(fd);
  }
  const raw = pathProgram();
  if (raw.progs !== undefined && (await raw.loaded))
    try {
      return {
        fd: load(sysExit(fds, layout, false, raw.progs), "sf_sys_exit"),
        tpBtf: false,
        pathProgs: raw.progs,
      };
    } catch {
      // sys_exit alone
    }
  try {
    if (id < 0) throw new Error("no btf_trace_sys_exit");
    return { fd: load(sysExit(fds, layout, true), "sf_sys_exit", id), tpBtf: true };
  } catch {
    return { fd: load(sysExit(fds, layout), "sf_sys_exit"), tpBtf: false };
  }
}
