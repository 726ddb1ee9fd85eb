// A work-phase policy (generate --phase work) lacks the calls a program makes to start: whatever starts the
// program under it kills it at start. Those callers refuse it here, with what to use instead.
import { SysfenceError } from "../errors.js";
import type { Policy } from "./model.js";

/** Throws when `policy` is a work-phase policy and `what` would start the program under it. */
export function refuseWorkPhase(policy: Policy, what: string): void {
  if (policy.phase !== "work") return;
  throw new SysfenceError(
    "E_USAGE",
    `${policy.source ?? "the policy"} is a work-phase policy (phase: work): ${what} would start the program under it and kill it at start. Generate one without --phase work (sysfence generate PROFILE), or install this one after start-up with lockdown().`,
  );
}
