import type { ArchName } from "../../../syscalls/arches.js";
import { expandGroup } from "../../../syscalls/groups.js";
import { syscallTable } from "../../../syscalls/table.js";
import type { Action, Rule } from "../../model.js";

/**
 * What one entry of a systemd filter list carries (systemd's hashmap value): nothing (-1 in systemd), an
 * errno from NAME:ERRNO, or "kill" from NAME:kill.
 */
export type SystemdEntry = number | "kill" | undefined;

/**
 * One of systemd's syscall lists (SystemCallFilter= or SystemCallLog=), as load-fragment.c and
 * seccomp-util.c keep it: the first non-empty assignment picks the mode, later ones add or remove, an empty
 * assignment resets, groups expand recursively into the member names.
 */
export class SystemdList {
  mode: "allow" | "deny" | undefined;
  readonly entries = new Map<string, SystemdEntry>();

  /** @param implied group every allow-list starts with (@default for SystemCallFilter=, none for SystemCallLog=) */
  constructor(private readonly implied?: string) {}

  reset(): void {
    this.mode = undefined;
    this.entries.clear();
  }

  /** A non-empty assignment: the first one since a reset picks the mode (an allow-list gets `implied`). */
  begin(negate: boolean): void {
    if (this.mode !== undefined) return;
    this.mode = negate ? "deny" : "allow";
    if (this.mode === "allow" && this.implied) this.apply(this.implied, undefined, false);
  }

  /** Applies one item of an assignment (after begin()); `negate` is the assignment's leading ~. */
  apply(name: string, entry: SystemdEntry, negate: boolean): void {
    const names = name.startsWith("@") ? (expandGroup(name) ?? []) : [name];
    // seccomp_parse_syscall_filter: an allow-list's plain names and a deny-list's ~names go in (a later one
    // replaces the errno of an earlier one); an allow-list's ~NAME:ERRNO also goes in, answered with that
    // errno; anything else comes out.
    const put = negate !== (this.mode === "allow") || (negate && entry !== undefined);
    for (const n of names) {
      if (put) this.entries.set(n, entry);
      else this.entries.delete(n);
    }
  }
}

/** The settings read from a unit, before they become rules. */
export interface SystemdSettings {
  filter: SystemdList;
  log: SystemdList;
  /** SystemCallErrorNumber=: undefined is systemd's default, kill. */
  errno: number | undefined;
}

const kill: Action = { kind: "kill-process" };

function entryAction(e: SystemdEntry, fallback: Action): Action {
  if (e === undefined) return fallback;
  return e === "kill" ? kill : { kind: "errno", data: e };
}

/** What the SystemCallFilter= list answers a call that has no entry, and one that has. */
function filterAnswer(s: SystemdSettings): { other: Action; listed: (e: SystemdEntry) => Action } {
  const negative: Action = s.errno === undefined ? kill : { kind: "errno", data: s.errno };
  if (s.filter.mode === "allow") return { other: negative, listed: (e) => entryAction(e, { kind: "allow" }) };
  if (s.filter.mode === "deny") return { other: { kind: "allow" }, listed: (e) => entryAction(e, negative) };
  return { other: { kind: "allow" }, listed: () => ({ kind: "allow" }) };
}

/**
 * The kernel runs systemd's two filters (the call filter and the log filter) and takes the stricter answer:
 * a call the call filter allows is logged when the log filter logs it; any other answer stands.
 */
function withLog(a: Action, logged: boolean): Action {
  return a.kind === "allow" && logged ? { kind: "log" } : a;
}

/**
 * The policy's default action and one rule per distinct answer, naming every syscall of the target
 * architectures whose answer is not the default. Names are explicit: a group stands for its members as they
 * were when the unit was read, so a later ~NAME removes exactly that call.
 */
export function systemdRules(
  s: SystemdSettings,
  arches: ArchName[],
): { defaultAction: Action; rules: Rule[] } {
  const answer = filterAnswer(s);
  const logs = (n: string | undefined) => {
    if (s.log.mode === undefined) return false;
    const listed = n !== undefined && s.log.entries.has(n);
    return s.log.mode === "allow" ? listed : !listed;
  };
  const defaultAction = withLog(answer.other, logs(undefined));
  const names = new Set<string>();
  for (const a of arches) for (const n of Object.keys(syscallTable(a))) names.add(n);
  const byAction = new Map<string, Rule>();
  for (const n of [...names].sort()) {
    const base = s.filter.entries.has(n) ? answer.listed(s.filter.entries.get(n)) : answer.other;
    const action = withLog(base, logs(n));
    if (action.kind === defaultAction.kind && action.data === defaultAction.data) continue;
    const key = `${action.kind} ${action.data ?? ""}`;
    const rule = byAction.get(key) ?? { names: [], action, conditions: [] };
    rule.names.push(n);
    byAction.set(key, rule);
  }
  return { defaultAction, rules: [...byAction.values()] };
}
