// The bpf engine's kernel side for one recording: creates the maps, fills the syscall table (args-table.ts,
// over kernel-layout.ts's registers), loads programs.ts's programs and attaches them to raw tracepoints
// (links closed with the recording, or by the kernel when sysfence dies), reads the ring buffer while the
// program runs and the counts once at the end.
import { statSync } from "node:fs";
import {
  BPF_F_NO_PREALLOC,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_PERCPU_HASH,
} from "../../../abi/ebpf.js";
import { attachRawTracepoint, attachTpBtf, type EbpfLink } from "../../../ebpf/attach.js";
import { arrayKeys, createMap, type EbpfMap, sumPerCpuU64 } from "../../../ebpf/maps.js";
import { createRingBuffer, RingBufferReader } from "../../../ebpf/ringbuf.js";
import { ebpfSys } from "../../../ebpf/sys.js";
import { type ArchName, nativeArch } from "../../../syscalls/arches.js";
import type { PhaseSpec } from "../../builder.js";
import { argsTable } from "./args-table.js";
import { countCacheMap, plainCounts } from "./count-cache.js";
import { type CachedLayout, kernelLayout } from "./kernel-layout.js";
import { HEADER, PATH_MAX, SIGNALS, SYSCALLS, TOTAL_SLOTS } from "./layout.js";
import { PATH_EVENT, type PathLayout } from "./path-programs.js";
import { markPathCalls, startPathProgram } from "./path-setup.js";
import {
  ARG,
  type MapFds,
  processExec,
  processExit,
  processFork,
  signalDeliver,
  sysEnter,
} from "./programs.js";
import { load, loadAsync, loadSysExit, type PathStart } from "./sys-exit-load.js";

/** Bytes of the ring buffer (a power of two pages). */
const RING_BYTES = 1 << 22;

/** An event from the ring buffer: its kind, five u32 fields, the open flags of a path, and its string. */
export interface KernelEvent {
  kind: number;
  f: [number, number, number, number, number];
  flags: bigint;
  text?: string;
  /** The string filled its buffer (it may be cut). */
  cut?: boolean;
  /** A path-programs.ts event (PATH_EVENT): its record in the ring buffer (valid during the callback only). */
  raw?: Buffer;
}

/** One count from the maps: (pid, state, tid, syscall), its values and the number of calls. */
export interface KernelCount {
  key: [number, number, number, number];
  values: [bigint, bigint, bigint];
  count: number;
}

export interface RecorderOptions {
  phase: PhaseSpec;
  /** Keys of each count map (and of the process maps, up to pidKeys). */
  mapKeys: number;
  /**
   * Keys the maps by pid need at most (the kernel's pid_max: no more pids exist); each key of a hash map
   * costs its bucket at creation (262,144 keys: ~20 ms of kernel CPU per map).
   */
  pidKeys?: number;
  /** record --pid in a PID namespace: seeds are wanted by their pids there. */
  namespaced?: boolean;
  /** record --cgroup (v2): processes under this cgroup are traced from their next fork or exec on. */
  cgroup?: import("./process-programs.js").CgroupFilter;
}

/** One recording's maps, programs and links. */
export class KernelRecorder {
  private readonly maps: Record<keyof MapFds, EbpfMap>;
  private readonly progs: number[] = [];
  private readonly links: EbpfLink[] = [];
  private ring?: RingBufferReader;

  constructor(private readonly o: RecorderOptions) {
    const made: Partial<Record<keyof MapFds, EbpfMap>> = {};
    const map = (
      type: number,
      keySize: number,
      valueSize: number,
      maxEntries: number,
      name: string,
      flags = 0,
    ) => createMap({ type, keySize, valueSize, maxEntries, name, flags });
    const [HASH, ARRAY, PERCPU_ARRAY] = [BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY];
    try {
      const k = o.mapKeys;
      const pids = Math.min(k, o.pidKeys ?? k);
      made.st = map(HASH, 4, 8, pids, "sf_st", BPF_F_NO_PREALLOC);
      made.img = map(HASH, 4, 4, pids, "sf_img", BPF_F_NO_PREALLOC);
      made.args = map(ARRAY, 4, ARG.size, SYSCALLS, "sf_args");
      made.sig = map(PERCPU_ARRAY, 4, 8, SIGNALS, "sf_sig");
      made.tot = map(PERCPU_ARRAY, 4, 8 * TOTAL_SLOTS, 1, "sf_tot");
      made.rb = createRingBuffer(RING_BYTES, "sf_rb");
      made.scratch = map(PERCPU_ARRAY, 4, HEADER + PATH_MAX, 1, "sf_scratch");
      made.want = map(HASH, 4, 4, 4096, "sf_want");
      made.cfg = map(ARRAY, 4, 8, 1, "sf_cfg");
      made.dc = countCacheMap();
    } catch (e) {
      for (const m of Object.values(made)) m?.close();
      throw e;
    }
    this.maps = made as Record<keyof MapFds, EbpfMap>;
  }

