// The notes of the Landlock file layer (file-layer.ts): what a use other than the recorded one would meet —
// a save where it only read, another file beside the one it read, a forked process's own /proc entry, a
// TCP port it did not bind. Pure.
import { dirname } from "node:path/posix";
import type { Profile } from "../record/profile.js";

/** What the notes read of the grants being built. */
export interface NoteGrants {
  /** FileFacts' directory question (file-layer.ts). */
  facts: { isDirectory?(path: string): boolean };
  read: Set<string>;
  write: Set<string>;
  bind: Set<number>;
  notes: string[];
}

/**
 * Data the program read where it never wrote: a save in another use would be refused; and where it read
 * one file alone, that file is all it may read there — another input, another page gets EACCES.
 */
export function readOnlyDataNote(g: NoteGrants, access: Map<string, Set<string>>): void {
  const system = /^\/(usr|lib|lib32|lib64|opt|etc|proc|sys|dev|run|bin|sbin)(\/|$)/;
  const readOnlyData = [...access]
    .filter(([p, l]) => l.has("r") && p.startsWith("/") && !system.test(p))
    .map(([p]) => p)
    .filter((p) => {
      const d = dirname(p);
      return d !== "/" && ![...g.write].some((w) => d === w || d.startsWith(`${w}/`));
    });
  // a directory read itself (listed, the working directory) is granted as a whole: not a file alone
  const isDir = (p: string) =>
    g.facts.isDirectory?.(p) || [...access.keys()].some((q) => q.startsWith(`${p}/`));
  const underRead = (p: string) => [...g.read].some((r) => p.startsWith(`${r}/`));
  const lone = readOnlyData.filter((p) => g.read.has(p) && !isDir(p) && !underRead(p)).sort();
  const dirs = [
    ...new Set(readOnlyData.filter((p) => !lone.includes(p)).map((p) => (isDir(p) ? p : dirname(p)))),
  ].sort();
  if (dirs.length)
    g.notes.push(
      `the program read files in ${dirs.slice(0, 4).join(", ")} but wrote nothing there in this recording: if it saves there in other uses, add --writable DIR (or record a use that saves)`,
    );
  if (lone.length)
    g.notes.push(
      `the program read ${lone.slice(0, 4).join(", ")}${lone.length > 4 ? ` and ${lone.length - 4} more` : ""}, the only file it read in ${lone.length === 1 ? "its directory" : "each directory"}: the policy lets it read ${lone.length === 1 ? "that file" : "those files"} alone (one file read in a directory is granted by itself, two or more grant the directory), so a use that reads another file there (another input, another page) gets EACCES, and one that saves there too — add --readable DIR (or --writable DIR for saves), or record a use that reads two files there`,
    );
}

/**
 * A write to /proc/self in a recording of several processes: run adds the rule in the launched process, so
 * only its own entry is granted; a forked process writing its own (a session child's loginuid) gets EACCES.
 */
export function forkedProcNote(g: NoteGrants, all: readonly Profile[]): void {
  const own = [...g.write].filter((w) => w.startsWith("/proc/self/"));
  if (own.length && all.some((p) => (p.processes?.length ?? 0) > 1))
    g.notes.push(
      `the recording wrote ${own.slice(0, 3).join(", ")} and has several processes: Landlock grants the launched process's own entry only (run binds /proc/self before the exec); a forked process writing its own gets EACCES — no path can grant it short of /proc as a whole`,
    );
}

/** Several TCP ports bound: only those may be bound, and a program that picks its ports meets EACCES. */
export function bindPortNote(g: NoteGrants): void {
  if (g.bind.size > 1)
    g.notes.push(
      `the recording bound TCP ports ${[...g.bind].sort((a, b) => a - b).join(", ")}: only these may be bound under the policy; a program that picks a port as it goes (an FTP server's passive data ports, a listener per connection) gets EACCES on any other — add --any-bind-port if it does`,
    );
}
