// The bpf engine: bpftrace (a subprocess) counts system calls in the kernel, keyed by process, program
// image, thread, syscall, phase and the argument values the generator uses, so a syscall-heavy program pays
// for a map update, not for an event copied to user space. Forks, execs (with the file name) and exits
// stream as events; the counts are read once, at the end. What it cannot see: paths other than executed
// files, socket addresses, clone3's struct.
import { type ChildProcessByStdio, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { constants } from "node:os";
import type { Readable } from "node:stream";
import { SysfenceError } from "../../../errors.js";
import { nativeArch } from "../../../syscalls/arches.js";
import { argWidth } from "../../../syscalls/args.js";
import { syscallName, syscallNumber, syscallTable } from "../../../syscalls/table.js";
import { withParentDeathSignal } from "../../../util/proc-tree.js";
import { type PhaseSpec, ProfileBuilder } from "../../builder.js";
import { refuseMarkerPhase } from "../../engine.js";
import { Ev, EventBatch, StringTable } from "../../events.js";
import { type LaunchTracer, traceLaunch } from "../../launched.js";
import type { RecordOptions } from "../../options.js";
import { INTERESTING_ARGS, type Profile } from "../../profile.js";

/** Distinct (process, image, thread, syscall, phase, values) keys the count map holds (SYSFENCE_BPF_MAP_KEYS). */
export const MAP_KEYS = Number(process.env.SYSFENCE_BPF_MAP_KEYS) || 262_144;
/** bpftrace 0.17's longest string. */
const STRLEN = 200;

let version: string | null | undefined;
/** bpftrace's version, or null when it is not installed. */
export function bpftraceVersion(): string | null {
  if (version === undefined) {
    const r = spawnSync("bpftrace", ["--version"], { encoding: "utf8" });
    version = r.status === 0 ? (/v?([\d.]+)/.exec(r.stdout)?.[1] ?? r.stdout.trim()) : null;
  }
  return version;
}

/** Whether the bpf engine can run here: root and bpftrace. */
export function bpfAvailable(): boolean {
  return process.getuid?.() === 0 && bpftraceVersion() !== null;
}

/**
 * The arguments counted by value: the generator's, except those that are pointers to what the generator
 * reads (clone3's flags live in a struct in memory; its register is an address, never flags).
 */
const VALUE_ARGS = new Map(Object.entries(INTERESTING_ARGS).filter(([name]) => name !== "clone3"));
const valueArgs = () => VALUE_ARGS.entries();

/** Processes already running (record --pid): traced from the start, and all their calls are work. */
export interface BpfSeed {
  tgids: readonly number[];
}

/**
 * The bpftrace program. @st[tgid] is a traced process's state in one word — image << 3 | 4 (the launcher,
 * before its exec: only its main thread is the recording's) | 2 (traced) | 1 (work phase) —
 * so a call costs one lookup to decide whether it is traced and under which image and phase, and one count
 * update: calls with values the generator uses are counted in @c by (process and state, thread and
 * syscall, values), all others in @d by the first two alone (a shorter key to hash). A process's entry
 * lives until its last thread exits (its pid may then be another process's); a thread's own entry (made at
 * its clone, where a thread and a process look alike) is never looked up while it lives and goes with it.
 * An exec by a thread other than the leader takes over the leader's pid (the leader exits first, with the
 * group still alive): the process keeps its entry and the exec is seen under the leader's pid.
 */
export function bpftraceScript(phase: PhaseSpec, arch = nativeArch(), seed?: BpfSeed): string {
  const picks: [number, string][] = [];
  for (const [name, idx] of valueArgs()) {
    const nr = syscallNumber(arch, name);
    if (nr === undefined || idx.length === 0) continue;
    const set = idx
      .slice(0, 3)
      .map((i, k) => `$v${k} = $a${i};`)
      .join(" ");
    picks.push([nr, `$has = 1; ${set}`]);
  }
  picks.sort((a, b) => a[0] - b[0]);
  // the argument registers the picks use, read once each: an access of args->args in every pick made
  // bpftrace's compile of the program take a second longer (the recording's start-up)
  const regs = Math.max(-1, ...[...valueArgs()].flatMap(([, idx]) => idx.slice(0, 3))) + 1;
  const reads = Array.from({ length: regs }, (_, i) => `$a${i} = (uint64)args->args[${i}];`).join(" ");
  const firstNrs =
    phase.kind === "first" ? Object.keys(syscallTable(arch)).filter((n) => matches(phase.syscall, n)) : [];
  const firstCond = firstNrs.map((n) => `$id == ${syscallNumber(arch, n)}`).join(" || ");
  // delay:SECONDS: every process is in the work phase from that long after the first traced call on
  const delay =
    phase.kind === "delay"
      ? `
    if (@t0 == 0) { @t0 = nsecs; }
    if (($s & 1) == 0 && nsecs - @t0 >= ${Math.round(phase.seconds * 1e9)}) { $s = $s | 1; @st[pid] = $s; }`
      : "";
  const begin = seed ? seed.tgids.map((g) => `@st[${g}] = 3;`).join(" ") : "@st[$1] = 6;";
  // the launcher's other threads (Node's) run until its exec ends them: not the program's calls
  const ours = "(($s & 4) == 0 || tid == pid)";
  return `
BEGIN { ${begin} printf("READY\\n"); }
tracepoint:sched:sched_process_fork /@st[pid]/ {
  @st[args->child_pid] = (@st[pid] & 1) | 2;
  printf("F %d %d %d\\n", pid, args->parent_pid, args->child_pid);
}
tracepoint:sched:sched_process_exec /@st[pid]/ {
  if (args->old_pid != pid) { delete(@st[args->old_pid]); }
  $o = @st[pid];
  $s = ((($o >> 3) + 1) << 3) | ($o & 3);
  @st[pid] = $s;
  printf("E %d %d %d %s\\n", pid, tid, $s >> 3, str(args->filename));
}
tracepoint:signal:signal_deliver /@st[pid]/ { $s = @st[pid]; if (${ours}) { @sig[args->sig] = count(); } }
tracepoint:sched:sched_process_exit /@st[pid]/ {
  if (tid != pid) { delete(@st[tid]); }
  if (curtask->signal->live.counter == 0) {
    delete(@st[pid]);
    printf("X %d %d %d\\n", pid, tid, curtask->exit_code);
  }
}
tracepoint:raw_syscalls:sys_enter {
  $s = @st[pid];
  if ($s != 0 && ${ours}) {
    // (ctx fields read once into variables: the kernel's verifier refuses bpftrace's re-derived ctx pointers)
    $id = args->id;${delay}
    ${reads}
    $has = 0; $v0 = (uint64)0; $v1 = (uint64)0; $v2 = (uint64)0;
${pickTree(picks, "    ")}
    $k0 = ((uint64)pid << 32) | (uint64)(uint32)$s;
    $k1 = ((uint64)tid << 32) | (uint64)(uint32)$id;
    if ($has) { @c[$k0, $k1, $v0, $v1, $v2] = count(); } else { @d[$k0, $k1] = count(); }
    @n = count();
  }
}
tracepoint:raw_syscalls:sys_exit {
  $ret = args->ret;
  $id = args->id;
  if ($ret < 0 && $ret >= -4095) {
    $s = @st[pid];
    if ($s != 0 && ${ours}) { @e[((uint64)pid << 32) | (uint64)(uint32)$s, ((uint64)tid << 32) | (uint64)(uint32)$id] = count(); }
  }${
    firstCond
      ? `
  if (${firstCond}) {
    $w = @st[pid];
    if ($w != 0) { @st[pid] = $w | 1; }
  }`
      : ""
  }
}
END { clear(@st);${phase.kind === "delay" ? " clear(@t0);" : ""} }
`;
}

/**
 * The argument picks as a binary search on the syscall number: about six comparisons per call instead of
 * one per syscall with values (35 on x86_64) — on a call-heavy program that chain was a visible part of
 * the engine's per-call cost.
 */
function pickTree(picks: readonly [number, string][], indent: string): string {
  if (picks.length <= 2) return picks.map(([nr, set]) => `${indent}if ($id == ${nr}) { ${set} }\n`).join("");
  const mid = picks.length >> 1;
  const more = `${indent}  `;
  return `${indent}if ($id < ${picks[mid][0]}) {\n${pickTree(picks.slice(0, mid), more)}${indent}} else {\n${pickTree(picks.slice(mid), more)}${indent}}\n`;
}

const matches = (pattern: string, name: string) =>
  pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern;

/** A count key's two words (pid << 32 | state, tid << 32 | syscall) as [pid, state, tid, syscall]. */
function unpack(k0: string, k1: string): [number, number, number, number] {
  const [a, b] = [BigInt(k0), BigInt(k1)];
  return [Number(a >> 32n), Number(a & 0xffffffffn), Number(b >> 32n), Number(b & 0xffffffffn)];
}

/** A line bpftrace streams while tracing: a fork, exec or exit (never a map line, which starts with "@"). */
const EVENT_LINE = /^[FEX] \d/;

/** The bpf adapter: what bpftrace printed, turned into the decoded event model (events.ts) for the builder. */
export class BpfOutput {
  /** exe of (tgid, image); image 0 of a fork is its parent's image at the fork. */
  private readonly exes = new Map<string, string>();
  private readonly current = new Map<number, number>();
  private readonly parents = new Map<number, number>();
  private readonly errors = new Map<string, number>();
  private readonly exits: { pid: number; image: number; code: number }[] = [];
  /** Processes whose exit was streamed; callers waiting for one (exitSeen). */
  private readonly exited = new Set<number>();
  private readonly waiting = new Map<number, () => void>();
  truncatedPaths = 0;
  total = 0;
  counted = 0;
  lostEvents = 0;

  constructor(
    private readonly builder: ProfileBuilder,
    private readonly arch = nativeArch(),
  ) {}

  /** A process known before tracing began: its first image's exe (and parent). */
  seed(pid: number, exe: string, parent?: number): void {
    this.exes.set(`${pid}:0`, exe);
    this.current.set(pid, 0);
    if (parent !== undefined) this.parents.set(pid, parent);
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

  /** A streamed line: F(ork), E(xec), X(exit), or Lost N events. */
  event(line: string): void {
    const lost = /Lost (\d+) events/.exec(line);
    if (lost) {
      this.lostEvents += Number(lost[1]);
      return;
    }
    const f = /^F (\d+) (\d+) (\d+)$/.exec(line);
    if (f) {
      const [parentTgid, child] = [Number(f[1]), Number(f[3])];
      if (child === parentTgid) return;
      const img = this.current.get(parentTgid) ?? 0;
      this.exes.set(`${child}:0`, this.exes.get(`${parentTgid}:${img}`) ?? "?");
      this.current.set(child, 0);
      this.parents.set(child, parentTgid);
      return;
    }
    // the process's last thread exited (whichever it was: the leader may have gone first)
    const x = /^X (\d+) (\d+) (-?\d+)$/.exec(line);
    if (x) {
      const [tgid, code] = [Number(x[1]), Number(x[3])];
      this.exits.push({ pid: tgid, image: this.current.get(tgid) ?? 0, code });
      this.exited.add(tgid);
      this.waiting.get(tgid)?.();
      return;
    }
    const e = /^E (\d+) (\d+) (\d+) (.*)$/.exec(line);
    if (e) {
      const [tgid, img, path] = [Number(e[1]), Number(e[3]), e[4]];
      if (path.length >= STRLEN - 1) this.truncatedPaths++;
      this.exes.set(`${tgid}:${img}`, path);
      this.current.set(tgid, img);
      const i = this.out.push(Ev.paths, -1, -1);
      this.out.columns.path[i] = this.strings.id(path);
    }
  }

  /**
   * The maps printed at the end: @c[k0, k1, v0, v1, v2]: n and @d[k0, k1]: n (k0 = pid << 32 | state,
   * k1 = tid << 32 | syscall), @e[k0, k1]: n, @sig[signal]: n, @n: n.
   */
  maps(text: string): void {
    for (const m of text.matchAll(/^@e\[(\d+), (\d+)\]: (\d+)$/gm))
      this.errors.set(unpack(m[1], m[2]).join(","), Number(m[3]));
    for (const m of text.matchAll(/^@sig\[(\d+)\]: (\d+)$/gm)) {
      const name = Object.entries(constants.signals).find(([, v]) => v === Number(m[1]))?.[0] ?? `SIG${m[1]}`;
      const i = this.out.push(Ev.signal, -1, -1);
      this.out.columns.text[i] = this.strings.id(name);
      this.out.columns.n[i] = Number(m[2]);
    }
    const n = /^@n: (\d+)$/m.exec(text);
    this.total = n ? Number(n[1]) : 0;
    // in (process, image) order, as the other engines meet them; errors are per (thread, syscall): they
    // are shared out over that key's value entries (a profile counts errors per syscall, not per value)
    const entries = [
      ...[...text.matchAll(/^@c\[(\d+), (\d+), (\d+), (\d+), (\d+)\]: (\d+)$/gm)].map((m) => ({
        key: unpack(m[1], m[2]),
        values: [m[3], m[4], m[5]],
        count: Number(m[6]),
      })),
      ...[...text.matchAll(/^@d\[(\d+), (\d+)\]: (\d+)$/gm)].map((m) => ({
        key: unpack(m[1], m[2]),
        values: ["0", "0", "0"],
        count: Number(m[3]),
      })),
    ].sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2]);
    for (const { key, values, count } of entries) {
      const [pid, st, tid, nr] = key;
      const [image_, work] = [st >> 3, st & 1];
      this.counted += count;
      const name = syscallName(this.arch, nr) ?? `syscall_${nr}`;
      // errors are keyed without values: give them to the first entry of their key
      const ekey = [pid, st, tid, nr].join(",");
      const errorsLeft = this.errors.get(ekey) ?? 0;
      const errors = Math.min(errorsLeft, count);
      this.errors.set(ekey, errorsLeft - errors);
      const image = this.imageId(pid, image_);
      const i = this.out.push(work === 1 ? Ev.countedWork : Ev.counted, tid, this.strings.id(name));
      const c = this.out.columns;
      c.aux[i] = image;
      c.n[i] = count;
      c.errors[i] = errors;
      const cols = [c.v0, c.v1, c.v2];
      (VALUE_ARGS.get(name) ?? []).slice(0, 3).forEach((a, k) => {
        let v = BigInt(values[k]);
        const w = argWidth(name, a, this.arch).bits;
        if (w < 64) v &= (1n << BigInt(w)) - 1n;
        cols[k][i] = this.strings.id(v.toString());
      });
    }
    for (const x of this.exits) {
      const image = this.imageIds.get(`${x.pid}:${x.image}`);
      if (image === undefined) continue; // an image without a counted call is not in the profile
      const sig = x.code & 0x7f;
      const name = sig ? Object.entries(constants.signals).find(([, v]) => v === sig)?.[0] : undefined;
      const i = this.out.push(Ev.exit, -1, -1);
      const c = this.out.columns;
      c.aux[i] = image;
      c.n[i] = sig ? -1 : (x.code >> 8) & 0xff;
      if (name) c.text[i] = this.strings.id(name);
    }
    this.builder.addBatch(this.out.columns, this.strings.list);
    this.out.clear();
  }

  /** The id of process pid's image-th program image, declared (an image event) the first time. */
  private imageId(pid: number, image: number): number {
    const key = `${pid}:${image}`;
    let id = this.imageIds.get(key);
    if (id === undefined) {
      id = this.imageIds.size;
      this.imageIds.set(key, id);
      const i = this.out.push(Ev.image, pid, -1);
      const c = this.out.columns;
      c.n[i] = id;
      c.text[i] = this.strings.id(this.exes.get(key) ?? "?");
      c.aux[i] = this.parents.get(pid) ?? -1;
    }
    return id;
  }
  private readonly imageIds = new Map<string, number>();
  private readonly strings = new StringTable();
  private readonly out = new EventBatch(1024);
}

