// The processes and threads a recording has met (ProfileBuilder's process tracking): each tid's thread,
// the process image (thread group) it belongs to, and how new tids join one: a CLONE_THREAD clone makes a
// thread of the cloner's process, any other fork a process of its own, an engine that knows thread groups
// says so, an exec starts a new image of the same pid.
import type { Counter } from "./counter.js";
import type { Focus } from "./phase-spec.js";
import type { ThreadProfile } from "./profile.js";

export interface Thread {
  tid: number;
  group: Group;
  counts: Map<string, Counter>;
  /**
   * The call it has not finished yet (its end comes in a later event), with an exec's file name or the
   * directory a chdir/fchdir goes to (null: one the recording cannot know).
   */
  pending?: { name: string; text?: string; cwd?: string | null; root?: string };
  exited?: boolean;
}

export interface Group {
  /** Cached focus decision (the exe of a group never changes; execve makes a new group). */
  counted?: boolean;
  pid: number;
  exe: string;
  parent?: number;
  work: boolean;
  workStartedAt?: number;
  threads: Map<number, Thread>;
  exitStatus?: number;
  killedBy?: string;
  /** Threads that have exited (an exit event each). */
  exited?: number;
  /** Its threads' final counts, once the image is over (its counters are then dropped). */
  frozen?: ThreadProfile[];
  /** Its current directory (relative paths are resolved against it), when the recording knows it. */
  cwd?: string;
  /** Its root directory, when a chroot moved it (its absolute paths are under it); undefined: "/". */
  root?: string;
}

/** Whether a process is counted under --only-exe / --exclude-exe (by full path or basename). */
export function inFocus(focus: Focus, g: Group): boolean {
  const match = (list: string[]) => list.some((x) => g.exe === x || g.exe.endsWith(`/${x}`));
  if (focus.only?.length && !match(focus.only)) return false;
  if (focus.exclude?.length && match(focus.exclude)) return false;
  return true;
}

/** The threads alive in a recording, by tid, and the processes they belong to. */
export class Processes {
  readonly threads = new Map<number, Thread>();
  /** CLONE_THREAD clones made by a thread (by tid) whose new thread has not been seen yet. */
  private readonly pendingThreadClones = new Map<number, number>();
  private lastForker?: Thread;
  /** The forking process's directory when it forked (its child starts there). */
  private forkCwd?: string;
  /** The forking process's root when it forked (its child has the same). */
  private forkRoot?: string;
  /** The launched program's current directory (the first process without a parent starts in it). */
  launchCwd?: string;

  constructor(private readonly command: string[]) {}

  /** Thread t made a process or (thread: a CLONE_THREAD clone) a thread; its next new tid is that. */
  forked(t: Thread, thread: boolean): void {
    this.lastForker = t;
    this.forkCwd = t.group.cwd;
    this.forkRoot = t.group.root;
    if (thread) this.pendingThreadClones.set(t.tid, (this.pendingThreadClones.get(t.tid) ?? 0) + 1);
  }

  /** The thread tid, made on first use: a thread of a parent with a pending CLONE_THREAD clone, else a new process. */
  thread(tid: number): Thread {
    let t = this.threads.get(tid);
    if (t) return t;
    let group: Group | undefined;
    for (const [parentTid, n] of this.pendingThreadClones) {
      if (n > 0) {
        group = this.threads.get(parentTid)?.group;
        this.pendingThreadClones.set(parentTid, n - 1);
        if (n - 1 === 0) this.pendingThreadClones.delete(parentTid);
        break;
      }
    }
    if (!group) {
      const parent = this.lastForker;
      group = {
        pid: tid,
        exe: parent?.group.exe ?? this.command[0] ?? "?",
        parent: parent?.group.pid,
        work: parent?.group.work ?? false,
        threads: new Map(),
        // a child starts in its parent's directory; the first process, in the launch's
        cwd: parent ? this.forkCwd : this.launchCwd,
        root: parent ? this.forkRoot : undefined,
      };
      if (group.work) group.workStartedAt = parent?.group.workStartedAt;
    }
    t = { tid, group, counts: new Map() };
    group.threads.set(tid, t);
    this.threads.set(tid, t);
    return t;
  }

  /**
   * Declares a process image an engine knows of itself (a process row: bpf), for its threads to join
   * (adopt), its leader too.
   */
  declare(pid: number, exe: string, parent: number | undefined): void {
    this.declared.set(pid, { pid, exe, parent, work: false, threads: new Map() });
  }
  /** The image each leader's process row declared last. */
  private readonly declared = new Map<number, Group>();

  /**
   * Declares tid a thread of leader's process (an engine that knows thread groups directly: ftrace; a
   * declared image). A CLONE_THREAD clone counted for that process is used up by it.
   */
  adopt(tid: number, leader: number): void {
    if (this.threads.has(tid)) return;
    const group = this.threads.get(leader)?.group ?? this.declared.get(leader);
    if (!group) return;
    const t: Thread = { tid, group, counts: new Map() };
    group.threads.set(tid, t);
    this.threads.set(tid, t);
    for (const [parent, n] of this.pendingThreadClones) {
      if (this.threads.get(parent)?.group !== group) continue;
      if (n <= 1) this.pendingThreadClones.delete(parent);
      else this.pendingThreadClones.set(parent, n - 1);
      break;
    }
  }

  /**
   * Declares a process that was already running when an attached recording began (record --pid): its
   * exe and threads are known from /proc, and every call it makes is work (its start-up is over).
   */
  attach(pid: number, exe: string, tids: readonly number[], parent?: number, cwd?: string): void {
    const group: Group = { pid, exe, parent, work: true, threads: new Map(), cwd };
    for (const tid of tids.includes(pid) ? tids : [pid, ...tids]) {
      const t: Thread = { tid, group, counts: new Map() };
      group.threads.set(tid, t);
      this.threads.set(tid, t);
    }
  }

  /**
   * Thread t exec'd a new process image (file: its name): t goes on as the new image's leader; the old
   * image is returned (the caller finishes it: execve ended its other threads).
   */
  exec(t: Thread, file: string | undefined): Group {
    const old = t.group;
    const fresh: Group = {
      pid: old.pid,
      exe: file ?? old.exe,
      parent: old.parent,
      work: old.work,
      workStartedAt: old.workStartedAt,
      threads: new Map(),
      cwd: old.cwd,
      root: old.root,
    };
    const moved: Thread = { tid: t.tid, group: fresh, counts: new Map() };
    fresh.threads.set(t.tid, moved);
    this.threads.set(t.tid, moved);
    return old;
  }

  /** Thread t (tid by) exec'd while not its process's leader: it goes on under the leader's tid. */
  takeOver(leaderTid: number, by: number, t: Thread, leader: Thread | undefined): void {
    if (leader && leader.group === t.group) leader.pending = t.pending;
    else {
      const moved: Thread = { tid: leaderTid, group: t.group, counts: new Map(), pending: t.pending };
      t.group.threads.set(leaderTid, moved);
      this.threads.set(leaderTid, moved);
    }
    t.pending = undefined;
    this.threads.delete(by);
  }

  /** Whether one of the image's threads made a thread that has not been seen yet (it would join it). */
  cloning(g: Group): boolean {
    for (const [tid, n] of this.pendingThreadClones)
      if (n > 0 && this.threads.get(tid)?.group === g) return true;
    return false;
  }

  /** The processes with a thread alive, in the order their threads were met. */
  open(): Set<Group> {
    return new Set([...this.threads.values()].map((t) => t.group));
  }
}
