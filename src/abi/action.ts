// A seccomp action and its 32-bit encoding (SECCOMP_RET_* | data), in both directions. The text spelling
// of actions ("errno EPERM") belongs to policies: policy/actions.ts.
import * as S from "./seccomp-data.js";

/** What the kernel does with a call (seccomp(2), "Filter return values"). */
export type ActionKind =
  | "allow"
  | "kill-process"
  | "kill-thread"
  | "trap"
  | "errno"
  | "trace"
  | "log"
  | "user-notif";

/** An action with its 16-bit data (errno number, trap/trace value). */
export interface Action {
  kind: ActionKind;
  data?: number;
}

/** The 32-bit SECCOMP_RET_* value the filter returns for an action. */
export function actionValue(a: Action): number {
  const data = (a.data ?? 0) & S.SECCOMP_RET_DATA;
  switch (a.kind) {
    case "allow":
      return S.SECCOMP_RET_ALLOW;
    case "kill-process":
      return S.SECCOMP_RET_KILL_PROCESS;
    case "kill-thread":
      return S.SECCOMP_RET_KILL_THREAD;
    case "trap":
      return (S.SECCOMP_RET_TRAP | data) >>> 0;
    case "errno":
      return (S.SECCOMP_RET_ERRNO | data) >>> 0;
    case "trace":
      return (S.SECCOMP_RET_TRACE | data) >>> 0;
    case "log":
      return S.SECCOMP_RET_LOG;
    case "user-notif":
      return S.SECCOMP_RET_USER_NOTIF;
  }
}

/**
 * Decodes a filter's return value to the action the kernel takes. Unknown action values behave as
 * SECCOMP_RET_KILL_PROCESS (kernel/seccomp.c, __seccomp_filter default case).
 */
export function decodeActionValue(value: number): Action {
  const v = value >>> 0;
  const action = (v & S.SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = v & S.SECCOMP_RET_DATA;
  switch (action) {
    case S.SECCOMP_RET_ALLOW:
      return { kind: "allow" };
    case S.SECCOMP_RET_KILL_PROCESS:
      return { kind: "kill-process" };
    case S.SECCOMP_RET_KILL_THREAD:
      return { kind: "kill-thread" };
    case S.SECCOMP_RET_TRAP:
      return { kind: "trap", data };
    case S.SECCOMP_RET_ERRNO:
      return { kind: "errno", data: Math.min(data, 4095) };
    case S.SECCOMP_RET_TRACE:
      return { kind: "trace", data };
    case S.SECCOMP_RET_LOG:
      return { kind: "log" };
    case S.SECCOMP_RET_USER_NOTIF:
      return { kind: "user-notif" };
    default:
      return { kind: "kill-process" };
  }
}