/** Runs argv with bpftrace counting its calls (and its descendants'); builds the profile at the end. */
export async function recordBpf(
  argv: string[],
  options: RecordOptions = {},
): Promise<{ profile: Profile; status: number; builder: ProfileBuilder }> {
  const phase = options.phase ?? { kind: "none" };
  refuseMarkerPhase(phase, "bpf");
  const bpftrace = bpftraceVersion();
  if (bpftrace === null)
    throw new SysfenceError(
      "E_COMMAND_NOT_FOUND",
      "--engine bpf needs bpftrace (Debian/Ubuntu: apt-get install bpftrace) and root; or use --engine ftrace or strace.",
    );
  const builder = new ProfileBuilder(argv, phase, options.focus);
  // the launch image (before the program's exec) is named as the command, as the other engines name it
  return traceLaunch(argv, options, builder, new BpftraceTracer(builder, phase, argv[0], bpftrace));
}

/** bpftrace as a launch tracer: started on the stopped program's pid, asked for its maps at the end. */
class BpftraceTracer implements LaunchTracer {
  private tracer?: ChildProcessByStdio<null, Readable, Readable>;
  private exited?: Promise<number | null>;
  private out?: BpfOutput;
  private stdout = "";
  private stderr = "";
  private rest = "";

  constructor(
    private readonly builder: ProfileBuilder,
    private readonly phase: PhaseSpec,
    private readonly command: string,
    private readonly version: string,
    /** Running processes to trace instead of one launched pid (record --pid). */
    private readonly running?: readonly {
      pid: number;
      exe: string;
      tids: readonly number[];
      parent?: number;
    }[],
  ) {}

