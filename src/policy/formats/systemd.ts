import { SysfenceError } from "../../errors.js";
import type { ArchName } from "../../syscalls/arches.js";
import { importSystemd } from "../systemd-import.js";
import type { ParsedPolicy } from "./parsed.js";

// systemd unit files and drop-ins (systemd.syntax(7)): [Section] headers, Key=Value lines, # and ;
// comments. Only the SystemCall*= settings matter; the structure decides the format, not one line.

const SECTION = /^\[[^\]]+\]$/;
const ASSIGNMENT = /^[A-Za-z][A-Za-z0-9_-]*\s*=/;
const SETTING = /^SystemCall(Filter|ErrorNumber|Architectures|Log)\s*=/;

/** True when every line is a section header, an assignment, a comment or blank, and a SystemCall*= setting is present. */
export function isSystemdUnit(text: string): boolean {
  let settings = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (SECTION.test(line)) continue;
    if (!ASSIGNMENT.test(line)) return false;
    if (SETTING.test(line)) settings++;
  }
  return settings > 0;
}

/** Reads the SystemCall*= settings of a unit or drop-in. */
export function readSystemdPolicy(text: string, file: string, arch?: ArchName): ParsedPolicy {
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    if (SETTING.test(raw.trim()) && raw.trimEnd().endsWith("\\"))
      throw new SysfenceError(
        "E_POLICY_INVALID",
        `${file}:${i + 1}:${raw.length}: error: a SystemCall setting continued onto the next line ('\\' at the end) is not read by sysfence — write it on one line, or as several lines of the same setting (they add up).`,
      );
  });
  const normalised = lines.map((l) => l.replace(/^(\s*SystemCall\w+)\s*=\s*/, "$1=")).join("\n");
  const { policy, warnings } = importSystemd(normalised, file, arch);
  return { policy, warnings, format: "systemd" };
}
