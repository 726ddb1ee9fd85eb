// Whether this kernel and process can run sysfence's eBPF programs, and if not, one sentence saying why —
// so a caller can pick another engine and tell the user. Costs one ring buffer map and one tiny program
// load (a few ms); attaches nothing.
import { existsSync } from "node:fs";
import { BPF_MAP_TYPE_RINGBUF, BPF_PROG_TYPE_RAW_TRACEPOINT } from "../abi/ebpf.js";
import { SysfenceError } from "../errors.js";
import { EbpfAsm, R0 } from "./asm.js";
import { VMLINUX_BTF } from "./btf.js";
import { EBPF_LICENSE, loadProgram } from "./load.js";
import { createMap } from "./maps.js";
import { ebpfSys } from "./sys.js";

export interface EbpfSupport {
  /** Programs load here, ring buffers exist and the kernel has BTF. */
  ok: boolean;
  /** Why not, as a sentence; absent when ok. */
  reason?: string;
  /** /sys/kernel/btf/vmlinux exists (tp_btf programs, BTF offsets). */
  btf: boolean;
  /** BPF_MAP_TYPE_RINGBUF maps can be created (Linux 5.8+). */
  ringbuf: boolean;
  /** A raw tracepoint program loads. */
  load: boolean;
}

const errnoOf = (e: unknown): number | undefined => (e as { errno?: number }).errno;

/** Tries what sysfence's eBPF programs need. Never throws. */
export function ebpfSupport(): EbpfSupport {
  const out: EbpfSupport = { ok: false, btf: existsSync(VMLINUX_BTF), ringbuf: false, load: false };
  try {
    ebpfSys();
  } catch (e) {
    out.reason = (e as Error).message;
    return out;
  }
  const denied = (errno: number | undefined) => errno === 1 || errno === 13;
  try {
    const page = ebpfSys().pageSize();
    createMap({
      type: BPF_MAP_TYPE_RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: page,
      name: "sysfence_probe",
    }).close();
    out.ringbuf = true;
  } catch (e) {
    if (denied(errnoOf(e))) {
      out.reason = "Loading eBPF needs root (CAP_BPF and CAP_PERFMON); this process may not create BPF maps.";
      return out;
    }
    out.reason = `This kernel has no BPF ring buffer maps (Linux 5.8+): ${(e as Error).message}`;
  }
  try {
    const code = new EbpfAsm().mov64Imm(R0, 0).exit().assemble();
    ebpfSys().close(
      loadProgram({
        type: BPF_PROG_TYPE_RAW_TRACEPOINT,
        code,
        license: EBPF_LICENSE,
        name: "sysfence_probe",
      }),
    );
    out.load = true;
  } catch (e) {
    out.reason ??=
      e instanceof SysfenceError && denied(errnoOf(e))
        ? "Loading eBPF needs root (CAP_BPF and CAP_PERFMON); this process may not load programs."
        : `This kernel does not load raw tracepoint programs: ${(e as Error).message}`;
  }
  if (!out.btf) out.reason ??= `This kernel has no BTF (${VMLINUX_BTF}; CONFIG_DEBUG_INFO_BTF).`;
  out.ok = out.reason === undefined;
  return out;
}
