import { SysfenceError } from "../errors.js";
import { findArch } from "../syscalls/arches.js";
import { dictReviver } from "../util/dict.js";
import type { Profile } from "./profile.js";

/** Checks that parsed JSON is a sysfence profile; the error names the file and what is wrong. */
export function checkProfile(value: unknown, file: string): Profile {
  const p = value as Partial<Profile> | null;
  const bad = (what: string) =>
    new SysfenceError(
      "E_USAGE",
      `${file}: not a sysfence profile (${what}); write one with 'sysfence record -o FILE -- CMD'.`,
    );
  if (!p || typeof p !== "object" || Array.isArray(p)) throw bad("not a JSON object");
  if (p.format !== "sysfence-profile")
    throw bad(`"format" is ${JSON.stringify(p.format)}, expected "sysfence-profile"`);
  if (p.version !== 1) throw bad(`version ${JSON.stringify(p.version)}; this sysfence reads version 1`);
  if (!p.syscalls || typeof p.syscalls !== "object") throw bad('no "syscalls" object');
  if (!Array.isArray(p.processes)) throw bad('no "processes" list');
  upgradeEngine(p as Profile & { strace?: unknown }, bad);
  if (typeof p.arch !== "string" || !findArch(p.arch))
    throw bad(`"arch" ${JSON.stringify(p.arch)} is not an architecture sysfence knows`);
  if (!(Array.isArray(p.command) && p.command.every((c) => typeof c === "string")))
    throw bad('"command" is not a list of strings');
  for (const key of ["paths", "signals"] as const) countMap(p[key], key, bad, true);
  if (p.pathsOmitted !== undefined && !(Number.isSafeInteger(p.pathsOmitted) && p.pathsOmitted > 0))
    throw bad('"pathsOmitted" is not a positive whole number');
  accessMap(p.pathAccess, bad);
  checkCounts(p.syscalls, "syscalls", bad);
  p.processes.forEach((proc, i) => {
    const where = `processes[${i}]`;
    if (!proc || typeof proc !== "object") throw bad(`${where} is not an object`);
    if (typeof proc.pid !== "number") throw bad(`${where}.pid is not a number`);
    if (typeof proc.exe !== "string") throw bad(`${where}.exe is not a string`);
    if (
      proc.buildId !== undefined &&
      (typeof proc.buildId !== "string" || !/^[0-9a-f]{2,128}$/.test(proc.buildId))
    )
      throw bad(`${where}.buildId is not a hex build-id`);
    if (proc.elf !== undefined && (typeof proc.elf !== "string" || !proc.elf.startsWith("/")))
      throw bad(`${where}.elf is not an absolute path`);
    if (proc.images !== undefined && !(Number.isSafeInteger(proc.images) && proc.images > 0))
      throw bad(`${where}.images is not a positive whole number (the process images the entry stands for)`);
    countMap(proc.endings, `${where}.endings`, bad, true);
    if (!Array.isArray(proc.threads)) throw bad(`${where}.threads is not a list`);
    proc.threads.forEach((t, j) => {
      if (!t || typeof t !== "object" || typeof t.tid !== "number")
        throw bad(`${where}.threads[${j}] has no numeric tid`);
      checkCounts(t.syscalls, `${where}.threads[${j}].syscalls`, bad);
    });
  });
  return p as Profile;
}

/** Checks a syscall-name → counts map: real names, numeric counts, argument indexes 0 to 5. */
function checkCounts(m: unknown, where: string, bad: (what: string) => SysfenceError): void {
  if (m === null || typeof m !== "object" || Array.isArray(m)) throw bad(`${where} is not an object`);
  // Syscall names index sysfence's own tables: a name such as "__proto__" or "constructor" would reach
  // Object.prototype there. No syscall has such a name.
  for (const [name, counts] of Object.entries(m)) {
    if (name in Object.prototype || !/^[a-z0-9_]+$/.test(name))
      throw bad(`"${name.slice(0, 40)}" in ${where} is not a syscall name`);
    if (counts === null || typeof counts !== "object") throw bad(`${where}.${name} is not an object`);
    const c = counts as Record<string, unknown>;
    for (const k of ["setup", "work", "errors"])
      if (c[k] !== undefined && typeof c[k] !== "number") throw bad(`${where}.${name}.${k} is not a number`);
    for (const key of ["args", "workArgs"]) {
      const byArg = c[key];
      if (byArg === undefined) continue;
      if (byArg === null || typeof byArg !== "object") throw bad(`${where}.${name}.${key} is not an object`);
      for (const [i, values] of Object.entries(byArg)) {
        if (!/^[0-5]$/.test(i))
          throw bad(`${where}.${name}.${key} has "${i.slice(0, 40)}", not an argument index 0 to 5`);
        countMap(values, `${where}.${name}.${key}.${i}`, bad, false);
      }
    }
    // the values of several arguments together (absent in profiles written before them)
    for (const key of ["combos", "workCombos"]) countMap(c[key], `${where}.${name}.${key}`, bad, true);
  }
}

