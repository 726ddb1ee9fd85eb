import { stringify } from "yaml";
import { formatAction } from "./actions.js";
import { archDependentNames, formatCondition } from "./conditions.js";
import { landlockYamlLines } from "./landlock-yaml.js";
import type { Condition, Policy } from "./model.js";

/** Writes a policy in sysfence's YAML format (what `import` produces). */
export function policyToYaml(policy: Policy, header?: string): string {
  const doc = {
    version: 1,
    defaultAction: formatAction(policy.defaultAction),
    badArchAction: formatAction(policy.badArchAction),
    architectures: policy.architectures,
    ...(policy.flags?.length ? { flags: policy.flags } : {}),
    ...(policy.analysis ? { analysis: policy.analysis } : {}),
    ...(policy.phase ? { phase: policy.phase } : {}),
    syscalls: policy.rules.map((r) => ({
      names: r.names,
      action: formatAction(r.action),
      ...(r.conditions.length ? { args: r.conditions.map((c) => conditionText(c, policy)) } : {}),
      ...(r.tier ? { tier: r.tier } : {}),
      ...(r.final ? { final: formatAction(r.final) } : {}),
      ...(r.needs ? { needs: r.needs } : {}),
      ...(r.comment ? { comment: r.comment } : {}),
    })),
  };
  // the landlock section goes before syscalls, in the same lines generate writes
  const text = stringify(doc, { lineWidth: 0, flowCollectionPadding: false });
  const landlock = policy.landlock ? `${landlockYamlLines(policy.landlock).join("\n")}\n` : "";
  const at = text.search(/^syscalls:/m);
  return `${
    header
      ? `${header
          .split("\n")
          .map((l) => `# ${l}`)
          .join("\n")}\n`
      : ""
  }${text.slice(0, at)}${landlock}${text.slice(at)}`;
}

/**
 * A condition as written back: its canonical numbers, or its own text where a name in it means another
 * value on one of the policy's architectures (the number would be x86_64's everywhere).
 */
function conditionText(c: Condition, policy: Policy): string {
  return c.text && archDependentNames(c, policy.architectures).length ? c.text : formatCondition(c);
}
