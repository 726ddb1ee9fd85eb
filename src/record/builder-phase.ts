// ProfileBuilder's phase handling: which calls matter to it by name (forks, execs, directory changes, the
// calls that start the work phase), what it asks of an adapter's events, and when the work phase begins.
import { allSyscallNames } from "../syscalls/table.js";
import type { Group } from "./builder-groups.js";
import type { EventNeeds, PhaseSpec } from "./phase-spec.js";
import { INTERESTING_ARGS } from "./profile.js";

/** Calls through which a program announces a marker or READY=1 (sd_notify sends a datagram). */
const WRITES = new Set(["write", "writev", "pwrite64", "sendto", "sendmsg"]);
/** Calls that make a process or thread, and calls that replace the process image. */
const FORKS = ["clone", "clone3", "fork", "vfork"];
export const EXECS = ["execve", "execveat"];
/** Calls that change the current directory (relative paths after them are resolved against the new one). */
const CHDIRS = ["chdir", "fchdir"];
/** chroot: changes the process's root (the builder puts its absolute paths under it). */
const ROOTS = ["chroot"];

/** What the builder needs to know about a syscall name. */
export interface NameInfo {
  fork: boolean;
  interesting?: number[];
  /** chdir or fchdir: changes the process's current directory. */
  chdir: boolean;
  write: boolean;
  /** Its first call starts the work phase (--after first:SYSCALL). */
  first: boolean;
}

/** The work phase's start (--after) as the builder follows it, and what it needs to know of calls by name. */
export class Phase {
  /** The first event's time (delay counts from it). */
  firstTime?: number;
  private readonly names = new Map<string, NameInfo>();

  constructor(readonly spec: PhaseSpec) {}

  /**
   * What an adapter must keep apart when it folds calls into tallies, and which times the builder reads:
   * the calls whose single event changes the builder's state (forks, execs, what starts the work phase)
   * are each an event of their own; `separate` is null when no call may be folded (a delay: phase reads
   * every event's time, or unfolded: asked for). `strings`: calls whose string arguments the builder reads
   * (a marker's writes).
   */
  needs(unfolded: boolean): EventNeeds {
    const times = this.timeNeeds();
    return {
      separate:
        this.spec.kind === "delay" || unfolded
          ? null
          : [...FORKS, ...EXECS, ...CHDIRS, ...ROOTS, ...times.timeNames],
      ...times,
      strings: this.spec.kind === "marker" ? [...WRITES] : [],
      known: allSyscallNames(),
    };
  }

  private timeNeeds(): { allTimes: boolean; timeNames: string[] } {
    if (this.spec.kind === "delay") return { allTimes: true, timeNames: [] };
    if (this.spec.kind === "marker") return { allTimes: false, timeNames: [...WRITES] };
    if (this.spec.kind === "first") {
      const p = this.spec.syscall;
      const names = p.endsWith("*") ? namesWithPrefix(p.slice(0, -1)) : [p];
      return { allTimes: false, timeNames: names };
    }
    return { allTimes: false, timeNames: [] };
  }

  /** What the builder needs to know about a syscall name, looked up once per name. */
  nameInfo(name: string): NameInfo {
    let info = this.names.get(name);
    if (!info) {
      info = {
        fork: FORKS.includes(name),
        interesting: INTERESTING_ARGS[name],
        chdir: CHDIRS.includes(name),
        write: WRITES.has(name),
        first: this.spec.kind === "first" && matchesName(this.spec.syscall, name),
      };
      this.names.set(name, info);
    }
    return info;
  }

  /** Whether an event at `time` (NaN: unstamped) is past --after delay:SECONDS. */
  delayOver(time: number): boolean {
    return (
      this.spec.kind === "delay" &&
      !Number.isNaN(time) &&
      this.firstTime !== undefined &&
      time - this.firstTime >= this.spec.seconds
    );
  }

  /** Whether a write's strings carry the --after marker. */
  isMarker(text: number, strings: readonly string[]): boolean {
    return this.spec.kind === "marker" && text >= 0 && strings[text].includes(this.spec.text);
  }
}

/** The processes enter the work phase at `time` (those already in it keep their start). */
export function enterWork(groups: Iterable<Group>, time?: number): void {
  for (const x of groups) {
    if (x.work) continue;
    x.work = true;
    x.workStartedAt = time;
  }
}

/** Every known syscall name starting with a prefix ("accept" → accept, accept4). */
function namesWithPrefix(prefix: string): string[] {
  return allSyscallNames().filter((n) => n.startsWith(prefix));
}

function matchesName(pattern: string, name: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}
