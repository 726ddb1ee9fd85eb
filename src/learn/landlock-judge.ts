// Whether a policy's Landlock layer would refuse a path use (pure). Learning runs without the layer (it has
// no log-only mode), so the supervisor judges the file calls it sees against the section's lists with the
// rules the kernel applies: rights are granted beneath each listed path; creating or removing an entry needs
// write beneath its directory.
import { Access } from "../record/path-access.js";

/** A section's lists, as absolute paths (resolved as the launcher's open would resolve them). */
export interface LandlockLists {
  read: string[];
  write: string[];
  execute: string[];
  devices: string[];
}

const beneath = (path: string, roots: readonly string[]): boolean =>
  roots.some((r) => path === r || r === "/" || path.startsWith(`${r}/`));

const parentOf = (path: string): string => {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
};

/**
 * True when a use of `path` with `access` (path-access.ts bits) falls outside every list that grants it:
 * read beneath read, write, execute or devices; write beneath write or devices; an entry created or
 * removed beneath a write directory; execute beneath execute. Metadata is never refused (Landlock does
 * not confine it).
 */
export function landlockRefuses(lists: LandlockLists, path: string, access: number): boolean {
  if (
    access & Access.read &&
    !beneath(path, [...lists.read, ...lists.write, ...lists.execute, ...lists.devices])
  )
    return true;
  if (access & Access.write && !beneath(path, [...lists.write, ...lists.devices])) return true;
  if (access & Access.create && !beneath(parentOf(path), lists.write)) return true;
  if (access & Access.exec && !beneath(path, lists.execute)) return true;
  return false;
}

/**
 * Whether a use gets as far as Landlock: a file that does not exist (a PATH search, a probe for an optional
 * file) fails with ENOENT first, unless the call creates it in a directory that exists.
 */
export function reachesLandlock(path: string, access: number, exists: (p: string) => boolean): boolean {
  if (exists(path)) return true;
  if (!(access & Access.create)) return false;
  return exists(parentOf(path));
}

/**
 * The file a use names for the file layer: the path itself; for a unix socket bound at a path, that path
 * (binding creates it); undefined for a use that is no file — a TCP, UDP or netlink address, an abstract
 * or connected-to unix socket (ports and scopes are judged apart, and connecting names no file right).
 */
export function fileOfUse(path: string, access: number): string | undefined {
  if (path.startsWith("unix:/")) return access & Access.create ? path.slice(5) : undefined;
  if (/^(inet6?|unix|netlink|signal):/.test(path)) return undefined;
  return path;
}
