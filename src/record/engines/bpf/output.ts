// The bpf adapter: what bpftrace printed (streamed fork/exec/exit lines, the maps at the end), turned into
// the decoded event model (events.ts) for the builder.
import { nativeArch } from "../../../syscalls/arches.js";
import { argWidth } from "../../../syscalls/args.js";
import { signalName } from "../../../syscalls/constants.js";
import { syscallName } from "../../../syscalls/table.js";
import type { ProfileBuilder } from "../../builder.js";
import { Ev, EventBatch, StringTable } from "../../events.js";
import { type ImageCount, pushImage } from "../../image-rows.js";
import { Access } from "../../path-access.js";
import { VALUE_ARGS } from "./script.js";

/** bpftrace 0.17's longest string. */
export const STRLEN = 200;

/** One count: (pid, state, tid, syscall), its values (v0..v2), the number of calls. */
export interface CountEntry {
  key: [number, number, number, number];
  values: [bigint, bigint, bigint];
  count: number;
}

/** A count key's two words (pid << 32 | state, tid << 32 | syscall) as [pid, state, tid, syscall]. */
function unpack(k0: string, k1: string): [number, number, number, number] {
  const [a, b] = [BigInt(k0), BigInt(k1)];
  return [Number(a >> 32n), Number(a & 0xffffffffn), Number(b >> 32n), Number(b & 0xffffffffn)];
}

/**
 * A line bpftrace streams while tracing: a fork, exec, exit or a namespaced seed's pid (never a map line,
 * which starts with "@").
 */
export const EVENT_LINE = /^[FEXS] \d/;

/** The bpf adapter: what bpftrace printed, turned into the decoded event model (events.ts) for the builder. */
export class BpfOutput {
  /** exe of (tgid, image number); a fork's first image runs its parent's current one. */
  private readonly exes = new Map<string, string>();
  /** Each process's current image number. */
  private readonly current = new Map<number, number>();
  private readonly parents = new Map<number, number>();
  private readonly errors = new Map<string, number>();
  private readonly exits: { pid: number; image: number; code: number }[] = [];
  /** Processes whose exit was streamed; callers waiting for one (exitSeen). */
  private readonly exited = new Set<number>();
  private readonly waiting = new Map<number, () => void>();
  truncatedPaths = 0;
  /** Whether the maps held @n, the total of counted calls (bpftrace prints it with the other maps). */
  totalSeen = false;
  /**
   * Images numbered like an earlier one of the same pid (the image map was full when the pid came back):
   * their counts are merged with that image's in the kernel.
   */
  repeatedImages = 0;
  /**
   * Images running a 32-bit (compat: ia32 on x86_64) program: their syscall numbers are another table's,
   * so their counts are left out (compatCalls) and the profile is incomplete.
   */
  private readonly compat = new Set<string>();
  compatCalls = 0;
  get compatImages(): number {
    return this.compat.size;
  }
  total = 0;
  counted = 0;
  lostEvents = 0;

  constructor(
    private readonly builder: ProfileBuilder,
    private readonly arch = nativeArch(),
  ) {}

  /** A process known before tracing began: its first image's exe (and parent). */
  seed(pid: number, exe: string, parent?: number): void {
    if (this.exes.has(`${pid}:0`)) this.repeatedImages++; // (record --cgroup v1: a reused pid seeded again)
    this.exes.set(`${pid}:0`, exe);
    this.current.set(pid, 0);
    if (parent !== undefined) this.parents.set(pid, parent);
  }

  /** An untraced process's program (record --cgroup: a parent that joined without an exec names its child's). */
  name(pid: number, exe: string): void {
    this.exes.set(`${pid}:0`, exe);
    this.current.set(pid, 0);
  }

  /**
   * A process known before tracing began by its pid in sysfence's PID namespace, not the initial one the
   * kernel's tracepoints count in: seeded under its initial-namespace pid when bpftrace maps it ("S" line).
   */
  expect(nsPid: number, exe: string, parent?: number): void {
    this.expected.set(nsPid, { exe, parent });
  }
  private readonly expected = new Map<number, { exe: string; parent?: number }>();
  /** Namespaced seeds mapped so far: pid in sysfence's namespace → pid in the initial one. */
  readonly mapped = new Map<number, number>();

  /**
   * Whether process pid is known (seeded, forked or exec'd while traced, and its exit not seen); `nsPid`:
   * pid is in sysfence's PID namespace (an expected seed).
   */
  knows(pid: number, nsPid = false): boolean {
    return nsPid ? this.expected.has(pid) : this.current.has(pid) && !this.exited.has(pid);
  }

