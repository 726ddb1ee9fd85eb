// The values the library's options take, spelled once: the CLI's parser and the library's functions both
// check against these lists, so a value one accepts the other accepts too.
import { SysfenceError } from "../errors.js";
import { errnoValue } from "../syscalls/constants.js";

/** Which phase of a recording a policy is for. */
export const PHASES = ["work", "all"] as const;
/** How argument rules are generated (the order is the one `--help` lists). */
export const ARGS_MODES = ["safe", "pin", "strict", "off"] as const;
/** Whose calls count: the thread-group leader, the other threads, or both. */
export const THREAD_ROLES = ["main", "workers", "all"] as const;
/** Whether static analysis adds the reachable calls a recording never saw. */
export const STATIC_MODES = ["auto", "on", "off"] as const;
/** What a reachable, unseen, high-risk call gets. */
export const UNSEEN_ANSWERS = ["errno", "log", "kill"] as const;
/** How a diff is printed. */
export const DIFF_FORMATS = ["text", "md", "json"] as const;

/** "a, b or c". */
function alternatives(list: readonly string[]): string {
  return list.length < 2 ? list.join("") : `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}`;
}

/**
 * `value` when it is one of `list` (undefined stays undefined); otherwise a usage error naming the option
 * as the caller spells it (`--static` on the command line, `static` in the library) and what it takes.
 */
export function oneOf<T extends string>(
  option: string,
  value: string | undefined,
  list: readonly T[],
): T | undefined {
  if (value === undefined || (list as readonly string[]).includes(value)) return value as T | undefined;
  throw new SysfenceError("E_USAGE", `${option} '${value}': use ${alternatives(list)}.`);
}

/**
 * `NAME=ERRNO` items (`openat=EACCES`, `bpf=1`) as syscall → errno number; `option` names the option in
 * the error (`--errno` on the command line).
 */
export function parseErrnoAnswers(items: readonly string[] = [], option = "errno"): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([a-z0-9_]+)=(\w+)$/.exec(item);
    const n = m ? (/^\d+$/.test(m[2]) ? Number(m[2]) : errnoValue(m[2])) : undefined;
    if (!m || n === undefined || n < 0 || n > 4095)
      throw new SysfenceError(
        "E_USAGE",
        `${option} '${item}': write SYSCALL=ERRNO, e.g. ${option} openat=EACCES or ${option} bpf=1.`,
      );
    out[m[1]] = n;
  }
  return out;
}

/** Directories a program may write in: absolute, not /, without trailing slashes. */
export function writableDirs(dirs: readonly string[] = [], option = "writable"): string[] {
  return dirs.map((d) => {
    if (!d.startsWith("/") || d === "/")
      throw new SysfenceError(
        "E_USAGE",
        `${option} '${d}': give an absolute directory other than /, e.g. /var/lib/app.`,
      );
    return d.replace(/\/+$/, "");
  });
}

export { parseAction } from "../policy/actions.js";
