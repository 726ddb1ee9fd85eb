// What the supervisor of a learning run does with one notified call (pure): record it or not, and how to
// answer — let it continue, or answer as the policy would. The policy's own answer comes from emulating its
// program on the call; this file decides what learning makes of it.
import { classOf } from "../generate/classes.js";
import type { Action } from "../policy/model.js";

/** How a learning run answers (`run --learn`'s options). */
export interface LearnMode {
  /** --learn-all: the privilege class is let through too (only recorded otherwise). */
  all: boolean;
  /** --learn-answer policy: every call gets the policy's answer (still recorded): a stricter trial. */
  answerAsPolicy: boolean;
}

/** The answer to a notified call. */
export type Answer = { kind: "continue" } | { kind: "errno"; errno: number } | { kind: "kill" };

const ENOSYS = 38;
const EACCES = 13;
const EXECS = new Set(["execve", "execveat"]);

/**
 * Whether a call P refuses stays refused while learning: the privilege class (namespaces, mount, ptrace,
 * module loading, bpf, the setuid family …), an exec beyond those P allows, and a call from an
 * architecture P does not filter (no name).
 */
export function heldBack(name: string | undefined): boolean {
  if (name === undefined) return true;
  return EXECS.has(name) || classOf(name).cls === "privilege";
}

/**
 * The answer the policy's action gives, as a supervisor can give it: errno as is; kill (process, thread)
 * and trap by SIGKILL to the process (the kernel's SIGSYS and core dump are not available to a
 * supervisor); trace without a tracer is ENOSYS, as the kernel answers; log lets the call run.
 */
export function policyAnswer(action: Action): Answer {
  switch (action.kind) {
    case "allow":
    case "log":
      return { kind: "continue" };
    case "errno":
      return { kind: "errno", errno: action.data ?? 0 };
    case "trace":
    case "user-notif":
      return { kind: "errno", errno: ENOSYS };
    default:
      return { kind: "kill" };
  }
}

/** What to do with a call: `learned` says which layer refused it (undefined: nothing to record). */
export interface Verdict {
  learned?: "seccomp" | "landlock";
  answer: Answer;
}

/**
 * The verdict on one call of the program: `action` is what the policy's filter answers it, `landlockDenied`
 * whether the policy's Landlock layer would refuse it (judged only for calls the filter allows).
 */
export function judge(
  name: string | undefined,
  action: Action,
  landlockDenied: boolean,
  mode: LearnMode,
): Verdict {
  if (action.kind !== "allow") {
    const asPolicy = mode.answerAsPolicy || (!mode.all && heldBack(name));
    return { learned: "seccomp", answer: asPolicy ? policyAnswer(action) : { kind: "continue" } };
  }
  if (landlockDenied)
    return {
      learned: "landlock",
      answer: mode.answerAsPolicy ? { kind: "errno", errno: EACCES } : { kind: "continue" },
    };
  return { answer: { kind: "continue" } };
}
