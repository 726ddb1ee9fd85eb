// Two reports side by side — two policies, two profiles, or one of each — as what changed: calls a program
// may now make that it could not (opened), calls it no longer may (closed), calls whose answer or argument
// rules changed, risky calls and groups whose standing moved, and the default answer.
import type { Report, Treatment } from "./model.js";

export type Change = "opened" | "closed" | "changed";

export interface SyscallChange {
  name: string;
  nr: number;
  change: Change;
  old: { treatment: Treatment; detail: string };
  new: { treatment: Treatment; detail: string };
  description: string;
}

export interface ReportDiff {
  title: string;
  old: { source: string; kind: Report["kind"]; allowed: number; defaultAction: string };
  new: { source: string; kind: Report["kind"]; allowed: number; defaultAction: string };
  arch: string;
  known: number;
  /** Every syscall of the architecture with its change, when it has one (the map). */
  map: { name: string; nr: number; change?: Change; open: boolean }[];
  changes: SyscallChange[];
  risky: { what: string; why: string; old: Treatment; new: Treatment }[];
  groups: { name: string; description: string; members: number; old: number; new: number }[];
}

export const isOpen = (t: Treatment) => t === "allow" || t === "restricted";

/** What changed from `a` to `b`. */
export function diffReports(a: Report, b: Report): ReportDiff {
  const before = new Map(a.syscalls.map((s) => [s.name, s]));
  const changes: SyscallChange[] = [];
  const map: ReportDiff["map"] = [];
  for (const s of b.syscalls) {
    const o = before.get(s.name) ?? {
      treatment: a.defaultAction.startsWith("errno") ? "errno" : "denied",
      detail: a.defaultAction,
    };
    let change: Change | undefined;
    if (isOpen(o.treatment) !== isOpen(s.treatment)) change = isOpen(s.treatment) ? "opened" : "closed";
    else if (o.treatment !== s.treatment || o.detail !== s.detail) {
      // shut on both sides by each side's default answer: the default's change is told once, not per call
      const byDefault = !isOpen(s.treatment) && o.detail === a.defaultAction && s.detail === b.defaultAction;
      if (!byDefault) change = "changed";
    }
    map.push({ name: s.name, nr: s.nr, open: isOpen(s.treatment), ...(change ? { change } : {}) });
    if (change)
      changes.push({
        name: s.name,
        nr: s.nr,
        change,
        old: { treatment: o.treatment as Treatment, detail: o.detail },
        new: { treatment: s.treatment, detail: s.detail },
        description: s.description,
      });
  }
  const oldRisk = new Map(a.risky.map((k) => [k.what, k.treatment]));
  const risky = b.risky
    .filter((k) => oldRisk.has(k.what) && oldRisk.get(k.what) !== k.treatment)
    .map((k) => ({ what: k.what, why: k.why, old: oldRisk.get(k.what) as Treatment, new: k.treatment }));
  const oldGroups = new Map(a.groups.map((g) => [g.name, g.allowed]));
  const groups = b.groups
    .filter((g) => (oldGroups.get(g.name) ?? 0) !== g.allowed)
    .map((g) => ({
      name: g.name,
      description: g.description,
      members: g.members,
      old: oldGroups.get(g.name) ?? 0,
      new: g.allowed,
    }));
  const side = (r: Report) => ({
    source: r.source,
    kind: r.kind,
    allowed: r.allowed,
    defaultAction: r.defaultAction,
  });
  return {
    title: `sysfence report: ${a.source} → ${b.source}`,
    old: side(a),
    new: side(b),
    arch: b.arch,
    known: b.known,
    map,
    changes,
    risky,
    groups,
  };
}

/** "+8 opened, 2 closed, 3 changed" counts. */
export function changeCounts(d: ReportDiff): Record<Change, number> {
  const c: Record<Change, number> = { opened: 0, closed: 0, changed: 0 };
  for (const x of d.changes) c[x.change]++;
  return c;
}

/** Plain text (and, with `md`, Markdown) of a diff. */
export function renderDiffText(d: ReportDiff, md = false): string {
  const c = changeCounts(d);
  const code = (s: string) => (md ? `\`${s}\`` : s);
  const out: string[] = [];
  out.push(md ? `# ${d.title}` : d.title, "");
  out.push(
    `allowed     ${d.old.allowed} → ${d.new.allowed} of ${d.known} ${d.arch} syscalls: ${c.opened} opened, ${c.closed} closed, ${c.changed} with a changed answer`,
  );
  if (d.old.defaultAction !== d.new.defaultAction)
    out.push(`default     ${d.old.defaultAction} → ${d.new.defaultAction}`);
  const answer = (t: { treatment: Treatment; detail: string }) =>
    t.treatment === "allow" ? "allow" : t.detail || t.treatment;
  for (const kind of ["opened", "closed", "changed"] as Change[]) {
    const rows = d.changes.filter((x) => x.change === kind);
    if (!rows.length) continue;
    out.push("", md ? `## ${kind} (${rows.length})` : `${kind} (${rows.length}):`);
    for (const x of rows)
      out.push(
        `${md ? "* " : "  "}${code(x.name)}${md ? ": " : " ".repeat(Math.max(1, 20 - x.name.length))}${answer(x.old)} → ${answer(x.new)}`,
      );
  }
  if (d.risky.length) {
    out.push("", md ? "## risky calls" : "risky calls:");
    for (const k of d.risky)
      out.push(
        `${md ? "* " : "  "}${code(k.what)}: ${k.old} → ${k.new}${isOpen(k.new) ? ` (${k.why})` : ""}`,
      );
  }
  if (d.groups.length) {
    out.push("", md ? "## groups" : "groups:");
    for (const g of d.groups)
      out.push(`${md ? "* " : "  "}${code(g.name)}: ${g.old}/${g.members} → ${g.new}/${g.members}`);
  }
  if (!d.changes.length && d.old.defaultAction === d.new.defaultAction) out.push("", "no difference");
  return `${out.join("\n")}\n`;
}
