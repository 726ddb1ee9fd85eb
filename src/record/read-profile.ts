import { readFile } from "node:fs/promises";
import { SysfenceError } from "../errors.js";
import type { Profile } from "./profile.js";
import { dictReviver } from "../util/dict.js";

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
  // Syscall names index sysfence's own tables: a name such as "__proto__" or "constructor" would reach
  // Object.prototype there. No syscall has such a name.
  const maps = [p.syscalls, ...p.processes.flatMap((proc) => (proc?.threads ?? []).map((t) => t?.syscalls))];
  for (const m of maps) {
    if (m === undefined) continue;
    if (m === null || typeof m !== "object") throw bad("a \"syscalls\" entry is not an object");
    for (const [name, counts] of Object.entries(m)) {
      if (name in Object.prototype || !/^[a-z0-9_]+$/.test(name))
        throw bad(`"${name.slice(0, 40)}" is not a syscall name`);
      if (counts === null || typeof counts !== "object") throw bad(`the counts of ${name} are not an object`);
      for (const key of ["args", "workArgs"] as const) {
        const byArg = (counts as unknown as Record<string, unknown>)[key];
        if (byArg === undefined) continue;
        if (byArg === null || typeof byArg !== "object") throw bad(`${name}.${key} is not an object`);
        for (const i of Object.keys(byArg))
          if (!/^[0-5]$/.test(i)) throw bad(`${name}.${key} has "${i.slice(0, 40)}", not an argument index 0 to 5`);
      }
    }
  }
  return p as Profile;
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

/** Reads a profile file. */
export async function readProfile(file: string): Promise<Profile> {
  const text = await readFile(file, "utf8").catch((e) => {
    throw new SysfenceError("E_IO", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code}.`, {
      cause: e,
    });
  });
  return parseProfile(text, file);
}
