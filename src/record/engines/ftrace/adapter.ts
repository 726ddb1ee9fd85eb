// The ftrace adapter: tracepoint lines (raw_syscalls, sched_process_*) in, the decoded event model
// (events.ts) out, fed to the builder. ftrace.ts runs the tracing instance that produces the lines.
import { nativeArch } from "../../../syscalls/arches.js";
import { argCount } from "../../../syscalls/args.js";
import { errnoName, signalName } from "../../../syscalls/constants.js";
import { syscallName, syscallNumber } from "../../../syscalls/table.js";
import type { ProfileBuilder } from "../../builder.js";
import { Ev, EventBatch, Result, StringTable } from "../../events.js";
import { Access } from "../../path-access.js";
import { INTERESTING_ARGS, MAX_VALUES, VALUES_OMITTED } from "../../profile.js";

const CLONE_THREAD = 0x10000n;

// "comm-TID (TGID) [CPU] flags TIME: event: body" (options/record-tgid adds the thread group id)
const LINE = /^\s*(.*?)-(\d+)\s+\(\s*(\d+|-+)\)\s+\[\d+\]\s+\S+\s+(\d+\.\d+): (\w+): (.*)$/;

/** The ftrace adapter: tracepoint lines in, the decoded event model (events.ts) out, fed to the builder. */
export class FtraceAdapter {
  /** Each thread's call in progress: its number, argument registers, and (an exec) the new file's name. */
  private readonly pending = new Map<number, { nr: number; regs: string[]; exe?: string }>();
  private readonly seen = new Set<number>();
  /** The status each process's exit_group asked for (by tgid), until a new process takes the pid. */
  private readonly exitStatus = new Map<number, number>();
  private readonly exitGroupNr: number;
  /** Threads that ended while their process went on (tid → tgid): their exits wait for the process's. */
  private readonly exitedThreads = new Map<number, number>();
  private readonly exitedOf = new Map<number, Set<number>>();
  private readonly strings = new StringTable();
  private readonly out = new EventBatch(4096);
  /** Register text (hex) → the string id of its decimal value. */
  private readonly regIds = new Map<string, number>();
  private readonly sysIds = new Map<number, number>();
  lost = 0;
  constructor(
    private readonly builder: ProfileBuilder,
    private readonly endMark: { pid: number; text: string },
    private readonly arch = nativeArch(),
  ) {
    this.exitGroupNr = syscallNumber(arch, "exit_group") ?? -1;
  }

  /**
   * Reads one line; returns true when it was sysfence's end marker: a trace_marker write of this
   * session's mark by sysfence's own process (a traced program can write the same text, or exec a file
   * named like it; neither ends the recording).
   */
  line(text: string): boolean {
    const m = LINE.exec(text);
    if (!m) return false;
    const tid = Number(m[2]);
    const tgid = Number(m[3]);
    const time = Number(m[4]);
    const kind = m[5];
    const body = m[6];
    // (sysfence's main thread writes it: its tid is its pid; the tgid column is unknown for untraced tasks)
    if (kind === "tracing_mark_write") return tid === this.endMark.pid && body.trim() === this.endMark.text;
    if (kind === "sched_process_exit") {
      this.threadExit(tid, tgid, time, body);
      return false;
    }
    if (!this.seen.has(tid)) this.firstSeen(tid, tgid, time);
    if (kind === "sys_enter") this.sysEnter(tid, tgid, time, body);
    else if (kind === "sys_exit") this.sysExit(tid, time, body);
    else if (kind === "sched_process_exec") this.processExec(body);
    else if (kind === "signal_deliver") this.signalDelivered(tid, time, body);
    return false;
  }

  /** sched_process_exit: a traced thread ended (its tid may come back as another task's). */
  private threadExit(tid: number, tgid: number, time: number, body: string): void {
    if (!this.seen.delete(tid)) return;
    this.pending.delete(tid);
    // while its process lives (a leader may end first, before a thread it made was ever seen), the exit
    // waits for the group's end, so the process is not taken as over; kernels that do not say whether
    // the group is dead give each exit at once
    if (/group_dead=false/.test(body)) {
      this.exitedThreads.set(tid, tgid);
      const group = this.exitedOf.get(tgid) ?? new Set<number>();
      this.exitedOf.set(tgid, group.add(tid));
      return;
    }
    for (const t of this.exitedOf.get(tgid) ?? []) {
      this.exitedThreads.delete(t);
      this.exit(t, tgid, time);
    }
    this.exitedOf.delete(tgid);
    this.exit(tid, tgid, time);
  }

  /**
   * A tid's first event: a thread the kernel made (clone3's CLONE_THREAD is in memory, out of our sight)
   * joins its group, as the tgid column says.
   */
  private firstSeen(tid: number, tgid: number, time: number): void {
    this.seen.add(tid);
    // a tid that ended in a process still running has come back as another task's: the old one is over
    const was = this.exitedThreads.get(tid);
    if (was !== undefined) {
      this.exitedThreads.delete(tid);
      this.exitedOf.get(was)?.delete(tid);
      this.exit(tid, was, time);
    }
    // a new process (or a pid come back): no exit status yet
    if (tgid === tid) this.exitStatus.delete(tid);
    if (tgid && tgid !== tid) {
      const i = this.out.push(Ev.thread, tid, -1);
      this.out.columns.n[i] = tgid;
    }
  }

