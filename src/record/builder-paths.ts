// The paths a recording's calls named (ProfileBuilder's path tally): uses per path, how they were used,
// relative ones made absolute against their process's directory when it is known, the first MAX_PATHS
// distinct ones kept.
import { ACCESS_BITS, Access, accessLetters, resolveIn, rootedPath } from "./path-access.js";
import { MAX_PATHS, type Profile } from "./profile.js";

/**
 * A path as a process names it, made absolute against its directory (cwd) when it is relative to it and
 * that is known; an absolute one (Access.rooted) under the root a chroot gave the process (root).
 */
export function resolved(cwd: string | undefined, path: string, bits: number, root?: string): string {
  if (bits & Access.rooted && root !== undefined && root !== "/")
    return path.startsWith("unix:") ? `unix:${rootedPath(root, path.slice(5))}` : rootedPath(root, path);
  if (!(bits & Access.relative)) return path;
  if (cwd === undefined) return path;
  return bits & Access.unix ? `unix:${resolveIn(root, cwd, path.slice(5))}` : resolveIn(root, cwd, path);
}

/** Uses of paths, by path, with their access bits. */
export class PathUses {
  private readonly paths = new Map<string, number>();
  /** The kept paths' access bits (path-access.ts), as their uses said them. */
  private readonly access = new Map<string, number>();
  /** Uses of paths not kept (more than MAX_PATHS distinct ones, or dropped by an adapter at its limit). */
  omitted = 0;

  /**
   * n more uses of a path by a process whose directory is cwd (undefined: unknown, or by no process in
   * particular) and whose root is root (undefined: the recording's), with access bits; the first
   * MAX_PATHS distinct ones are kept.
   */
  count(cwd: string | undefined, named: string | undefined, bits: number, n: number, root?: string): void {
    if (!named) return;
    const path = resolved(cwd, named, bits, root);
    const had = this.paths.get(path);
    if (had === undefined && this.paths.size >= MAX_PATHS) {
      this.omitted += n;
      return;
    }
    this.paths.set(path, (had ?? 0) + n);
    const a = bits & ACCESS_BITS;
    if (a) this.access.set(path, (this.access.get(path) ?? 0) | a);
  }

  /** The profile's paths (most used first), pathsOmitted and pathAccess. */
  toProfile(): Pick<Profile, "paths" | "pathsOmitted" | "pathAccess"> {
    const paths = [...this.paths.entries()].sort((a, b) => b[1] - a[1]);
    return {
      paths: Object.fromEntries(paths),
      ...(this.omitted ? { pathsOmitted: this.omitted } : {}),
      pathAccess: Object.fromEntries(
        paths.flatMap(([p]) => {
          const a = this.access.get(p);
          return a ? [[p, accessLetters(a)]] : [];
        }),
      ),
    };
  }
}
