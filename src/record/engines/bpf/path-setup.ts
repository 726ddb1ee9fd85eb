// The bpf engine's path program set up (path-programs.ts): its syscall table `uses` from PATH_USES, the
// calls sys_exit hands to it, and its load as sys_exit's tail call with its maps.
import {
  BPF_F_NO_PREALLOC,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_PROG_ARRAY,
} from "../../../abi/ebpf.js";
import { arrayKeys, createMap, type EbpfMap } from "../../../ebpf/maps.js";
import type { ArchName } from "../../../syscalls/arches.js";
import { syscallNumber } from "../../../syscalls/table.js";
import { Access, PATH_USES } from "../../path-access.js";
import { SYSCALLS } from "./layout.js";
import { pathExit } from "./path-exit.js";
import { PATH_BUF, PATH_PROG, type PathLayout, SEEN_ENTRIES, USE, USE_KIND } from "./path-programs.js";
import { ARG, ARG_BITS } from "./program-parts.js";

/**
 * The `uses` table by syscall number: each PATH_USES entry's registers (pt_regs offsets + 1 at sys_exit),
 * access and kind (connect and bind: a socket address, its length the next argument).
 */
export function usesTable(arch: ArchName, regs: readonly number[]): Buffer {
  const t = Buffer.alloc(SYSCALLS * 2 * USE.size);
  for (const [name, uses] of Object.entries(PATH_USES)) {
    const nr = syscallNumber(arch, name);
    if (nr === undefined || nr >= SYSCALLS) continue;
    uses.slice(0, 2).forEach((u, k) => {
      const at = nr * 2 * USE.size + k * USE.size;
      t[at + USE.arg] = regs[u.arg] + 1;
      if (u.dirfd >= 0) t[at + USE.dirfd] = regs[u.dirfd] + 1;
      if (u.flags >= 0) t[at + USE.flags] = regs[u.flags] + 1;
      t[at + USE.access] = u.access;
      const sock = name === "connect" || name === "bind";
      t[at + USE.kind] = sock
        ? USE_KIND.sockaddr
        : u.how
          ? USE_KIND.how
          : u.access === Access.exec
            ? USE_KIND.exec
            : name === "chdir"
              ? USE_KIND.chdir
              : name === "chroot"
                ? USE_KIND.chroot
                : USE_KIND.string;
      if (sock) t[at + USE.len] = regs[u.arg + 1] + 1;
    });
  }
  return t;
}

/** Marks, in sys_exit's syscall table (ARG layout), every call with a path use: sys_exit tail-calls the path program for it. */
export function markPathCalls(table: Buffer, arch: ArchName): void {
  for (const name of Object.keys(PATH_USES)) {
    const nr = syscallNumber(arch, name);
    if (nr !== undefined && nr < SYSCALLS) table[nr * ARG.size + ARG.bits] |= ARG_BITS.path;
  }
}

/** The path program loaded (its maps and prog array), or why the kernel refused it. */
export interface PathProgram {
  /** The prog array sys_exit tail-calls (undefined: refused). */
  progs?: number;
  /** The program's fd (closed with the recording). */
  prog?: number;
  maps: EbpfMap[];
  /** Counted uses' repeats by hash (path-programs.ts: read at the end). */
  seen?: EbpfMap;
  refused?: string;
}

/** The path program's own maps (its `uses` table filled) and its prog array. */
interface PathMaps {
  maps: EbpfMap[];
  uses: EbpfMap;
  buf: EbpfMap;
  seen: EbpfMap;
  progs: EbpfMap;
}

/** Creates the path program's maps; on a failure the ones made are closed and the error thrown. */
function pathMaps(arch: ArchName, paths: PathLayout): PathMaps {
  const maps: EbpfMap[] = [];
  const make = (spec: Parameters<typeof createMap>[0]) => {
    const m = createMap(spec);
    maps.push(m);
    return m;
  };
  try {
    const uses = make({
      type: BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 2 * USE.size,
      maxEntries: SYSCALLS,
      name: "sf_uses",
    });
    uses.updateBatch(arrayKeys(SYSCALLS), usesTable(arch, paths.exitArgs)); // (every entry in one call)
    const buf = make({
      type: BPF_MAP_TYPE_PERCPU_ARRAY,
      keySize: 4,
      valueSize: PATH_BUF,
      maxEntries: 1,
      name: "sf_pathbuf",
    });
    const seen = make({
      type: BPF_MAP_TYPE_HASH,
      keySize: 8,
      valueSize: 8,
      maxEntries: SEEN_ENTRIES,
      flags: BPF_F_NO_PREALLOC,
      name: "sf_seen",
    });
    const progs = make({
      type: BPF_MAP_TYPE_PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      name: "sf_progs",
    });
    return { maps, uses, buf, seen, progs };
  } catch (e) {
    for (const m of maps) m.close();
    throw e;
  }
}

/** The program `prog` in the prog array at PATH_PROG: sys_exit's tail calls reach it from now on. */
function install(m: PathMaps, prog: number): PathProgram {
  const v = Buffer.alloc(4);
  v.writeUInt32LE(prog);
  const k = Buffer.alloc(4);
  k.writeUInt32LE(PATH_PROG);
  m.progs.update(k, v);
  return { progs: m.progs.fd, prog, maps: m.maps, seen: m.seen };
}

/** A refusal (of the maps or the program): nothing kept, and why. */
function refusal(e: unknown, m?: PathMaps): PathProgram {
  for (const map of m?.maps ?? []) map.close();
  return { maps: [], refused: (e as Error).message };
}

type Engine = { rb: number; tot: number; st: number };
const program = (engine: Engine, m: PathMaps, paths: PathLayout) =>
  pathExit({ ...engine, uses: m.uses.fd, buf: m.buf.fd, seen: m.seen.fd, progs: m.progs.fd }, paths);

/**
 * Loads the path program with `load` (as sys_exit is loaded: tp_btf or raw_tp) over the engine's ring
 * buffer, totals and state maps, and puts it in a new prog array; a refusal is returned, not thrown (the
 * engine then reads the open family's paths inline).
 */
export function loadPathProgram(
  engine: Engine,
  paths: PathLayout,
  arch: ArchName,
  load: (code: Buffer, name: string) => number,
): PathProgram {
  let m: PathMaps | undefined;
  try {
    m = pathMaps(arch, paths);
    return install(m, load(program(engine, m, paths), "sf_paths"));
  } catch (e) {
    return refusal(e, m);
  }
}

/**
 * loadPathProgram with a load that runs elsewhere (its verification, ~100 ms, on another thread): the
 * prog array's fd at once (sys_exit can be loaded over it meanwhile; undefined when its maps could not be
 * made) and the program once loaded. The array is empty until then: tail calls into it fall through.
 */
export function startPathProgram(
  engine: Engine,
  paths: PathLayout,
  arch: ArchName,
  load: (code: Buffer, name: string) => Promise<number>,
): { progs?: number; loaded: Promise<PathProgram> } {
  let m: PathMaps;
  try {
    m = pathMaps(arch, paths);
  } catch (e) {
    return { loaded: Promise.resolve(refusal(e)) };
  }
  const maps = m;
  const loaded = load(program(engine, maps, paths), "sf_paths")
    .then((prog) => install(maps, prog))
    .catch((e) => refusal(e, maps));
  return { progs: maps.progs.fd, loaded };
}