  /** raw_syscalls/sys_enter: a call begins (an exec's row waits for its end and file name). */
  private sysEnter(tid: number, tgid: number, time: number, body: string): void {
    const e = /^NR (-?\d+) \(([^)]*)\)/.exec(body);
    if (!e) return;
    const nr = Number(e[1]);
    if (nr < 0) return;
    const regs = e[2].split(",").map((r) => r.trim());
    if (nr === this.exitGroupNr && /^[0-9a-f]+$/i.test(regs[0] ?? ""))
      this.exitStatus.set(tgid, Number(BigInt(`0x${regs[0]}`) & 0xffn));
    if (this.isExec(nr)) {
      // a row at exit, with the file name sched_process_exec reports in between
      this.pending.set(tid, { nr, regs });
      return;
    }
    const i = this.out.push(Ev.unfinished, tid, this.sysId(nr));
    this.out.columns.time[i] = time;
    this.values(i, this.nameOf(nr), regs);
    this.pending.set(tid, { nr, regs });
  }

  /** raw_syscalls/sys_exit: the thread's call ended (an exec's whole row, with its file). */
  private sysExit(tid: number, time: number, body: string): void {
    const e = /^NR (-?\d+) = (-?\d+)/.exec(body);
    if (!e) return;
    const p = this.pending.get(tid);
    if (!p || p.nr !== Number(e[1])) return; // the exit of a call made before tracing started
    this.pending.delete(tid);
    const ret = Number(e[2]);
    const err = ret < 0 && ret >= -4095 ? errnoName(-ret) : undefined;
    const exec = this.isExec(p.nr);
    const i = this.out.push(exec ? Ev.call : Ev.resume, tid, this.sysId(p.nr));
    this.out.columns.time[i] = time;
    this.out.columns.result[i] = err ? Result.failed : Result.ok;
    if (err) this.out.columns.errno[i] = this.strings.id(err);
    if (exec) {
      this.values(i, this.nameOf(p.nr), p.regs);
      if (p.exe !== undefined) {
        this.out.columns.text[i] = this.out.columns.path[i] = this.strings.id(p.exe);
        this.out.columns.access[i] = Access.exec;
      }
    }
  }

  /** sched_process_exec: the file an exec in progress runs; a non-leader thread takes over the leader's pid. */
  private processExec(body: string): void {
    const e = /filename=(.*) pid=(\d+) old_pid=(\d+)/.exec(body);
    const p = e ? this.pending.get(Number(e[3])) : undefined;
    if (!e || !p) return;
    p.exe = e[1];
    if (e[2] !== e[3]) {
      this.pending.delete(Number(e[3]));
      this.pending.set(Number(e[2]), p);
    }
  }

  /** signal_deliver: a signal delivered to the thread. */
  private signalDelivered(tid: number, time: number, body: string): void {
    const e = /sig=(\d+)/.exec(body);
    if (!e) return;
    const name = signalName(Number(e[1])) ?? `SIG${e[1]}`;
    const i = this.out.push(Ev.signal, tid, -1);
    this.out.columns.text[i] = this.strings.id(name);
    this.out.columns.time[i] = time;
  }

  /** Thread tid of process tgid ended: with the status its process's exit_group asked for, if any. */
  private exit(tid: number, tgid: number, time: number): void {
    const i = this.out.push(Ev.exit, tid, -1);
    this.out.columns.time[i] = time;
    // (a process killed by a signal has no status a tracepoint shows)
    this.out.columns.n[i] = this.exitStatus.get(tgid) ?? -1;
  }

  /** Feeds the events read so far to the builder. */
  flush(): void {
    if (this.out.length === 0) return;
    this.builder.addBatch(this.out.columns, this.strings.list);
    this.out.clear();
  }

  /** The values of the registers worth filtering, in row i (clone3's flags are in memory: none). */
  private values(i: number, name: string, regs: string[]): void {
    const idx = INTERESTING_ARGS[name];
    if (!idx || name === "clone3") return;
    // only the registers the call takes (vfork's are leftovers and would look like clone flags)
    const count = argCount(name) ?? 6;
    const cols = [this.out.columns.v0, this.out.columns.v1, this.out.columns.v2];
    for (let k = 0; k < idx.length && k < 3; k++) {
      const reg = idx[k] < count ? regs[idx[k]] : undefined;
      if (reg === undefined || !/^[0-9a-f]+$/i.test(reg)) continue;
      let id = this.regIds.get(reg);
      if (id === undefined) {
        // past MAX_VALUES distinct values, new ones are not kept (the generator then allows any)
        id = this.strings.id(this.regIds.size < MAX_VALUES ? BigInt(`0x${reg}`).toString() : VALUES_OMITTED);
        if (this.regIds.size < MAX_VALUES) this.regIds.set(reg, id);
      }
      cols[k][i] = id;
      // clone's flags (its first value): whether it makes a thread, for the builder
      if (k === 0 && name === "clone") this.out.columns.aux[i] = BigInt(`0x${reg}`) & CLONE_THREAD ? 1 : 0;
    }
  }

  private isExec(nr: number): boolean {
    const name = this.nameOf(nr);
    return name === "execve" || name === "execveat";
  }

  private sysId(nr: number): number {
    let id = this.sysIds.get(nr);
    if (id === undefined) {
      id = this.strings.id(this.nameOf(nr));
      this.sysIds.set(nr, id);
    }
    return id;
  }

  private nameOf(nr: number): string {
    return syscallName(this.arch, nr) ?? `syscall_${nr}`;
  }
}
