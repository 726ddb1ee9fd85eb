// What the two kernel-side engines (sysfence's eBPF programs and bpftrace) share when they record running
// processes (record --pid): the attach-wait-detach around their tracer, and the loss text for image
// numbers that came back.
import type { LaunchTracer } from "../../launched.js";
import type { Profile } from "../../profile.js";
import type { CgroupFilter } from "./process-programs.js";

/** A running process the tracer is pointed at. */
export interface RunningProcess {
  pid: number;
  exe: string;
  tids: readonly number[];
  parent?: number;
}

/**
 * Attaches `tracer` to the running processes, calls `attached` the moment every call is counted, waits
 * for `until`, detaches; the tracer is closed on every path (also after an error).
 */
export async function traceRunning(
  tracer: LaunchTracer,
  running: readonly RunningProcess[],
  until: Promise<unknown> | (() => Promise<unknown>),
  attached?: () => void,
): Promise<Profile["engine"]> {
  try {
    await tracer.attach(running[0]?.pid ?? 0);
    attached?.();
    await (typeof until === "function" ? until() : until);
    return await tracer.detach();
  } finally {
    tracer.close();
  }
}

/** The loss of `n` processes whose pid came back after the image map's `keys` keys filled. */
export function repeatedImagesLoss(n: number, keys: number): string {
  return n
    ? `the image numbers of ${n} process(es) whose pid came back after the image map's ${keys} keys filled (their counts are merged with an earlier process's)`
    : "";
}

/**
 * record --cgroup: the cgroup's processes (read once the programs are attached, so none is missed
 * between the reading and the attaching), and how processes that join it later are found: in the kernel
 * by the cgroup's id (v2), or by reading them again every rescanMs (v1, which has no such id).
 */
export interface CgroupWatch {
  processes: () => RunningProcess[];
  filter?: CgroupFilter;
  rescanMs?: number;
}
