import { decodeActionValue } from "../abi/action.js";
import { formatAction } from "../policy/actions.js";
import type { Action, Policy, Rule } from "../policy/model.js";
import { type ArchName, archByAudit, X32_SYSCALL_BIT } from "../syscalls/arches.js";
import { errnoName } from "../syscalls/constants.js";
import { expandGroup } from "../syscalls/groups.js";
import { syscallName } from "../syscalls/table.js";

/** One SECCOMP audit record (type 1326), decoded. */
export interface SeccompRecord {
  /** Seconds since the epoch, from audit(SECONDS.MILLIS:SERIAL). */
  time?: number;
  serial?: number;
  pid?: number;
  uid?: number;
  comm?: string;
  exe?: string;
  /** AUDIT_ARCH value and its name (x32 when the x32 bit is set). */
  audit: number;
  arch?: ArchName;
  nr: number;
  syscall?: string;
  /**
   * The filter's return value (code=…) and the action it means. The kernel writes only the action part
   * (seccomp_log gets ret & SECCOMP_RET_ACTION_FULL): an errno record's code is 0x50000 whatever errno the
   * filter gave, so its action has no data (not "errno 0").
   */
  code: number;
  action: Action;
  signal?: number;
  compat?: boolean;
}

/**
 * True when a record comes from the program `exe` as a person names it: a path (exactly), a file name (the
 * record's exe ends with /NAME), or — only when the record has no exe — the comm. The comm is whatever the
 * process set with prctl(PR_SET_NAME), so it never vouches for a record that names its executable.
 */
export function isFromProgram(r: SeccompRecord, exe: string): boolean {
  return r.exe !== undefined ? exeMatches(r.exe, exe) : r.comm === exe;
}

/** True when the executable `path` is the program `name`: that path, or (a name without /) its file name. */
export function exeMatches(path: string, name: string): boolean {
  return path === name || (!name.includes("/") && path.endsWith(`/${name}`));
}

/** A kernel log line telling that audit messages were dropped ("kauditd_printk_skb: N callbacks suppressed"). */
export function suppressedCount(line: string): number {
  const m = /kauditd_printk_skb: (\d+) callbacks suppressed|audit: printk limit exceeded/.exec(line);
  return m ? Number(m[1] ?? 1) : 0;
}

/** A SECCOMP line whose arch, syscall or code is not a number: it proves nothing and must not be read as one. */
export interface MalformedRecord {
  malformed: string;
}

const HEX32 = /^(?:0x)?[0-9a-f]{1,8}$/i;
const INT32 = /^-?\d{1,10}$/;

/** The first of arch, syscall and code that is not the number the kernel writes, described; else undefined. */
function malformedField(arch: string, nr: string, code: string): string | undefined {
  if (!HEX32.test(arch)) return `arch=${arch.slice(0, 40)} is not a hexadecimal AUDIT_ARCH value`;
  if (!INT32.test(nr) || Number(nr) > 0xffffffff || Number(nr) < -0x80000000)
    return `syscall=${nr.slice(0, 40)} is not a syscall number`;
  const isCode = /^0x[0-9a-f]{1,8}$/i.test(code) || (/^\d{1,10}$/.test(code) && Number(code) <= 0xffffffff);
  if (!isCode) return `code=${code.slice(0, 40)} is not a filter return value (0x…)`;
  return undefined;
}

/**
 * Decodes a SECCOMP record from any of the places the kernel's audit records end up: dmesg
 * ("audit: type=1326 audit(…): …"), journald (`kernel: audit: type=1326 …`), or auditd's audit.log
 * ("type=SECCOMP msg=audit(…): …", enriched or raw). Undefined for any other line; `{ malformed }` for a
 * SECCOMP line whose arch, syscall or code is missing or not a number (`code=banana` is not a kill).
 */
