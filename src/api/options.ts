// The values the library's options take, spelled once: the CLI's parser and the library's functions both
// check against these lists, so a value one accepts the other accepts too.
import { SysfenceError } from "../errors.js";
import { errnoValue } from "../syscalls/constants.js";

export {
  ARGS_MODES,
  DIFF_FORMATS,
  PHASES,
  STATIC_MODES,
  THREAD_ROLES,
  UNSEEN_ANSWERS,
} from "./option-lists.js";

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

/** Directories a program may write in or read (--writable, --readable): absolute, not /, without trailing slashes. */
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