  /**
   * The three count maps (mapKeys keys each: a hash map's buckets are allocated at creation, ~10–30 ms of
   * kernel CPU per map), made by attach while the path program verifies on another thread.
   */
  private countMaps(): void {
    const map = (keySize: number, name: string) =>
      createMap({
        type: BPF_MAP_TYPE_PERCPU_HASH,
        keySize,
        valueSize: 8,
        maxEntries: this.o.mapKeys,
        name,
        flags: BPF_F_NO_PREALLOC,
      });
    const m = this.maps as Partial<Record<keyof MapFds, EbpfMap>>;
    m.c ??= map(40, "sf_c");
    m.d ??= map(16, "sf_d");
    m.e ??= map(16, "sf_e");
  }

  /** path-programs.ts's maps: its `uses` table, per-CPU event buffer and prog array (made by attach). */
  private pathMaps: EbpfMap[] = [];
  /** The path program's `seen` map (one of pathMaps). */
  private seen?: EbpfMap;
  /**
   * Whether path-programs.ts's program reads every path use (set by attach); when the kernel refuses it,
   * why (the open family's paths are read inline then, relative ones without their directory).
   */
  wholePaths = false;
  pathRefused?: string;

  /**
   * Starts loading the path program as sys_exit's tail call (tp_btf or raw_tp, as sys_exit), verified on
   * koffi's worker thread: its prog array's fd at once, and whether it got in.
   */
  private pathProgram(paths: PathLayout, arch: ArchName, tpBtf?: number): PathStart {
    for (const old of this.pathMaps.splice(0)) old.close();
    const engine = { rb: this.maps.rb.fd, tot: this.maps.tot.fd, st: this.maps.st.fd };
    const started = startPathProgram(engine, paths, arch, (code, name) => loadAsync(code, name, tpBtf));
    const loaded = started.loaded.then((p) => {
      if (p.prog !== undefined) this.progs.push(p.prog);
      this.pathMaps = p.maps;
      this.seen = p.seen;
      this.pathRefused = p.refused;
      return p.progs !== undefined;
    });
    return { progs: started.progs, loaded };
  }

  private get fds(): MapFds {
    return Object.fromEntries(Object.entries(this.maps).map(([k, m]) => [k, m.fd])) as unknown as MapFds;
  }

  /** Traces process tgid from the start with `state` (image << 3 | 4 launcher | 2 traced | 1 work). */
  seed(tgid: number, state: number, flags = 0): void {
    const k = Buffer.alloc(4);
    k.writeUInt32LE(tgid);
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(BigInt(state));
    this.maps.st.update(k, v, flags);
  }

  /** Starts --after delay:SECONDS's clock: every traced call is work that long from now on. */
  startClock(): void {
    const phase = this.o.phase;
    if (phase.kind !== "delay") return;
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(process.hrtime.bigint() + BigInt(Math.round(phase.seconds * 1e9)));
    this.maps.cfg.update(Buffer.alloc(4), v);
  }

  /** Traces, from its first call on, the process whose pid in sysfence's PID namespace is nsPid. */
  want(nsPid: number, state = 3): void {
    const k = Buffer.alloc(4);
    k.writeUInt32LE(nsPid);
    const v = Buffer.alloc(4);
    v.writeUInt32LE(state);
    this.maps.want.update(k, v);
  }

  /**
   * Fills the syscall table, loads the programs and attaches them; from now on every call is counted. The
   * path program's verification (the longest step) runs on another thread while this one makes the count
   * maps and loads the other programs; nothing is attached before every program is in.
   */
  async attach(arch: ArchName = nativeArch()): Promise<void> {
    const layout = kernelLayout(arch);
    const first =
      layout.sysExitBtf >= 0 ? this.pathProgram(layout.paths, arch, layout.sysExitBtf) : undefined;
    let loaded: [string, number][];
    try {
      this.countMaps();
      loaded = this.loadPrograms(layout);
    } catch (e) {
      await first?.loaded; // (so that close() frees it too)
      throw e;
    }
    const exit = await loadSysExit(this.fds, layout, first, (id) => this.pathProgram(layout.paths, arch, id));
    this.progs.push(exit.fd);
    const table = argsTable(arch, layout.args, this.o.phase);
    this.wholePaths = exit.pathProgs !== undefined;
    if (exit.pathProgs !== undefined) markPathCalls(table, arch);
    this.maps.args.updateBatch(arrayKeys(SYSCALLS), table); // (every entry in one call)
    this.ring = new RingBufferReader(this.maps.rb.fd, RING_BYTES);
    // (sys_exit is attached before sys_enter: a call counted at entry has its exit seen)
    for (const [tp, fd] of loaded) {
      if (tp === "sys_enter")
        this.links.push(
          exit.tpBtf ? attachTpBtf(exit.fd, "sys_exit") : attachRawTracepoint(exit.fd, "sys_exit"),
        );
      this.links.push(attachRawTracepoint(fd, tp));
    }
  }

