// generate --static: which executables a recording ran, whether they are still the same binaries (the
// build-id recorded in the profile), and what sysfence analyze says they can reach. I/O at the edge: the
// tiering itself (generate.ts, classes.ts) is pure.
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { type AnalyzeProgress, analyze } from "../analyze/analyze.js";
import { buildIdOfFile } from "../analyze/elf.js";
import { programFile } from "../analyze/program-file.js";
import { SysfenceError } from "../errors.js";
import type { Profile } from "../record/profile.js";

export type StaticMode = "auto" | "on" | "off";

export interface StaticInput {
  reachable: Map<string, string[]>;
  unresolved: number;
  programs: string[];
}

/** Shared libraries a recording saw opened (dlopen: Python extension modules, NSS modules, plugins). */
export function dlopenedPaths(paths: Record<string, number>): string[] {
  return Object.keys(paths).filter((p) => p.startsWith("/") && /\.so(\.[0-9.]+)?$/.test(p));
}

/** Where `staticInput` is: the `program`-th of `programs` executables (1-based), and inside its analysis. */
export type StaticProgress = { program: number; programs: number; elf: string } & AnalyzeProgress;

/**
 * Analyses the recorded executables (only those matching `exe` when given). `auto` turns the analysis
 * off, with a note, when an executable is gone or changed since the recording; `on` makes that an error.
 */
export function staticInput(
  profiles: readonly Profile[],
  mode: StaticMode,
  exe: string[] | undefined,
  note: (n: string) => void,
  onProgress?: (p: StaticProgress) => void,
): StaticInput | undefined {
  if (mode === "off") return undefined;
  const wanted = (path: string) => !exe?.length || exe.some((e) => e === path || basename(path) === e);
  // recorded executable → its build-id and, for a #! script, the ELF it ran (the recording's PATH decided)
  const programs = new Map<string, { id?: string; elf?: string }>();
  for (const p of profiles)
    for (const proc of p.processes)
      if (proc.exe.startsWith("/") && wanted(proc.exe)) {
        const had = programs.get(proc.exe);
        programs.set(proc.exe, { id: proc.buildId ?? had?.id, elf: proc.elf ?? had?.elf });
      }
  const problem = (why: string): undefined => {
    if (mode === "on") throw new SysfenceError("E_USAGE", `--static on: ${why}.`);
    note(`static analysis off: ${why}`);
    return undefined;
  };
  if (programs.size === 0) return problem("the profiles name no executable to analyse");
  const elves = new Map<string, string>();
  for (const [path, { id, elf: recorded }] of programs) {
    if (!existsSync(path)) return problem(`${path} (recorded) is not on this machine`);
    // a #! script: its interpreter is what runs (and what the recorded build-id is of)
    let elf: string;
    try {
      elf = recorded ?? programFile(path).elf;
    } catch (e) {
      return problem((e as Error).message);
    }
    const now = buildIdOfFile(elf);
    if (id && now !== id)
      return problem(
        `${elf === path ? path : `${elf} (the interpreter of ${path})`} is not the binary recorded (build-id ${now ?? "none"}, recorded ${id})`,
      );
    if (elf !== path) note(`${path} is a #! script: analysed its interpreter ${elf}`);
    elves.set(path, elf);
  }
  const dlopened = [...new Set(profiles.flatMap((p) => dlopenedPaths(p.paths ?? {})))];
  const reachable = new Map<string, string[]>();
  let unresolved = 0;
  const toAnalyse = [...new Set(elves.values())];
  for (const [i, elf] of toAnalyse.entries()) {
    const r = analyze(elf, {
      dlopened,
      onNote: (n) => note(`analyze ${elf}: ${n}`),
      onProgress:
        onProgress && ((p) => onProgress({ program: i + 1, programs: toAnalyse.length, elf, ...p })),
    });
    unresolved += r.unresolved;
    for (const [name, { via }] of Object.entries(r.syscalls)) {
      const list = reachable.get(name) ?? [];
      for (const v of via) if (list.length < 3 && !list.includes(v)) list.push(v);
      reachable.set(name, list);
    }
  }
  return { reachable, unresolved, programs: [...programs.keys()] };
}
