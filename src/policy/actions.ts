import { actionValue } from "../abi/action.js";
import * as S from "../abi/seccomp-data.js";
import { SysfenceError } from "../errors.js";
import { errnoName, errnoValue } from "../syscalls/constants.js";
import type { Action, ActionKind } from "./model.js";

const ALIASES: Record<string, ActionKind> = {
  allow: "allow",
  kill: "kill-process",
  "kill-process": "kill-process",
  kill_process: "kill-process",
  "kill-thread": "kill-thread",
  kill_thread: "kill-thread",
  trap: "trap",
  errno: "errno",
  trace: "trace",
  log: "log",
  "user-notif": "user-notif",
  notify: "user-notif",
};

/**
 * Parses an action as written in a policy or on the command line:
 * "allow", "kill-process", "kill-thread", "trap", "trap 5", "log", "trace 3", "user-notif",
 * "errno EPERM", "errno:13", "errno(EACCES)".
 */
export function parseAction(text: string): Action {
  const m = /^\s*([a-z_-]+)\s*(?:[\s:(]\s*([A-Za-z0-9_]+)\s*\)?)?\s*$/i.exec(text);
  const kind = m ? ALIASES[m[1].toLowerCase()] : undefined;
  if (!m || !kind) {
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `unknown action '${text}'; use allow, kill-process, kill-thread, trap, log, trace N, user-notif or errno NAME (e.g. "errno EPERM").`,
    );
  }
  const arg = m[2];
  if (kind === "errno") {
    if (arg === undefined)
      throw new SysfenceError("E_POLICY_INVALID", `action '${text}' needs an errno, e.g. "errno EPERM".`);
    const n = /^\d+$/.test(arg) ? Number(arg) : errnoValue(arg);
    if (n === undefined)
      throw new SysfenceError(
        "E_POLICY_INVALID",
        `unknown errno '${arg}' in action '${text}'; use a name such as EPERM or a number.`,
      );
    if (n > 4095)
      throw new SysfenceError("E_POLICY_INVALID", `errno ${n} in '${text}' is above MAX_ERRNO (4095).`);
    return { kind, data: n };
  }
  if (kind === "trap" || kind === "trace") {
    const n = arg === undefined ? 0 : Number(arg);
    if (!Number.isInteger(n) || n < 0 || n > 0xffff)
      throw new SysfenceError("E_POLICY_INVALID", `'${text}': data must be 0..65535.`);
    return { kind, data: n };
  }
  if (arg !== undefined)
    throw new SysfenceError("E_POLICY_INVALID", `action '${kind}' takes no value (got '${text}').`);
  return { kind };
}

/**
 * The warning an errno-0 answer deserves: SECCOMP_RET_ERRNO with 0 makes the call return 0 without running,
 * so the program sees success for a call the policy denied. Undefined for any other action.
 */
export function fakeSuccessWarning(a: Action): string | undefined {
  if (a.kind !== "errno" || (a.data ?? 0) !== 0) return undefined;
  return "errno 0 makes the denied call report success (it returns 0 without running), so the program cannot tell it was denied — use an errno such as EPERM or ENOSYS";
}

/** The canonical text of an action ("errno EPERM", "allow", "trap 3"). */
export function formatAction(a: Action): string {
  if (a.kind === "errno") return `errno ${errnoName(a.data ?? 0) ?? a.data}`;
  if ((a.kind === "trap" || a.kind === "trace") && a.data) return `${a.kind} ${a.data}`;
  return a.kind;
}

/** True when two actions are the same. */
export function sameAction(a: Action, b: Action): boolean {
  return actionValue(a) === actionValue(b);
}

/**
 * True when the kernel lets `a` win over `b` (kernel/seccomp.c: actions compared as signed 32-bit values,
 * the lower the stronger — KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, USER_NOTIF, TRACE, LOG, ALLOW).
 */
export function stricterThan(a: Action, b: Action): boolean {
  const rank = (x: Action) => (actionValue(x) & S.SECCOMP_RET_ACTION_FULL) | 0;
  return rank(a) < rank(b);
}