  /** Loads the programs of the process tracepoints and sys_enter (not attached): [tracepoint, fd]. */
  private loadPrograms(layout: CachedLayout): [string, number][] {
    const m = this.fds;
    let pidns: { dev: bigint; ino: bigint } | undefined;
    if (this.o.namespaced) {
      const s = statSync("/proc/self/ns/pid", { bigint: true });
      pidns = { dev: s.dev, ino: s.ino };
    }
    const phase = this.o.phase;
    const programs: [string, Buffer][] = [
      ["sched_process_fork", processFork(m, layout, this.o.cgroup)],
      ["sched_process_exec", processExec(m, layout, this.o.cgroup)],
      ["sched_process_exit", processExit(m, layout)],
      ["signal_deliver", signalDeliver(m)],
      ["sys_enter", sysEnter(m, { delayed: phase.kind === "delay", pidns })],
    ];
    return programs.map(([tp, code]) => {
      const fd = load(code, `sf_${tp}`.slice(0, 15));
      this.progs.push(fd);
      return [tp, fd];
    });
  }

  /** The events the ring buffer holds now, in the order the kernel made them. */
  poll(cb: (e: KernelEvent) => void): void {
    this.ring?.drain((r) => {
      const f = [4, 8, 12, 16, 20].map((o) =>
        r.length >= o + 4 ? r.readUInt32LE(o) : 0,
      ) as KernelEvent["f"];
      const e: KernelEvent = {
        kind: r.readUInt32LE(0),
        f,
        flags: r.length >= HEADER ? r.readBigUInt64LE(16) : 0n,
      };
      if (e.kind === PATH_EVENT) e.raw = r;
      else if (r.length > HEADER) {
        const end = r.indexOf(0, HEADER);
        e.text = r.toString("utf8", HEADER, end < 0 ? r.length : end);
        e.cut = r.length - HEADER >= PATH_MAX;
      }
      cb(e);
    });
  }

  /** The totals summed over CPUs: calls counted, calls lost (a full map), events lost, paths not read. */
  totals(): { calls: number; lostCalls: number; lostEvents: number; unreadPaths: number } {
    const v = this.maps.tot.lookup(Buffer.alloc(4));
    const at = (i: number) => (v ? Number(sumPerCpuU64(v, 8 * TOTAL_SLOTS, 8 * i)) : 0);
    return { calls: at(0), lostCalls: at(1), lostEvents: at(2), unreadPaths: at(3) };
  }

  /** The counts (by value and without), the errors by (pid, state, tid, syscall), the signals by number. */
  counts(): { counts: KernelCount[]; errors: Map<string, number>; signals: Map<number, number> } {
    const key = (b: Buffer): KernelCount["key"] => {
      const [a, c] = [b.readBigUInt64LE(0), b.readBigUInt64LE(8)];
      return [Number(a >> 32n), Number(a & 0xffffffffn), Number(c >> 32n), Number(c & 0xffffffffn)];
    };
    const counts: KernelCount[] = [];
    for (const [k, value] of this.maps.c.entries())
      counts.push({
        key: key(k),
        values: [k.readBigUInt64LE(16), k.readBigUInt64LE(24), k.readBigUInt64LE(32)],
        count: Number(sumPerCpuU64(value, 8)),
      });
    for (const [k, n] of plainCounts(this.maps.d, this.maps.dc))
      counts.push({ key: key(k), values: [0n, 0n, 0n], count: n });
    const errors = new Map<string, number>();
    for (const [k, value] of this.maps.e.entries())
      errors.set(key(k).join(","), Number(sumPerCpuU64(value, 8)));
    const signals = new Map<number, number>();
    // (in one batched read: an array holds all its keys, 0 … SIGNALS - 1)
    for (const [k, v] of this.maps.sig.entries()) {
      const s = k.readUInt32LE(0);
      const n = Number(sumPerCpuU64(v, 8));
      if (s >= 1 && n) signals.set(s, n);
    }
    return { counts, errors, signals };
  }

  /** The path uses the kernel counted instead of sending (path-programs.ts), by their first event's hash. */
  pathRepeats(): Map<bigint, number> {
    const r = new Map<bigint, number>();
    if (this.seen)
      for (const [k, v] of this.seen.entries()) {
        const n = Number(v.readBigUInt64LE(0));
        if (n) r.set(k.readBigUInt64LE(0), n);
      }
    return r;
  }

  /** Distinct syscall numbers counted so far (the count maps' keys). */
  distinctSyscalls(): number {
    const nrs = new Set<number>();
    for (const m of [this.maps.c, this.maps.d]) for (const [key] of m.entries()) nrs.add(key.readUInt32LE(8));
    return nrs.size;
  }

  /** Detaches the programs (closing their links) and frees the maps. */
  close(): void {
    for (const l of this.links.splice(0)) l.close();
    for (const fd of this.progs.splice(0)) ebpfSys().close(fd);
    this.ring?.close();
    this.ring = undefined;
    for (const m of Object.values(this.maps)) m.close();
    for (const m of this.pathMaps.splice(0)) m.close();
    this.seen = undefined;
  }

  /** Stops counting (links closed) but keeps the maps to read. */
  detach(): void {
    for (const l of this.links.splice(0)) l.close();
  }
}
