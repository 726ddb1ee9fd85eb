// The YAML text of a generated policy: one rule per line group, a comment field on each.
import { formatAction } from "../policy/actions.js";
import { landlockYamlLines } from "../policy/landlock-yaml.js";
import type { Policy } from "../policy/model.js";
import { yamlQuoted } from "../policy/yaml-quote.js";
import { printable } from "../util/printable.js";

/** YAML text of a generated policy: one rule per line group, a comment field on each. */
export function policyText(policy: Policy, header: string[]): string {
  const q = yamlQuoted;
  // a header line holds recorded text (a command's arguments, file names): a line break in it would end
  // the comment and make the rest YAML; control characters are written as \xNN
  const out: string[] = header.map((l) => `# ${printable(l)}`);
  out.push("version: 1");
  out.push(`defaultAction: ${q(formatAction(policy.defaultAction))}`);
  out.push(`badArchAction: ${q(formatAction(policy.badArchAction))}`);
  out.push(`architectures: [${policy.architectures.join(", ")}]`);
  if (policy.flags?.length) out.push(`flags: [${policy.flags.join(", ")}]`);
  if (policy.phase) out.push(`phase: ${policy.phase}`);
  if (policy.analysis)
    out.push(
      `analysis: {programs: [${policy.analysis.programs.map(q).join(", ")}], unresolved: ${policy.analysis.unresolved}}`,
    );
  if (policy.landlock) out.push(...landlockYamlLines(policy.landlock));
  out.push("syscalls:");
  for (const r of policy.rules) {
    out.push(`  - names: [${r.names.join(", ")}]`);
    out.push(`    action: ${q(formatAction(r.action))}`);
    if (r.conditions.length) out.push(`    args: [${r.conditions.map((c) => q(c.text ?? "")).join(", ")}]`);
    if (r.tier) out.push(`    tier: ${r.tier}`);
    if (r.final) out.push(`    final: ${q(formatAction(r.final))}`);
    if (r.needs) out.push(`    needs: ${r.needs}`);
    if (r.comment) out.push(`    comment: ${q(r.comment)}`);
  }
  return `${out.join("\n")}\n`;
}
