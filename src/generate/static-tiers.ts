// The static tiers of a generated policy: rules for the calls static analysis finds reachable but no
// recording saw, by class (classes.ts).
import { parseCondition } from "../policy/conditions.js";
import type { Action, Rule } from "../policy/model.js";
import type { ArchName } from "../syscalls/arches.js";
import { syscallNumber } from "../syscalls/table.js";
import { type ConfinedBy, classOf, STATIC_BANS } from "./classes.js";
import { ORDINARY } from "./ordinary.js";
import { describe } from "./rule-text.js";
import type { SeenCall } from "./select.js";
import { type Alternative, ordinaryAlternatives } from "./tighten.js";

/**
 * Rules for reachable calls no recording saw, by class (classes.ts): low allowed (with argument bans and
 * ordinary values); confined allowed where the policy's Landlock layer confines them, else — and on a
 * kernel or engine without that layer — the --unseen answer; seccomp-only and privilege the --unseen answer.
 */
export function tierRules(
  reachable: Map<string, string[]>,
  arch: ArchName,
  seen: Map<string, SeenCall>,
  answered: Set<string>,
  allowRules: Rule[],
  unseen: "errno" | "log" | "kill",
  layers: ReadonlySet<ConfinedBy>,
): Rule[] {
  const have = new Set([...allowRules.flatMap((r) => r.names), ...answered, ...seen.keys()]);
  const out: Rule[] = [];
  const eperm: Action = { kind: "errno", data: 1 };
  const unseenAction: Action = unseen === "log" ? { kind: "log" } : eperm;
  for (const name of [...reachable.keys()].sort()) {
    if (have.has(name) || syscallNumber(arch, name) === undefined) continue;
    const via = reachable.get(name) ?? [];
    const from = via.length ? `reachable from ${via.slice(0, 2).join(", ")}` : "reachable";
    const c = classOf(name);
    const layer = c.confinedBy && layers.has(c.confinedBy) ? c.confinedBy : undefined;
    if (c.cls === "low" || layer) {
      const alternatives = staticAlternatives(name, arch);
      const needs = layer && layer !== "ipc" ? NEEDS[layer] : layer ? "landlock" : undefined;
      for (const [i, conds] of alternatives.entries())
        out.push({
          names: [name],
          action: { kind: "allow" },
          conditions: conds,
          tier: layer ? "static-confined" : "static-low",
          ...(needs ? { needs } : {}),
          comment:
            i > 0
              ? `${name}: another allowed combination (see the first ${name} rule)`
              : `${describe(name)} — not seen; ${from} (static analysis; ${c.cls}: ${c.why})${conds.length ? `; ${ORDINARY[name] ? `ordinary values: ${ORDINARY[name].why}` : `${conds.map((x) => x.text).join(" && ")} (no new namespaces / executable memory)`}` : ""}${needs ? `; allowed only where the Landlock layer (${needs}) is enforced — otherwise the next rule` : ""}`,
        });
      // without the layer (an old kernel, lockdown() beside other threads, an export): the seccomp-only answer
      if (!needs) continue;
    }
    if (unseen === "kill") continue;
    out.push({
      names: [name],
      action: unseenAction,
      ...(unseen === "log" ? { final: eperm } : {}),
      conditions: [],
      tier: "static-high",
      comment: `${describe(name)} — not seen; ${from} (static analysis; ${c.cls}: ${c.why}${c.confinedBy && !layer ? "; the policy has no Landlock layer to confine it" : ""})${layer ? " — where the Landlock layer is not enforced" : ""}: ${unseen === "log" ? "logged and allowed during burn-in, EPERM after generate --finalize" : "EPERM, so the program meets an error path and injected code gets nothing"}`,
    });
  }
  return out;
}

/** Which `needs:` a confined call's rule carries, by the layer that confines it. */
const NEEDS: Record<Exclude<ConfinedBy, "ipc">, NonNullable<Rule["needs"]>> = {
  "landlock-fs": "landlock",
  "landlock-tcp": "landlock-tcp",
  "landlock-signal": "landlock-signal",
};

/** The argument rules of a statically allowed call: its bans, or its ordinary values; [[]] when neither. */
function staticAlternatives(name: string, arch: ArchName): Alternative[] {
  const bans = STATIC_BANS[name];
  if (bans) return [bans.map((b) => ({ ...parseCondition(b), text: b }))];
  const ordinary = ordinaryAlternatives(name, arch);
  return ordinary.length ? ordinary : [[]];
}
