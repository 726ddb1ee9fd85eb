// The facts the strace adapter keeps per syscall name (which arguments it reads, whether its calls fold),
// and how many unknown names a log may bring (moved whole from adapter.ts).
import type { EventNeeds } from "../../builder.js";
import type { StringTable } from "../../events.js";
import { PATH_USES, type PathUse } from "../../path-access.js";
import { INTERESTING_ARGS } from "../../profile.js";
import type { Interned } from "./scan.js";

/**
 * Distinct names a log may use that no architecture's table has (a newer strace's new syscalls); past it,
 * lines naming others are not strace output: a file of a million invented names would otherwise make a
 * profile of a million syscalls.
 */
export const MAX_UNKNOWN_NAMES = 64;
/** strace's own name for a syscall it has no name for. */
const NUMBERED = /^syscall_(0x[0-9a-f]+|\d+)$/;

/** What the adapter knows about a syscall, looked up once per name (kept on its interned name). */
export interface Info {
  /** The name's string id. */
  id: number;
  interesting?: number[];
  time: boolean;
  separate: boolean;
  /** The path arguments and how they are used (path-access.ts). */
  paths?: PathUse[];
  /** fchdir: its fd's path (strace -y) is the directory it goes to. */
  fchdir: boolean;
  /** The argument that holds an exec's file name (-1: not an exec). */
  execArg: number;
  /** Its string arguments are read (marker writes). */
  strings: boolean;
  /** clone: strace prints it decoded as (child_stack=…, flags=…, …), not in the kernel's order. */
  clone: boolean;
  /** clone or clone3: its flags value says whether it makes a thread (the call row's aux). */
  cloneFlags: boolean;
  /** Not a syscall name: one more unknown name than a log may bring (its lines are not strace output). */
  bogus: boolean;
}

/** The facts of each syscall name a log brings, looked up once per name. */
export class SyscallInfos {
  private readonly infos = new Map<string, Info>();
  private readonly separate: Set<string>;
  private readonly timeNames: Set<string>;
  private readonly stringNames: Set<string>;
  private readonly fold: boolean;
  private readonly known: Set<string>;
  private unknownNames = 0;

  constructor(
    private readonly needs: EventNeeds,
    private readonly strings: StringTable,
  ) {
    this.known = new Set(needs.known);
    this.fold = needs.separate !== null;
    this.separate = new Set(needs.separate ?? []);
    this.timeNames = new Set(needs.timeNames);
    this.stringNames = new Set(needs.strings);
  }

  /** The facts of a syscall, kept on its interned name. */
  of(name: Interned): Info {
    let info = name.info as Info | undefined;
    if (info !== undefined) return info;
    const text = name.text;
    info = this.infos.get(text);
    if (!info) {
      if (!this.known.has(text) && !NUMBERED.test(text) && ++this.unknownNames > MAX_UNKNOWN_NAMES) {
        // one shared answer, nothing kept: its lines are not strace output
        if (name.kept) name.info = BOGUS;
        return BOGUS;
      }
      info = {
        id: this.strings.id(text),
        interesting: INTERESTING_ARGS[text],
        time: this.needs.allTimes || this.timeNames.has(text),
        separate: !this.fold || this.separate.has(text),
        paths: PATH_USES[text],
        fchdir: text === "fchdir",
        execArg: text === "execve" ? 0 : text === "execveat" ? 1 : -1,
        strings: this.stringNames.has(text),
        clone: text === "clone",
        cloneFlags: text === "clone" || text === "clone3",
        bogus: false,
      };
      this.infos.set(text, info);
    }
    if (name.kept) name.info = info;
    return info;
  }
}

/** The facts of a name that is not a syscall's (past MAX_UNKNOWN_NAMES). */
const BOGUS: Info = {
  id: -1,
  time: false,
  separate: true,
  fchdir: false,
  execArg: -1,
  strings: false,
  clone: false,
  cloneFlags: false,
  bogus: true,
};