/** Checks a text → count map. */
function countMap(m: unknown, where: string, bad: (what: string) => SysfenceError, optional: boolean): void {
  if (m === undefined && optional) return;
  if (m === null || typeof m !== "object" || Array.isArray(m)) throw bad(`${where} is not an object`);
  for (const [k, n] of Object.entries(m))
    if (typeof n !== "number") throw bad(`${where}["${k.slice(0, 40)}"] is not a count`);
}

/** Checks pathAccess: path → access letters (c, m, r, w, x, each at most once, in that order). */
function accessMap(m: unknown, bad: (what: string) => SysfenceError): void {
  if (m === undefined) return;
  if (m === null || typeof m !== "object" || Array.isArray(m)) throw bad('"pathAccess" is not an object');
  for (const [k, v] of Object.entries(m))
    if (typeof v !== "string" || !/^(?=.)c?m?r?w?x?$/.test(v))
      throw bad(
        `pathAccess["${k.slice(0, 40)}"] is ${JSON.stringify(v).slice(0, 40)}, not access letters (c, m, r, w, x in that order, e.g. "rw")`,
      );
}

/** Parses profile text; a JSON syntax error names file:line:column. */
export function parseProfile(text: string, file: string): Profile {
  let value: unknown;
  try {
    value = JSON.parse(text, dictReviver);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    let where = file;
    if (m) {
      const before = text.slice(0, Number(m[1]));
      const line = before.split("\n").length;
      where = `${file}:${line}:${Number(m[1]) - before.lastIndexOf("\n")}`;
    }
    throw new SysfenceError(
      "E_USAGE",
      `${where}: not a sysfence profile: invalid JSON (${(e as Error).message.replace(/ in JSON at position \d+.*/, "")}).`,
    );
  }
  return checkProfile(value, file);
}

/** Profiles written before `engine` existed carry `strace`: a version, or "ftrace (…; N events lost)". */
function upgradeEngine(p: Profile & { strace?: unknown }, bad: (what: string) => SysfenceError): void {
  if (p.engine !== undefined) {
    const e = p.engine as unknown as Record<string, unknown>;
    if (!e || typeof e !== "object" || typeof e.name !== "string") throw bad('"engine" has no name');
    if (e.lostEvents !== undefined && (typeof e.lostEvents !== "number" || e.lostEvents < 0))
      throw bad('"engine.lostEvents" is not a count');
    return;
  }
  const old = typeof p.strace === "string" ? p.strace : "";
  const lost = /(\d+) events lost/.exec(old);
  p.engine = old.startsWith("ftrace")
    ? {
        name: "ftrace",
        ...(lost
          ? {
              lostEvents: Number(lost[1]),
              lost: `the kernel's trace buffer overflowed: ${lost[1]} events dropped`,
            }
          : {}),
      }
    : { name: "strace", ...(old && old !== "unknown" ? { version: old } : {}) };
  delete p.strace;
}

/**
 * Refuses a profile that lost events unless the caller allows it: a policy from it would miss calls the
 * program made. The error names the file, what was lost and the way out.
 */
export function refuseLossy(profiles: readonly Profile[], names: readonly string[], allow: boolean): void {
  if (allow) return;
  profiles.forEach((p, i) => {
    if (p.engine?.lostEvents)
      throw new SysfenceError(
        "E_PROFILE_INCOMPLETE",
        `${names[i] ?? "profile"}: the recording lost events (${p.engine.lost ?? `${p.engine.lostEvents} events`}); a policy from it can miss calls the program made. Record again (--engine strace loses nothing), or pass --allow-incomplete to use it anyway.`,
      );
  });
}
