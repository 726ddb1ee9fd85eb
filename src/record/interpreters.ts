// The ELF interpreters of the files a recording saw executed: the kernel opens and runs the dynamic loader
// inside execve, where no engine sees a call of its own, yet it is executed as much as the program is
// (a Landlock layer must let it); so is a #! script's interpreter. Read from the files on this machine when a
// live recording ends.
import { interpreterOf } from "../analyze/program-file.js";
import { normalPath, unionLetters } from "./path-access.js";
import { MAX_PATHS, type Profile } from "./profile.js";

/**
 * Marks the interpreter of every executed file (`x` in pathAccess, an absolute path) executed too, as
 * used as often as the files that name it; within the profile's bound of distinct paths.
 */
export function markInterpreters(profile: Profile, interpreterOfPath = interpreterOf): void {
  const access = profile.pathAccess;
  if (!access) return;
  const uses = new Map<string, number>();
  for (const [path, letters] of Object.entries(access)) {
    if (!letters.includes("x") || !path.startsWith("/")) continue;
    const interp = interpreterOfPath(path);
    if (interp?.startsWith("/")) {
      const p = normalPath(interp);
      uses.set(p, (uses.get(p) ?? 0) + (profile.paths[path] ?? 1));
    }
  }
  for (const [p, n] of uses) {
    if (!(p in profile.paths) && Object.keys(profile.paths).length >= MAX_PATHS) {
      profile.pathsOmitted = (profile.pathsOmitted ?? 0) + n;
      continue;
    }
    profile.paths[p] = (profile.paths[p] ?? 0) + n;
    access[p] = p in access ? unionLetters(access[p], "x") : "x";
  }
}
