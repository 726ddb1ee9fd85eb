import { type Diagnostic, throwIfErrors } from "../errors.js";
import { type ArchName, findArch, nativeArch } from "../syscalls/arches.js";
import { errnoValue } from "../syscalls/constants.js";
import { isGroup } from "../syscalls/groups.js";
import { isKnownSyscall } from "../syscalls/table.js";
import type { Action, Policy, Rule } from "./model.js";

const SYSTEMD_ARCHES: Record<string, string> = {
  "x86-64": "x86_64",
  x86: "i386",
  x32: "x32",
  arm64: "aarch64",
  arm: "arm",
  riscv64: "riscv64",
  "ppc64-le": "ppc64le",
  s390x: "s390x",
};

/**
 * Reads SystemCallFilter=, SystemCallErrorNumber=, SystemCallArchitectures= and SystemCallLog= as systemd
 * does: the first filter line picks allow-list or deny-list (~) mode, later lines add or remove, an empty
 * assignment resets, NAME:ERRNO sets a per-call errno. In allow-list mode @default is implied, as in systemd.
 */
export function importSystemd(text: string, file = "<unit>"): Policy {
  const diags: Diagnostic[] = [];
  let mode: "allow" | "deny" | undefined;
  const allowed = new Set<string>();
  const denied = new Map<string, number | undefined>();
  let errno: number | undefined;
  const arches: ArchName[] = [];
  let logged: string[] | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    const m = /^(SystemCallFilter|SystemCallErrorNumber|SystemCallArchitectures|SystemCallLog)=(.*)$/.exec(
      line,
    );
    if (!m) return;
    const [, key, value] = m;
    const loc = { file, line: i + 1, column: 1 };
    if (key === "SystemCallErrorNumber") {
      errno = /^\d+$/.test(value) ? Number(value) : errnoValue(value);
      if (errno === undefined && value !== "kill")
        diags.push({ severity: "error", message: `unknown errno '${value}'`, location: loc });
      return;
    }
    if (key === "SystemCallArchitectures") {
      for (const a of value.split(/\s+/).filter(Boolean)) {
        const name = a === "native" ? nativeArch() : (SYSTEMD_ARCHES[a] ?? findArch(a)?.name);
        if (!name) diags.push({ severity: "error", message: `unknown architecture '${a}'`, location: loc });
        else if (!arches.includes(name as ArchName)) arches.push(name as ArchName);
      }
      return;
    }
    if (key === "SystemCallLog") {
      logged = value.split(/\s+/).filter(Boolean);
      return;
    }
    if (value.trim() === "") {
      mode = undefined;
      allowed.clear();
      denied.clear();
      return;
    }
    const negate = value.startsWith("~");
    const items = (negate ? value.slice(1) : value).split(/\s+/).filter(Boolean);
    mode ??= negate ? "deny" : "allow";
    for (const item of items) {
      const [name, e] = item.split(":");
      if (!(name.startsWith("@") ? isGroup(name) : isKnownSyscall(name))) {
        diags.push({ severity: "error", message: `unknown system call or group '${name}'`, location: loc });
        continue;
      }
      const itemErrno = e === undefined ? undefined : /^\d+$/.test(e) ? Number(e) : errnoValue(e);
      if (mode === "allow") {
        if (negate) {
          allowed.delete(name);
          if (itemErrno !== undefined) denied.set(name, itemErrno);
        } else allowed.add(name);
      } else if (negate) denied.set(name, itemErrno);
      else denied.delete(name);
    }
  });
  throwIfErrors(diags, file);
  const kill: Action = { kind: "kill-process" };
  const denyAction = errno === undefined ? kill : { kind: "errno" as const, data: errno };
  const rules: Rule[] = [];
  let defaultAction: Action;
  if (mode === "deny") {
    defaultAction = { kind: "allow" };
    const byAction = new Map<string, { action: Action; names: string[] }>();
    for (const [name, e] of denied) {
      const action: Action = e === undefined ? denyAction : { kind: "errno", data: e };
      const key = JSON.stringify(action);
      const g = byAction.get(key) ?? { action, names: [] };
      g.names.push(name);
      byAction.set(key, g);
    }
    for (const g of byAction.values()) rules.push({ names: g.names, action: g.action, conditions: [] });
  } else if (mode === "allow") {
    defaultAction = denyAction;
    rules.push({ names: ["@default", ...allowed], action: { kind: "allow" }, conditions: [] });
    for (const [name, e] of denied)
      rules.push({ names: [name], action: { kind: "errno", data: e ?? errno ?? 1 }, conditions: [] });
  } else {
    defaultAction = { kind: "allow" };
  }
  if (logged?.length) {
    const neg = logged[0].startsWith("~");
    if (!neg) rules.push({ names: logged, action: { kind: "log" }, conditions: [] });
  }
  return {
    defaultAction,
    badArchAction: kill,
    architectures: arches.length ? arches : [nativeArch()],
    rules,
    source: file,
  };
}
