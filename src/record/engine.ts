// Which recording engine `sysfence record` uses when none is named (--engine auto, the default): the
// cheapest one that can record everything that was asked for.
import { SysfenceError } from "../errors.js";
import type { PhaseSpec } from "./builder.js";

export type Engine = "strace" | "ftrace" | "bpf" | "bpftrace";

/** What the machine offers and what the recording asks for. */
export interface EngineNeeds {
  /** --engine as given: auto, strace, ftrace or bpf. */
  requested: string;
  phase: PhaseSpec;
  checkCounts: boolean;
  /** Running as root (tracefs instances need it). */
  root: boolean;
  /** The kernel's syscall tracepoints are there (tracefs mounted or mountable, CONFIG_FTRACE_SYSCALLS). */
  tracepoints: boolean;
  /** Why sysfence's eBPF programs cannot be loaded here (root, BTF); null: they can; absent: not asked. */
  bpfUnavailable?: string | null;
}

/**
 * The engine and why: ftrace when it can do the job (the program never stops: a syscall-heavy run takes a
 * quarter of plain strace's time), strace when something needs what only strace reads — marker text
 * (--after marker:/ready), strace's own counts (--check-counts) — or ftrace is not available.
 */
export function chooseEngine(n: EngineNeeds): { engine: Engine; why: string } {
  if (
    n.requested === "strace" ||
    n.requested === "ftrace" ||
    n.requested === "bpf" ||
    n.requested === "bpftrace"
  )
    return { engine: n.requested, why: "named with --engine" };
  if (n.requested !== "auto") throw new Error(`unknown engine '${n.requested}'`);
  if (n.phase.kind === "marker")
    return { engine: "strace", why: "--after marker:/ready needs the text the program writes" };
  if (n.checkCounts) return { engine: "strace", why: "--check-counts compares with strace's own counts" };
  if (!n.root) return { engine: "strace", why: "the kernel's tracepoints need root" };
  if (n.bpfUnavailable === null)
    return {
      engine: "bpf",
      why: "counts in the kernel: the cheapest here; it records paths and socket addresses too",
    };
  const noBpf = n.bpfUnavailable ? `no bpf engine (${n.bpfUnavailable}); ` : "";
  if (!n.tracepoints) return { engine: "strace", why: `${noBpf}the kernel has no syscall tracepoints here` };
  return {
    engine: "ftrace",
    why: `${noBpf}the cheapest here; paths and socket addresses need --engine strace`,
  };
}

/**
 * Refuses a marker phase (--after marker:/ready) for an engine in the kernel: the marker is text a
 * program writes, which neither the tracepoints nor bpf's counts carry.
 */
export function refuseMarkerPhase(phase: PhaseSpec, engine: "ftrace" | "bpf" | "bpftrace"): void {
  if (phase.kind === "marker")
    throw new SysfenceError(
      "E_USAGE",
      `--after marker:/ready needs the text a program writes, which --engine ${engine} does not see; use --engine strace.`,
    );
}

/** The engines `--engine` names, auto included. */
export const ENGINE_CHOICES = ["auto", "strace", "ftrace", "bpf", "bpftrace"] as const;

/** An --engine value, or one E_USAGE error listing the choices. */
export function parseEngine(text: string | undefined, flag = "--engine"): "auto" | Engine {
  const e = text ?? "auto";
  if ((ENGINE_CHOICES as readonly string[]).includes(e)) return e as "auto" | Engine;
  throw new SysfenceError("E_USAGE", `${flag} '${e}': use ${ENGINE_CHOICES.join(", ")}.`);
}