  /** Resolves once process pid's exit has been streamed, or after ms (an event lost is counted as lost). */
  exitSeen(pid: number, ms: number): Promise<void> {
    if (this.exited.has(pid)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(pid);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiting.set(pid, done);
    });
  }

  /** A streamed line: F(ork), E(xec), X(exit), S(eed), or Lost N events. */
  event(line: string): void {
    const lost = /Lost (\d+) events/.exec(line);
    if (lost) {
      this.lostEvents += Number(lost[1]);
      return;
    }
    const seeded = /^S (\d+) (\d+)$/.exec(line);
    if (seeded) {
      this.seeded(Number(seeded[1]), Number(seeded[2]));
      return;
    }
    const f = /^F (\d+) (\d+) (\d+) (\d+)(?: (\d+))?$/.exec(line);
    if (f) {
      this.fork(Number(f[1]), Number(f[3]), Number(f[4]), f[5] === undefined ? undefined : Number(f[5]));
      return;
    }
    const x = /^X (\d+) (\d+) (-?\d+)(?: (\d+))?$/.exec(line);
    if (x) {
      this.exit(Number(x[1]), Number(x[3]), x[4] === undefined ? undefined : Number(x[4]));
      return;
    }
    const e = /^E (\d+) (\d+) (\d+) (.*)$/.exec(line);
    if (e) this.exec(Number(e[1]), Number(e[3]), e[4], e[4].length >= STRLEN - 1);
  }

  /** A namespaced seed (expect) traced under its pid in the initial namespace. */
  seeded(nsPid: number, pid: number): void {
    const known = this.expected.get(nsPid);
    if (!known || this.mapped.has(nsPid)) return; // (two threads may map it at once)
    this.mapped.set(nsPid, pid);
    this.exes.set(`${pid}:0`, known.exe);
    if (!this.current.has(pid)) this.current.set(pid, 0);
    // parents by their initial-namespace pids, as far as they are mapped (the recorded root's is outside)
    const parent = known.parent === undefined ? undefined : this.mapped.get(known.parent);
    if (parent !== undefined) this.parents.set(pid, parent);
    for (const [child, c] of this.expected)
      if (c.parent === nsPid && this.mapped.has(child))
        this.parents.set(this.mapped.get(child) as number, pid);
  }

  /**
   * Process parentTgid (running its image parentImage) forked child, whose first image is number img
   * (each event names the images it is about: a reused pid's fork may come before its previous process's exit).
   */
  fork(parentTgid: number, child: number, img: number, parentImage?: number): void {
    if (child === parentTgid) return;
    const pimg = parentImage ?? this.current.get(parentTgid) ?? 0;
    // the child's first image (its number: its pid's forks and execs so far) runs its parent's program
    this.enterImage(child, img, this.exes.get(`${parentTgid}:${pimg}`) ?? "?");
    if (this.compat.has(`${parentTgid}:${pimg}`)) this.compat.add(`${child}:${img}`);
    this.parents.set(child, parentTgid);
  }

  /** The process's last thread exited (whichever it was: the leader may have gone first), with wait status code. */
  exit(tgid: number, code: number, image?: number): void {
    this.exits.push({ pid: tgid, image: image ?? this.current.get(tgid) ?? 0, code });
    this.exited.add(tgid);
    this.waiting.get(tgid)?.();
  }

  /**
   * Process tgid exec'd path: its image number img (compat: a 32-bit program on a 64-bit kernel). `used`:
   * the file as sysfence names it, when a chroot made the process name it otherwise (path: as it named it).
   */
  exec(tgid: number, img: number, path: string, cut = false, compat = false, used = path): void {
    if (cut) this.truncatedPaths++;
    if (compat) this.compat.add(`${tgid}:${img}`);
    this.enterImage(tgid, img, path);
    this.usePath(used, Access.exec, 1);
  }

  /** n uses of a path (by no thread in particular), with access bits. */
  usePath(path: string, access: number, n: number): void {
    const i = this.out.push(Ev.paths, -1, -1);
    this.out.columns.path[i] = this.strings.id(path);
    this.out.columns.access[i] = access;
    this.out.columns.n[i] = n;
  }

  /** Process pid now runs image number img, of file exe (a number it had before is counted: repeatedImages). */
  private enterImage(pid: number, img: number, exe: string): void {
    const key = `${pid}:${img}`;
    if (this.exes.has(key)) this.repeatedImages++;
    this.exes.set(key, exe);
    this.current.set(pid, img);
  }

  /**
   * The maps printed at the end: @c[k0, k1, v0, v1, v2]: n and @d[k0, k1]: n (k0 = pid << 32 | state,
   * k1 = tid << 32 | syscall), @e[k0, k1]: n, @sig[signal]: n, @n: n.
   */
  maps(text: string): void {
    const errors = new Map<string, number>();
    for (const m of text.matchAll(/^@e\[(\d+), (\d+)\]: (\d+)$/gm))
      errors.set(unpack(m[1], m[2]).join(","), Number(m[3]));
    const signals = new Map<number, number>();
    for (const m of text.matchAll(/^@sig\[(\d+)\]: (\d+)$/gm)) signals.set(Number(m[1]), Number(m[2]));
    const n = /^@n: (\d+)$/m.exec(text);
    this.total = n ? Number(n[1]) : 0;
    this.totalSeen = n !== null;
    const counts: CountEntry[] = [
      ...[...text.matchAll(/^@c\[(\d+), (\d+), (\d+), (\d+), (\d+)\]: (\d+)$/gm)].map((m) => ({
        key: unpack(m[1], m[2]),
        values: [BigInt(m[3]), BigInt(m[4]), BigInt(m[5])] as CountEntry["values"],
        count: Number(m[6]),
      })),
      ...[...text.matchAll(/^@d\[(\d+), (\d+)\]: (\d+)$/gm)].map((m) => ({
        key: unpack(m[1], m[2]),
        values: [0n, 0n, 0n] as CountEntry["values"],
        count: Number(m[3]),
      })),
    ];
    this.counts(counts, errors, signals);
  }

  /**
   * The counts read at the end: by (pid, state, tid, syscall) and values; errors by (pid, state, tid,
   * syscall) ("p,s,t,n"); signal deliveries by number. Hands every row to the builder.
   */
  counts(counts: CountEntry[], errors: Map<string, number>, signals: Map<number, number>): void {
    for (const e of errors) this.errors.set(e[0], e[1]);
    for (const [sig, n] of signals) {
      const name = signalName(sig) ?? `SIG${sig}`;
      const i = this.out.push(Ev.signal, -1, -1);
      this.out.columns.text[i] = this.strings.id(name);
      this.out.columns.n[i] = n;
    }
    // in (process, image) order, as the other engines meet them; errors are per (thread, syscall): they
    // are shared out over that key's value entries (a profile counts errors per syscall, not per value)
    const entries = [...counts].sort(
      (a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2],
    );
    const images = new Map<string, { pid: number; counts: ImageCount[] }>();
    for (const { key, values, count } of entries) {
      const [pid, st, tid, nr] = key;
      const [image, work] = [st >> 3, st & 1];
      this.counted += count;
      if (this.compat.has(`${pid}:${image}`)) {
        this.compatCalls += count;
        continue;
      }
      const name = syscallName(this.arch, nr) ?? `syscall_${nr}`;
      // errors are keyed without values: give them to the first entry of their key
      const ekey = [pid, st, tid, nr].join(",");
      const errorsLeft = this.errors.get(ekey) ?? 0;
      const errors = Math.min(errorsLeft, count);
      this.errors.set(ekey, errorsLeft - errors);
      const vals = (VALUE_ARGS.get(name) ?? []).slice(0, 3).map((a, k) => {
        let v = values[k];
        const w = argWidth(name, a, this.arch).bits;
        if (w < 64) v &= (1n << BigInt(w)) - 1n;
        return v.toString();
      });
      const ikey = `${pid}:${image}`;
      let img = images.get(ikey);
      if (!img) {
        img = { pid, counts: [] };
        images.set(ikey, img);
      }
      img.counts.push({ tid, name, values: vals, n: count, errors, work: work === 1 });
    }
    // each image ends as its last exit said (an image without a counted call is not in the profile)
    const ends = new Map<string, { exitStatus?: number; killedBy?: string }>();
    for (const x of this.exits) {
      const sig = x.code & 0x7f;
      ends.set(`${x.pid}:${x.image}`, {
        exitStatus: sig ? undefined : (x.code >> 8) & 0xff,
        killedBy: sig ? signalName(sig) : undefined,
      });
    }
    for (const [key, { pid, counts }] of images) {
      const image = { pid, exe: this.exes.get(key) ?? "?", parent: this.parents.get(pid), ...ends.get(key) };
      pushImage(this.out, this.strings, image, counts);
    }
    this.builder.addBatch(this.out.columns, this.strings.list);
    this.out.clear();
  }

  private readonly strings = new StringTable();
  private readonly out = new EventBatch(1024);
}
