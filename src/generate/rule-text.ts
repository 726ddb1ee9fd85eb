// The words of a generated policy's comments: what a call is, its groups, where and how often it was seen.
import { describeSyscall } from "../syscalls/descriptions.js";
import { groupsOf } from "../syscalls/groups.js";
import type { SeenCall } from "./select.js";

/** A call's name and its man page's one-line summary. */
export function describe(name: string): string {
  return `${name}: ${describeSyscall(name) || "no man page"}`;
}

/** The call's groups (at most two), in parentheses, or nothing. */
export function groupText(name: string): string {
  const groups = groupsOf(name).filter((g) => g !== "@system-service" || groupsOf(name).length === 1);
  return groups.length ? ` (${groups.slice(0, 2).join(" ")})` : "";
}

/** Where and how often the recordings saw a call (per phase when the profiles have phases). */
export function seenText(s: SeenCall, phase: "work" | "all", phased = false): string {
  const where = [...s.where]
    .map(([w, pids]) => [w, [...pids.values()].reduce((a, n) => a + n, 0)] as const)
    .map(([w, n]) => (n > 1 ? `${w} (${n} processes)` : w))
    .sort()
    .join(", ");
  const split =
    !phased || phase === "work"
      ? ""
      : s.setup && s.work
        ? ` (setup ${s.setup}, work ${s.work})`
        : s.work
          ? " in the work phase"
          : " in setup";
  const seen = s.count
    ? `seen ${s.count}×${split}${phase === "work" ? " in the work phase" : ""} in ${where}`
    : `in ${where}`;
  return s.fallback ? `${seen}${s.count ? "; " : " — "}${s.fallback}` : seen;
}
