import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Action } from "../../src/policy/model.js";
import { errnoValue } from "../../src/syscalls/constants.js";
import { AS_NOBODY } from "./cli.js";

// systemd's own reading of unit files, as the oracle for sysfence's systemd reader:
//  * `systemd-analyze syscall-filter` prints every group with its direct members (nested groups as @name);
//  * `systemd --test --system` (run as an unprivileged user: systemd refuses test mode as root) loads units
//    through the manager's own parser and dumps each ExecContext, including "SystemCallFilter: [~]name[:errno] …"
//    (the list after group expansion, names as this machine's libseccomp resolves them) and
//    "SystemCallErrorNumber: …", with its "file:line: … ignoring" warnings.

export const SYSTEMD_BINARY = "/lib/systemd/systemd";

/** True when systemd-analyze runs here. */
export function haveSystemdAnalyze(): boolean {
  return spawnSync("systemd-analyze", ["--version"]).status === 0;
}

/** True when the systemd manager binary can be run in --test mode (as nobody, via setpriv). */
export function haveSystemdTest(): boolean {
  return existsSync(SYSTEMD_BINARY) && spawnSync("setpriv", ["--version"]).status === 0;
}

/** Every group `systemd-analyze syscall-filter` prints, with its direct members (nested groups as @name). */
export function liveGroups(): Record<string, string[]> {
  const out = execFileSync("systemd-analyze", ["syscall-filter", "--no-pager"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const groups: Record<string, string[]> = {};
  let current: string[] | undefined;
  for (const line of out.split("\n")) {
    if (line.startsWith("@")) groups[line.trim()] = current = [];
    else if (current && line.trim() && !line.trim().startsWith("#")) current.push(line.trim());
    else if (line.startsWith("#")) current = undefined; // the "Ungrouped System Calls" trailer
  }
  return groups;
}

/** A group's members with nested groups expanded, from a table of direct members. */
export function expandWith(
  groups: Record<string, readonly string[]>,
  g: string,
  seen = new Set<string>(),
): Set<string> {
  const out = new Set<string>();
  seen.add(g);
  for (const m of groups[g] ?? []) {
    if (!m.startsWith("@")) out.add(m);
    else if (!seen.has(m)) for (const x of expandWith(groups, m, seen)) out.add(x);
  }
  return out;
}

export type OracleEntry = number | "kill" | undefined;

/** What systemd read from one unit. */
export interface SystemdReading {
  /** undefined: no SystemCallFilter (or reset). */
  mode?: "allow" | "deny";
  entries: Map<string, OracleEntry>;
  /** SystemCallErrorNumber: undefined is kill. */
  errno?: number;
  /** systemd's warnings for this unit file ("file:line: … ignoring: …"). */
  warnings: string[];
}

function errnoWord(w: string): OracleEntry {
  if (w === "kill") return "kill";
  return /^\d+$/.test(w) ? Number(w) : errnoValue(w);
}

/**
 * Loads each unit text (its SystemCall* lines; a [Service] header and ExecStart= are added) with systemd's
 * own parser, all in one `systemd --test` run, and returns what systemd kept for each.
 */
export function systemdReadings(units: string[]): SystemdReading[] {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-sd-oracle-"));
  try {
    chmodSync(dir, 0o755);
    const names = units.map((_, i) => `sf${i}.service`);
    units.forEach((text, i) => {
      writeFileSync(
        join(dir, names[i]),
        `[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/true\n${text}\n`,
        { mode: 0o644 },
      );
    });
    writeFileSync(
      join(dir, "sysfence-oracle.target"),
      `[Unit]\nDefaultDependencies=no\nWants=${names.join(" ")}\n`,
      { mode: 0o644 },
    );
    const r = spawnSync(
      AS_NOBODY[0],
      [
        ...AS_NOBODY.slice(1),
        SYSTEMD_BINARY,
        "--test",
        "--system",
        "--unit=sysfence-oracle.target",
        "--log-target=console",
        "--log-level=notice",
      ],
      {
        encoding: "utf8",
        maxBuffer: 1 << 30,
        env: { PATH: process.env.PATH, HOME: dir, SYSTEMD_UNIT_PATH: dir },
      },
    );
    if (r.status !== 0) throw new Error(`systemd --test failed (${r.status}): ${r.stderr}${r.stdout}`);
    const readings: SystemdReading[] = units.map(() => ({ entries: new Map(), warnings: [] }));
    let cur: SystemdReading | undefined;
    for (const line of `${r.stdout}\n${r.stderr}`.split("\n")) {
      const warn = /\/sf(\d+)\.service:\d+: /.exec(line);
      if (warn) readings[Number(warn[1])].warnings.push(line);
      const unit = /^\s*-> Unit (\S+):$/.exec(line);
      if (unit) {
        const m = /^sf(\d+)\.service$/.exec(unit[1]);
        cur = m ? readings[Number(m[1])] : undefined;
        continue;
      }
      if (!cur) continue;
      const filter = /^\s*SystemCallFilter: (.*)$/.exec(line);
      if (filter) {
        let v = filter[1];
        cur.mode = v.startsWith("~") ? "deny" : "allow";
        if (v.startsWith("~")) v = v.slice(1);
        for (const w of v.split(/\s+/).filter(Boolean)) {
          const c = w.indexOf(":");
          cur.entries.set(c < 0 ? w : w.slice(0, c), c < 0 ? undefined : errnoWord(w.slice(c + 1)));
        }
      }
      const errno = /^\s*SystemCallErrorNumber: (\S+)$/.exec(line);
      if (errno) {
        const e = errnoWord(errno[1]);
        cur.errno = e === "kill" ? undefined : e;
      }
    }
    return readings;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The answer systemd's filter gives a call, from what systemd read. */
export function systemdAnswer(r: SystemdReading, name: string): Action {
  const negative: Action =
    r.errno === undefined ? { kind: "kill-process" } : { kind: "errno", data: r.errno };
  const of = (e: OracleEntry, none: Action): Action =>
    e === undefined ? none : e === "kill" ? { kind: "kill-process" } : { kind: "errno", data: e };
  if (r.mode === undefined) return { kind: "allow" };
  const listed = r.entries.has(name);
  if (r.mode === "allow") return listed ? of(r.entries.get(name), { kind: "allow" }) : negative;
  return listed ? of(r.entries.get(name), negative) : { kind: "allow" };
}

/**
 * The x86_64 names this machine's libseccomp resolves, found by asking systemd to deny every name: systemd
 * drops a name libseccomp does not know (with a debug message), so a unit naming it means nothing there.
 */
export function resolvableNames(names: readonly string[]): Set<string> {
  const [r] = systemdReadings([`SystemCallFilter=~${names.join(" ")}`]);
  return new Set(r.entries.keys());
}
