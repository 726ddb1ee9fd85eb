import type { Diagnostic } from "../errors.js";
import { formatAction } from "../policy/actions.js";
import { SYSTEMD_ARCH } from "../policy/formats/systemd/vocab.js";
import type { Policy } from "../policy/model.js";
import { errnoName } from "../syscalls/constants.js";
import { expandGroup, groupNames } from "../syscalls/groups.js";
import { syscallNumber } from "../syscalls/table.js";
import { type ExportResult, planSyscalls } from "./shared.js";

const UMBRELLA = new Set(["@known"]);

/** Replaces whole groups found in `names` by @group (systemd's own spelling), largest groups first. */
function compress(names: Set<string>, policy: Policy): string[] {
  const exists = (n: string) => policy.architectures.some((a) => syscallNumber(a, n) !== undefined);
  const left = new Set(names);
  const out: string[] = [];
  const groups = groupNames()
    .filter((g) => !UMBRELLA.has(g))
    .map((g) => ({ g, members: (expandGroup(g) ?? []).filter(exists) }))
    .sort((a, b) => b.members.length - a.members.length);
  for (const { g, members } of groups) {
    if (members.length > 1 && members.every((m) => names.has(m))) {
      out.push(g);
      for (const m of members) left.delete(m);
    }
  }
  return [...out, ...[...left].sort()];
}

/**
 * A unit drop-in ([Service] section). systemd filters by syscall only: argument rules are widened to the
 * whole call (allow) or dropped (deny), each with a comment and a warning.
 */
export function exportSystemd(policy: Policy): ExportResult {
  const warnings: Diagnostic[] = [];
  const comments: string[] = [];
  const warn = (m: string) => {
    warnings.push({ severity: "warning", message: `systemd: ${m}` });
    comments.push(`# sysfence: ${m}`);
  };
  if (policy.flags?.includes("log"))
    warn(
      "flags: [log] is not carried: systemd has no setting for SECCOMP_FILTER_FLAG_LOG; errno answers are not logged",
    );
  const plans = planSyscalls(policy);
  const lines: string[] = [];
  const def = policy.defaultAction;
  const errnoText = (n: number | undefined) => errnoName(n ?? 1) ?? String(n);
  if (def.kind === "allow" || def.kind === "log") {
    // deny-list over default allow (or log-only)
    const deny: string[] = [];
    const logged: string[] = [];
    for (const p of plans) {
      for (const r of p.conditional)
        if (r.action.kind !== "allow")
          warn(
            `'${formatAction(r.action)}' for ${p.name} only when ${r.conditions.map((c) => c.text ?? `arg${c.arg}`).join(" && ")} cannot be expressed; that denial is NOT enforced`,
          );
      const a = p.fallback;
      if (!a || a.kind === "allow") continue;
      if (a.kind === "errno") deny.push(`${p.name}:${errnoText(a.data)}`);
      else if (a.kind === "log") logged.push(p.name);
      else {
        if (a.kind !== "kill-process")
          warn(`'${formatAction(a)}' for ${p.name} becomes systemd's kill (SIGSYS)`);
        deny.push(p.name);
      }
    }
    if (deny.length) lines.push(`SystemCallFilter=~${deny.join(" ")}`);
    if (def.kind === "log") {
      // log mode: every call the policy does not allow is logged. SystemCallLog= is a filter of its own
      // (systemd.exec(5)); "~LIST" logs everything but LIST. An empty assignment would reset it.
      const allowed = new Set(
        plans
          .filter((p) => p.fallback?.kind === "allow" || p.conditional.some((r) => r.action.kind === "allow"))
          .map((p) => p.name),
      );
      lines.push(
        allowed.size ? `SystemCallLog=~${compress(allowed, policy).join(" ")}` : "SystemCallLog=@known",
      );
    } else if (logged.length) lines.push(`SystemCallLog=${logged.join(" ")}`);
  } else {
    const allowed = new Set<string>();
    const errnoOverrides: string[] = [];
    for (const p of plans) {
      const condAllow = p.conditional.filter((r) => r.action.kind === "allow");
      if (condAllow.length) {
        warn(
          `${p.name} is allowed only when ${condAllow.map((r) => r.conditions.map((c) => c.text ?? `arg${c.arg}`).join(" && ")).join(" or ")}; systemd cannot filter arguments, so the whole call is allowed`,
        );
        allowed.add(p.name);
      }
      const a = p.fallback;
      if (!a) continue;
      if (a.kind === "allow" || a.kind === "log") allowed.add(p.name);
      else if (a.kind === "errno" && !(def.kind === "errno" && def.data === a.data))
        errnoOverrides.push(`${p.name}:${errnoText(a.data)}`);
      else if (a.kind !== "errno" && a.kind !== def.kind)
        warn(`'${formatAction(a)}' for ${p.name} becomes the default '${formatAction(def)}'`);
    }
    lines.push(`SystemCallFilter=${compress(allowed, policy).join(" ")}`);
    if (errnoOverrides.length) lines.push(`SystemCallFilter=~${errnoOverrides.join(" ")}`);
    if (def.kind === "errno") lines.push(`SystemCallErrorNumber=${errnoText(def.data)}`);
    else if (def.kind !== "kill-process")
      warn(`default '${formatAction(def)}' becomes systemd's kill (SIGSYS)`);
  }
  lines.push(`SystemCallArchitectures=${policy.architectures.map((a) => SYSTEMD_ARCH[a]).join(" ")}`);
  lines.push("NoNewPrivileges=yes");
  const text = `# Generated by sysfence from ${policy.source ?? "a policy"}.
# Install as /etc/systemd/system/UNIT.service.d/sysfence.conf, then: systemctl daemon-reload && systemctl restart UNIT
${comments.join("\n")}${comments.length ? "\n" : ""}[Service]
${lines.join("\n")}
`;
  return { text, warnings };
}