  private pid?: number;

  async attach(pid: number): Promise<void> {
    this.pid = pid;
    const out = new BpfOutput(this.builder);
    this.out = out;
    if (this.running) for (const p of this.running) out.seed(p.pid, p.exe, p.parent);
    else out.seed(pid, this.command);
    const seed = this.running ? { tgids: this.running.map((p) => p.pid) } : undefined;
    // bpftrace dies with sysfence (its probes go with it); SIGINT makes it print the maps and exit
    const args = ["-B", "line", "-e", bpftraceScript(this.phase, nativeArch(), seed), String(pid)];
    const [cmd, cmdArgs] = withParentDeathSignal("bpftrace", args, "INT");
    const tracer = spawn(cmd, cmdArgs, {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        BPFTRACE_MAP_KEYS_MAX: String(MAP_KEYS),
        BPFTRACE_STRLEN: String(STRLEN),
        BPFTRACE_PERF_RB_PAGES: "256",
      },
    });
    this.tracer = tracer;
    let ready!: () => void;
    const isReady = new Promise<void>((r) => {
      ready = r;
    });
    let atEnd = false;
    tracer.stdout.setEncoding("utf8").on("data", (d: string) => {
      if (atEnd) {
        this.stdout += d;
        return;
      }
      const lines = (this.rest + d).split("\n");
      this.rest = lines.pop() ?? "";
      for (const l of lines) {
        if (l === "READY") ready();
        else if (l.startsWith("@")) {
          atEnd = true;
          this.stdout += `${l}\n`;
        } else if (atEnd && !EVENT_LINE.test(l)) this.stdout += `${l}\n`;
        // (an event bpftrace drains from its ring buffer while it prints the maps is still an event)
        else out.event(l);
      }
      // once the maps are printing, the unfinished line is theirs: the next chunk continues it
      if (atEnd && !EVENT_LINE.test(this.rest)) {
        this.stdout += this.rest;
        this.rest = "";
      }
    });
    tracer.stderr.setEncoding("utf8").on("data", (d: string) => {
      this.stderr += d;
      for (const l of d.split("\n")) if (/Lost \d+ events/.test(l)) out.event(l);
    });
    this.exited = new Promise<number | null>((r) => tracer.once("exit", (code) => r(code)));
    await Promise.race([
      isReady,
      this.exited.then((code) => {
        throw new SysfenceError(
          "E_IO",
          `bpftrace exited (${code}) before it was attached: ${this.stderr.trim().slice(0, 500)}`,
        );
      }),
    ]);
  }

  async detach(): Promise<Profile["engine"]> {
    const tracer = this.tracer as NonNullable<typeof this.tracer>;
    const out = this.out as BpfOutput;
    // the launched program has exited (its parent saw it): its exit event is in bpftrace's ring buffer, and
    // is read before bpftrace is stopped (at most a second)
    if (!this.running && this.pid !== undefined) await out.exitSeen(this.pid, 1000);
    // SIGINT makes bpftrace print its maps and exit; one that lands just before it blocks in epoll_wait is
    // only seen at the next wake-up, so it is repeated until bpftrace is gone
    tracer.kill("SIGINT");
    const nudge = setInterval(() => tracer.kill("SIGINT"), 500);
    await this.exited?.finally(() => clearInterval(nudge));
    if (this.rest) out.event(this.rest);
    // a diagnostic copy of what bpftrace printed at the end (its maps)
    if (process.env.SYSFENCE_BPF_DUMP) writeFileSync(process.env.SYSFENCE_BPF_DUMP, this.stdout);
    out.maps(this.stdout);
    if (out.truncatedPaths)
      process.stderr.write(
        `sysfence record: ${out.truncatedPaths} executed file name(s) longer than ${STRLEN - 1} bytes were cut (bpftrace's limit)\n`,
      );
    const overflow = Math.max(0, out.total - out.counted);
    const lost = overflow + out.lostEvents;
    const why = [
      overflow ? `${overflow} calls past the count map's ${MAP_KEYS} keys` : "",
      out.lostEvents ? `${out.lostEvents} fork/exec/exit events` : "",
    ]
      .filter(Boolean)
      .join(", ");
    return {
      name: "bpf",
      version: `bpftrace ${this.version}`,
      ...(lost ? { lostEvents: lost, lost: `bpftrace dropped ${why}` } : {}),
    };
  }

  close(): void {
    this.tracer?.kill("SIGKILL");
  }
}

/**
 * Counts running processes (and every task they start) in the kernel until `until` resolves; they are never
 * stopped or signalled. Every call is work (the processes' start-up is over).
 */
export async function attachBpf(
  builder: ProfileBuilder,
  running: readonly { pid: number; exe: string; tids: readonly number[]; parent?: number }[],
  until: Promise<unknown>,
): Promise<Profile["engine"]> {
  const version = bpftraceVersion();
  if (version === null)
    throw new SysfenceError(
      "E_COMMAND_NOT_FOUND",
      "--engine bpf needs bpftrace (apt-get install bpftrace) and root.",
    );
  const tracer = new BpftraceTracer(builder, { kind: "none" }, running[0]?.exe ?? "?", version, running);
  try {
    await tracer.attach(running[0]?.pid ?? 0);
    await until;
    return await tracer.detach();
  } finally {
    tracer.close();
  }
}
