import type { Diagnostic, SourceLocation } from "../../errors.js";
import type { LandlockPath, LandlockPort, LandlockSection } from "../model.js";
import type { LandlockPathText, LandlockPortText, PolicyFile } from "../schema.js";

// The `landlock:` section of a sysfence policy, after the schema checked its shape: paths must be
// absolute (Landlock rules name inodes; a relative path would depend on where the launcher stands).

type Locate = (path: (string | number)[]) => SourceLocation;

/** The path lists of the section, in the order they are written back. */
export const LANDLOCK_PATH_LISTS = ["read", "write", "execute", "devices"] as const;
/** The port lists of the section. */
export const LANDLOCK_PORT_LISTS = ["bindTcp", "connectTcp"] as const;

/** Reads a checked `landlock:` mapping; every bad entry is a diagnostic with its line. */
export function readLandlockSection(
  raw: NonNullable<PolicyFile["landlock"]>,
  locate: Locate,
  diags: Diagnostic[],
): LandlockSection {
  const paths = (key: (typeof LANDLOCK_PATH_LISTS)[number]): LandlockPath[] =>
    (raw[key] ?? []).map((e: LandlockPathText, i) => {
      const path = typeof e === "string" ? e : e.path;
      const location = locate(["landlock", key, i]);
      checkPath(path, `landlock.${key}`, location, diags);
      return { path, ...(typeof e === "object" && e.comment ? { comment: e.comment } : {}), location };
    });
  const ports = (key: (typeof LANDLOCK_PORT_LISTS)[number]): LandlockPort[] | undefined =>
    raw[key]?.map((e: LandlockPortText, i) => ({
      port: typeof e === "number" ? e : e.port,
      ...(typeof e === "object" && e.comment ? { comment: e.comment } : {}),
      location: locate(["landlock", key, i]),
    }));
  const bindTcp = ports("bindTcp");
  const connectTcp = ports("connectTcp");
  return {
    read: paths("read"),
    write: paths("write"),
    execute: paths("execute"),
    devices: paths("devices"),
    ...(bindTcp ? { bindTcp } : {}),
    ...(connectTcp ? { connectTcp } : {}),
    scope: [...new Set(raw.scope ?? [])],
    ...(raw.comment ? { comment: raw.comment } : {}),
    location: locate(["landlock"]),
  };
}

function checkPath(path: string, list: string, location: SourceLocation, diags: Diagnostic[]): void {
  if (path.includes("\0"))
    diags.push({ severity: "error", message: `${list}: a path holds a NUL byte`, location });
  else if (!path.startsWith("/"))
    diags.push({
      severity: "error",
      message: `${list}: '${path}' is not an absolute path`,
      location,
      hint: `Landlock rules name files from the root; write /${path.replace(/^\.?\/*/, "")} or the path you meant`,
    });
}
