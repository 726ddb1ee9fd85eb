import { GROUPS } from "./generated/groups.js";

/** Names of systemd's syscall groups ("@default", "@basic-io" …). */
export function groupNames(): string[] {
  return Object.keys(GROUPS);
}

/** True when name is a known group. */
export function isGroup(name: string): boolean {
  return Object.hasOwn(GROUPS, name);
}

/** One-line description of a group, as systemd gives it. */
export function groupDescription(name: string): string {
  return GROUPS[name]?.description ?? "";
}

/** Expands a group (recursively, as systemd does) to syscall names; undefined when unknown. */
export function expandGroup(name: string, seen: Set<string> = new Set()): string[] | undefined {
  const group = GROUPS[name];
  if (!group) return undefined;
  seen.add(name);
  const out = new Set<string>();
  for (const member of group.members) {
    if (member.startsWith("@")) {
      if (seen.has(member)) continue;
      for (const m of expandGroup(member, seen) ?? []) out.add(m);
    } else {
      out.add(member);
    }
  }
  return [...out].sort();
}

/** The groups (other than @known and the umbrella groups) that list a syscall directly. */
export function groupsOf(syscall: string): string[] {
  return Object.entries(GROUPS)
    .filter(([g, def]) => g !== "@known" && def.members.includes(syscall))
    .map(([g]) => g);
}
