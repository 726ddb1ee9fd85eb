import type { LandlockPath, LandlockPort, LandlockSection } from "./model.js";
import { yamlQuoted } from "./yaml-quote.js";

// The `landlock:` section as YAML lines, for the policy writers (write.ts's policyToYaml and generate's
// policyText). Lists are one flow line each; entries with a comment are { path, comment } mappings.

const PLAIN = /^[A-Za-z0-9_/.+@%=~-]+$/;
/** A scalar as plain YAML where that reads back the same, double-quoted (JSON) otherwise. */
const scalar = (s: string) => (PLAIN.test(s) && !/^[-?]/.test(s) ? s : yamlQuoted(s));

function entry(e: LandlockPath | LandlockPort): string {
  const value = "path" in e ? `path: ${scalar(e.path)}` : `port: ${e.port}`;
  if (e.comment) return `{${value}, comment: ${yamlQuoted(e.comment)}}`;
  return "path" in e ? scalar(e.path) : String(e.port);
}

/** The section as YAML lines (starting with "landlock:"), indented by two spaces per level. */
export function landlockYamlLines(section: LandlockSection): string[] {
  const out = ["landlock:"];
  const list = (key: string, items: readonly (LandlockPath | LandlockPort)[] | undefined) => {
    if (!items) return;
    if (items.some((e) => e.comment)) {
      out.push(`  ${key}:`);
      for (const e of items) out.push(`    - ${entry(e)}`);
    } else out.push(`  ${key}: [${items.map(entry).join(", ")}]`);
  };
  if (section.comment) out.push(`  comment: ${yamlQuoted(section.comment)}`);
  list("read", section.read.length ? section.read : undefined);
  list("write", section.write.length ? section.write : undefined);
  list("execute", section.execute.length ? section.execute : undefined);
  list("devices", section.devices.length ? section.devices : undefined);
  list("bindTcp", section.bindTcp);
  list("connectTcp", section.connectTcp);
  if (section.scope.length) out.push(`  scope: [${section.scope.join(", ")}]`);
  return out;
}
