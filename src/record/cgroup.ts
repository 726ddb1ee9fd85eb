// record --cgroup PATH: every process in a cgroup and in the cgroups under it, recorded by the bpf engine
// until a stop signal, --duration, or the cgroup's removal. On a cgroup v2 the kernel follows the cgroup
// itself: the processes in it when recording starts are seeded from its cgroup.procs files, and a process
// that joins later is traced from its next exec (or its first fork) on, found by the cgroup's id
// (bpf_get_current_ancestor_cgroup_id). A cgroup v1 has no such id: its processes are read again every
// RESCAN_MS and the new ones seeded, and what a joining process does before that reading is reported lost.
import { readdirSync, readFileSync, statfsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SysfenceError } from "../errors.js";
import { nativeArch } from "../syscalls/arches.js";
import { ATTACHED, type AttachOptions, checkAttachedProfile, processOf, recordingWindow } from "./attach.js";
import { ProfileBuilder } from "./builder.js";
import { type Engine, parseEngine } from "./engine.js";
import { attachBpf, bpfUnavailable, type RunningProcess } from "./engines/bpf/bpf.js";
import type { Profile } from "./profile.js";

/** statfs f_type of a cgroup v2 and a cgroup v1 file system (include/uapi/linux/magic.h). */
export const CGROUP2_SUPER_MAGIC = 0x63677270;
export const CGROUP_SUPER_MAGIC = 0x27e0eb;

/** How often a cgroup v1's processes are read again (ms). */
export const RESCAN_MS = 100;

/** Levels tried when the mount's root is not the hierarchy's (a cgroup namespace, a bound subtree). */
const NAMESPACED_LEVELS = 16;

/** A cgroup to record: its directory, version, and (v2) its id and the levels that id may be at. */
export interface CgroupTarget {
  path: string;
  version: 1 | 2;
  id: bigint;
  levels: number[];
}

/** The cgroup at `path`, or E_USAGE naming what it is instead. */
export function cgroupTarget(path: string): CgroupTarget {
  const dir = resolve(path);
  let type: number;
  try {
    if (!statSync(dir).isDirectory())
      throw new SysfenceError(
        "E_USAGE",
        `--cgroup ${path}: not a directory; give a cgroup's directory, e.g. /sys/fs/cgroup/system.slice/nginx.service.`,
      );
    type = statfsSync(dir).type;
  } catch (e) {
    if (e instanceof SysfenceError) throw e;
    throw new SysfenceError(
      "E_USAGE",
      `--cgroup ${path}: no such directory (${(e as NodeJS.ErrnoException).code}); give an existing cgroup's directory, e.g. /sys/fs/cgroup/system.slice/nginx.service (see /proc/PID/cgroup for a process's).`,
    );
  }
  if (type === CGROUP_SUPER_MAGIC) return { path: dir, version: 1, id: 0n, levels: [] };
  if (type !== CGROUP2_SUPER_MAGIC)
    throw new SysfenceError(
      "E_USAGE",
      `--cgroup ${path}: not a cgroup (its file system's statfs type is 0x${type.toString(16)}, not cgroup2's 0x${CGROUP2_SUPER_MAGIC.toString(16)} or cgroup v1's 0x${CGROUP_SUPER_MAGIC.toString(16)}); give a directory under a cgroup mount (mount -t cgroup2; see /proc/self/mountinfo).`,
    );
  const st = statSync(dir, { bigint: true });
  // its depth below the mount's root: the level of its id when that root is the hierarchy's (id 1)
  let root = dir;
  let depth = 0;
  while (root !== "/" && statSync(dirname(root), { bigint: true }).dev === st.dev) {
    root = dirname(root);
    depth++;
  }
  const top = statSync(root, { bigint: true }).ino === 1n;
  const levels = top ? [depth] : Array.from({ length: NAMESPACED_LEVELS }, (_, i) => depth + i);
  return { path: dir, version: 2, id: st.ino, levels };
}

/** The pids in the cgroup and every cgroup under it (their cgroup.procs files; a cgroup gone meanwhile is skipped). */
export function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      for (const line of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n"))
        if (/^\d+$/.test(line)) pids.push(Number(line));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      // removed while read
    }
  };
  walk(dir);
  return [...new Set(pids)].sort((a, b) => a - b);
}

/** The cgroup's processes as the engine seeds them (a parent outside the cgroup is not named). */
function cgroupProcesses(dir: string): RunningProcess[] {
  const pids = cgroupPids(dir);
  const inside = new Set(pids);
  return pids.map((pid) => {
    const p = processOf(pid);
    return { pid, exe: p.exe, tids: p.tids, parent: inside.has(p.parent) ? p.parent : undefined };
  });
}

/** Only the bpf engine records a cgroup: E_USAGE for any other, or when it cannot run here. */
function cgroupEngine(requested: AttachOptions["engine"]): Engine {
  const engine = parseEngine(requested, "engine");
  if (engine !== "auto" && engine !== "bpf")
    throw new SysfenceError(
      "E_USAGE",
      `--cgroup with --engine ${engine}: only the bpf engine records a cgroup (it follows the cgroup's processes in the kernel); give --engine bpf or leave --engine out.`,
    );
  const why = bpfUnavailable();
  if (why)
    throw new SysfenceError(
      "E_USAGE",
      `--cgroup needs the bpf engine, which cannot run here: ${why}. Run sysfence as root on a kernel with BTF, or record the cgroup's main process with --pid PID and another engine.`,
    );
  return "bpf";
}

/** Records the cgroup's processes (and those that join it, and their descendants) until the window ends. */
export async function recordCgroup(
  path: string,
  options: AttachOptions = {},
): Promise<{ profile: Profile; engine: Engine; why: string; warnings: string[]; target: CgroupTarget }> {
  const target = cgroupTarget(path);
  const engine = cgroupEngine(options.engine);
  const first = cgroupPids(target.path)[0];
  const command = first === undefined ? [target.path] : processOf(first).cmdline;
  const builder = new ProfileBuilder(command, { kind: "none" }, options.focus);
  const startedAt = new Date().toISOString();
  const there = () => {
    try {
      return statSync(target.path).isDirectory();
    } catch {
      return false;
    }
  };
  const window = recordingWindow(there, builder, options);
  try {
    const watch = {
      processes: () => cgroupProcesses(target.path),
      ...(target.version === 2
        ? { filter: { id: target.id, levels: target.levels } }
        : { rescanMs: RESCAN_MS }),
    };
    const engineField = await attachBpf(builder, watch, window.until, window.attached);
    const profile = builder.build({
      engine: engineField,
      arch: nativeArch(),
      complete: !engineField.lostEvents,
      startedAt,
      endedAt: new Date().toISOString(),
      phaseText: ATTACHED,
    });
    const warnings = checkAttachedProfile(profile, `the processes of cgroup ${target.path}`, engine);
    const why =
      target.version === 2
        ? "the bpf engine follows a cgroup v2 in the kernel"
        : `cgroup v1: its processes are read every ${RESCAN_MS} ms`;
    return { profile, engine, why, warnings, target };
  } finally {
    window.close();
  }
}