export function decodeSeccompLine(line: string): SeccompRecord | MalformedRecord | undefined {
  const at = line.search(/type=(?:1326|SECCOMP)\b/);
  if (at < 0) return undefined;
  const body = line.slice(at).replace(/\x1d.*$/, "");
  const fields = recordFields(body);
  const stamp = /audit\((\d+)\.(\d+):(\d+)\)/.exec(body);
  const num = (k: string) => {
    const v = fields.get(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const text = (k: string) => {
    const v = fields.get(k);
    if (v === undefined || v === "(null)" || v === "?") return undefined;
    if (v.startsWith('"')) return v.slice(1, -1);
    // unquoted values are hex-encoded when they contain special characters (auditd convention)
    return /^[0-9A-F]+$/.test(v) && v.length % 2 === 0 ? Buffer.from(v, "hex").toString("utf8") : v;
  };
  const archText = fields.get("arch");
  const nrText = fields.get("syscall");
  const codeText = fields.get("code");
  if (archText === undefined || nrText === undefined || codeText === undefined) {
    const missing = [
      archText === undefined && "arch",
      nrText === undefined && "syscall",
      codeText === undefined && "code",
    ].filter(Boolean);
    return { malformed: `no ${missing.join(", ")} field` };
  }
  const bad = malformedField(archText, nrText, codeText);
  if (bad) return { malformed: bad };
  const audit = Number.parseInt(archText, 16) >>> 0;
  const nr = Number(nrText) >>> 0;
  const code = Number(codeText) >>> 0;
  let arch = archByAudit(audit)?.name;
  if (arch === "x86_64" && nr >= X32_SYSCALL_BIT && nr !== 0xffffffff) arch = "x32";
  const syscall = arch ? (syscallName(arch, nr) ?? undefined) : undefined;
  return {
    time: stamp ? Number(`${stamp[1]}.${stamp[2]}`) : undefined,
    serial: stamp ? Number(stamp[3]) : undefined,
    pid: num("pid"),
    uid: num("uid"),
    comm: text("comm"),
    exe: text("exe"),
    audit,
    arch,
    nr,
    syscall,
    code,
    action: recordAction(code),
    signal: num("sig") || undefined,
    compat: fields.get("compat") === "1",
  };
}

/** The action a record's code means; an errno code without data carries none (the kernel drops it). */
export function recordAction(code: number): Action {
  const a = decodeActionValue(code);
  return a.kind === "errno" && !a.data ? { kind: "errno" } : a;
}

/** A record's action as text: "errno" when the errno is unknown (never "errno 0"). */
export function recordActionText(a: Action): string {
  return a.kind === "errno" && a.data === undefined ? "errno" : formatAction(a);
}

/**
 * The errnos `policy` can answer `syscall` on `arch` with (the rules that decide it — those naming it, else
 * those reaching it through a @group — and the default action unless one of them is unconditional), in
 * rule order; empty when it answers no errno there.
 */
export function policyErrnos(policy: Policy, arch: string, syscall: string): number[] {
  const actions: Action[] = [];
  if (!policy.architectures.includes(arch as ArchName)) actions.push(policy.badArchAction);
  else {
    let rules: Rule[] = policy.rules.filter((r) => r.names.includes(syscall));
    if (rules.length === 0)
      rules = policy.rules.filter((r) =>
        r.names.some((n) => n.startsWith("@") && (expandGroup(n) ?? []).includes(syscall)),
      );
    actions.push(...rules.map((r) => r.action));
    if (!rules.some((r) => r.conditions.length === 0)) actions.push(policy.defaultAction);
  }
  return [...new Set(actions.filter((a) => a.kind === "errno").map((a) => a.data ?? 0))];
}

/**
 * An errno record's action as `policy` gives it: "errno EPERM" (or "errno EPERM or EACCES" where its
 * rules for the call give several); "errno" when the policy answers the call with no errno (another
 * filter's answer) or for other actions their text.
 */
export function answerText(a: Action, policy: Policy | undefined, arch: string, syscall: string): string {
  if (!policy || a.kind !== "errno" || a.data !== undefined) return recordActionText(a);
  const errnos = policyErrnos(policy, arch, syscall);
  return errnos.length ? `errno ${errnos.map((e) => errnoName(e) ?? String(e)).join(" or ")}` : "errno";
}

/** A SECCOMP record from a line, or undefined for any other line and for a malformed record. */
export function parseSeccompRecord(line: string): SeccompRecord | undefined {
  const r = decodeSeccompLine(line);
  return r === undefined || "malformed" in r ? undefined : r;
}

const isWordChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isSpace = (c: number) => c === 32 || c === 9 || c === 13 || c === 10;

/**
 * The key=value fields of a record (the first of each key), in one pass: a value is a "quoted string"
 * (backslash escapes) or runs to the next blank. Linear in the line, however hostile: a regular expression
 * here rescanned long runs of word characters from every position (quadratic on a 200 MB line).
 */
export function recordFields(body: string): Map<string, string> {
  const fields = new Map<string, string>();
  const n = body.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(body.charCodeAt(i))) i++;
    const keyStart = i;
    while (i < n && isWordChar(body.charCodeAt(i))) i++;
    if (i > keyStart && body.charCodeAt(i) === 61 /* = */) {
      const key = body.slice(keyStart, i);
      i++;
      const valueStart = i;
      if (body.charCodeAt(i) === 34 /* " */) {
        let j = i + 1;
        while (j < n && body.charCodeAt(j) !== 34) j += body.charCodeAt(j) === 92 /* \ */ ? 2 : 1;
        if (j < n) {
          if (!fields.has(key)) fields.set(key, body.slice(valueStart, j + 1));
          i = j + 1;
          continue;
        }
        // an unterminated quote: the value runs to the next blank, as an unquoted one would
      }
      while (i < n && !isSpace(body.charCodeAt(i))) i++;
      if (!fields.has(key)) fields.set(key, body.slice(valueStart, i));
      continue;
    }
    // not a field: skip this token
    while (i < n && !isSpace(body.charCodeAt(i))) i++;
  }
  return fields;
}

/** Calls grouped by program and syscall, with counts and first/last seen. */
export interface Violation {
  exe: string;
  arch: string;
  syscall: string;
  nr: number;
  action: string;
  count: number;
  pids: number[];
  firstSeen?: number;
  lastSeen?: number;
}

/**
 * Groups records per executable, arch, syscall and action. With the `policy` the records came from, an
 * errno record's action names the errno it answers (the record itself does not).
 */
export function groupRecords(records: readonly SeccompRecord[], policy?: Policy): Violation[] {
  const map = new Map<string, Violation>();
  for (const r of records) {
    const exe = r.exe ?? r.comm ?? "?";
    const arch = r.arch ?? `0x${r.audit.toString(16)}`;
    const syscall = r.syscall ?? `nr ${r.nr}`;
    const action = answerText(r.action, policy, arch, syscall);
    const key = `${exe}\0${arch}\0${syscall}\0${action}`;
    let v = map.get(key);
    if (!v) {
      v = { exe, arch, syscall, nr: r.nr, action, count: 0, pids: [], firstSeen: r.time, lastSeen: r.time };
      map.set(key, v);
    }
    v.count++;
    if (r.pid !== undefined && !v.pids.includes(r.pid) && v.pids.length < 20) v.pids.push(r.pid);
    if (r.time !== undefined) {
      v.firstSeen = Math.min(v.firstSeen ?? r.time, r.time);
      v.lastSeen = Math.max(v.lastSeen ?? r.time, r.time);
    }
  }
  return [...map.values()].sort((a, b) => a.exe.localeCompare(b.exe) || b.count - a.count);
}
