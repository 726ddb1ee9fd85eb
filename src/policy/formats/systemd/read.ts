// Reading systemd unit files and drop-ins (systemd.syntax(7)) as policies: only the SystemCall*= settings
// matter, read as systemd reads them (load-fragment.c, seccomp-util.c).
import { type Diagnostic, type SourceLocation, SysfenceError, throwIfErrors } from "../../../errors.js";
import { type ArchName, findArch, nativeArch } from "../../../syscalls/arches.js";
import { errnoValue } from "../../../syscalls/constants.js";
import { isGroup } from "../../../syscalls/groups.js";
import { isKnownSyscall } from "../../../syscalls/table.js";
import type { Policy } from "../../model.js";
import type { ParsedPolicy } from "../parsed.js";
import { type SystemdEntry, SystemdList, type SystemdSettings, systemdRules } from "./lists.js";
import { archOfSystemdName, ERRNO_MAX, SYSTEMD_SETTINGS } from "./vocab.js";

// systemd unit files and drop-ins (systemd.syntax(7)): [Section] headers, Key=Value lines, # and ;
// comments. Only the SystemCall*= settings matter; the structure decides the format, not one line.

const SECTION = /^\[[^\]]+\]$/;
const ASSIGNMENT = /^[A-Za-z][A-Za-z0-9_-]*\s*=/;
const SETTING = new RegExp(`^(${SYSTEMD_SETTINGS.join("|")})\\s*=`);

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

/** One SystemCall*= assignment: the setting and its value. */
const SETTING_LINE = new RegExp(`^(${SYSTEMD_SETTINGS.join("|")})=(.*)$`);

type Report = (severity: Diagnostic["severity"], message: string) => void;

/**
 * An errno as systemd's parse_errno() reads it: a name (any case) or a number 0..4095. systemd also takes
 * hex, octal ("010" is 8) and a sign; sysfence asks for plain decimal rather than guess which was meant.
 * Undefined (with an error reported) when systemd would ignore it or sysfence cannot be sure.
 */
function parseErrno(text: string, what: string, report: Report): number | undefined {
  if (/^[A-Za-z]\w*$/.test(text)) {
    const n = errnoValue(text);
    if (n === undefined)
      report(
        "error",
        `${what}: unknown errno name '${text}' — use a name such as EPERM or a number 1..4095.`,
      );
    return n;
  }
  if (!/^(0|[1-9]\d*)$/.test(text)) {
    report(
      "error",
      `${what}: '${text}' is not a plain decimal errno — systemd would read it in its own way (hex, octal, signed); write a name such as EPERM or a decimal number 1..4095.`,
    );
    return undefined;
  }
  const n = Number(text);
  if (n > ERRNO_MAX) {
    report(
      "error",
      `${what}: errno ${text} is above ${ERRNO_MAX} (MAX_ERRNO); systemd ignores it and the kernel would not return it as an error — use a number 1..4095 or a name such as EPERM.`,
    );
    return undefined;
  }
  return n;
}

/** One SystemCallFilter= or SystemCallLog= assignment applied to its list. */
function applyList(list: SystemdList, key: string, value: string, report: Report): void {
  if (value.trim() === "") {
    list.reset();
    return;
  }
  const negate = value.startsWith("~");
  const items = (negate ? value.slice(1) : value).split(/\s+/).filter(Boolean);
  const parsed: { name: string; entry: SystemdEntry }[] = [];
  for (const item of items) {
    const colon = key === "SystemCallFilter" ? item.indexOf(":") : -1;
    const name = colon < 0 ? item : item.slice(0, colon);
    const errnoText = colon < 0 ? undefined : item.slice(colon + 1);
    if (name.startsWith("~")) {
      report(
        "error",
        `'${item}': '~' counts only at the start of a ${key}= value (systemd ignores this word) — put the calls to remove on a ${key}=~… line of their own.`,
      );
      continue;
    }
    if (name.startsWith("@") ? !isGroup(name) : !isKnownSyscall(name)) {
      report(
        "error",
        `unknown system call or group '${name}' (systemd ignores it) — see 'sysfence syscalls' for the names and groups.`,
      );
      continue;
    }
    let entry: SystemdEntry;
    if (errnoText !== undefined) {
      if (!negate) {
        report(
          "error",
          `'${item}': an errno goes only with calls a '~' line denies; systemd ignores '${item}' on a line without '~' — drop ':${errnoText}', or move it to a ${key}=~… line.`,
        );
        continue;
      }
      if (errnoText === "kill") entry = "kill";
      else {
        entry = parseErrno(errnoText, `'${item}'`, report);
        if (entry === undefined) continue;
        if (entry === 0)
          report(
            "warning",
            `'${item}': errno 0 makes the denied call report success without running (systemd takes it as written) — use an errno such as EPERM.`,
          );
      }
    }
    parsed.push({ name, entry });
  }
  list.begin(negate);
  for (const p of parsed) list.apply(p.name, p.entry, negate);
}

/**
 * Reads SystemCallFilter=, SystemCallErrorNumber=, SystemCallArchitectures= and SystemCallLog= as systemd
 * does (load-fragment.c, seccomp-util.c): the first filter line picks allow-list or deny-list (~) mode and
 * an allow-list starts from @default; later lines add or remove, groups expanded to their members (systemd's
 * tables, src/syscalls/generated/groups.ts); an empty assignment resets; ~NAME:ERRNO answers with that errno.
 * Where systemd would ignore a word or value with a warning, sysfence refuses it with its file:line.
 */
export function importSystemd(
  text: string,
  file = "<unit>",
  native: ArchName = nativeArch(),
): { policy: Policy; warnings: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const settings: SystemdSettings = {
    filter: new SystemdList("@default"),
    log: new SystemdList(),
    errno: undefined,
  };
  let arches: ArchName[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    const m = SETTING_LINE.exec(line);
    if (!m) return;
    const [, key, value] = m;
    const location: SourceLocation = { file, line: i + 1, column: 1 };
    const report: Report = (severity, message) =>
      diags.push({ severity, message: `${key}=: ${message}`, location });
    if (key === "SystemCallErrorNumber") {
      const v = value.trim();
      if (v === "" || v === "kill") {
        settings.errno = undefined;
        return;
      }
      const n = parseErrno(v, `'${v}'`, report);
      if (n === 0)
        report(
          "error",
          "errno 0 would make every denied call report success without running; systemd ignores SystemCallErrorNumber=0 (and keeps the previous value) — use an errno such as EPERM, or kill.",
        );
      else if (n !== undefined) settings.errno = n;
      return;
    }
    if (key === "SystemCallArchitectures") {
      if (value.trim() === "") arches = [];
      for (const a of value.split(/\s+/).filter(Boolean)) {
        const name = a === "native" ? native : (archOfSystemdName(a) ?? findArch(a)?.name);
        if (!name) report("error", `unknown architecture '${a}'.`);
        else if (!arches.includes(name as ArchName)) arches.push(name as ArchName);
      }
      return;
    }
    applyList(key === "SystemCallLog" ? settings.log : settings.filter, key, value, report);
  });
  throwIfErrors(diags, file);
  const architectures = arches.length ? arches : [native];
  const { defaultAction, rules } = systemdRules(settings, architectures);
  return {
    policy: { defaultAction, badArchAction: { kind: "kill-process" }, architectures, rules, source: file },
    warnings: diags,
  };
}
