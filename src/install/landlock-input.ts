// The `landlock` field of a Policy object handed to install()/lockdown() (the model form: lists of
// { path } and { port } objects, as parsePolicy gives; bare strings and numbers are taken too).

import { SysfenceError } from "../errors.js";
import {
  LANDLOCK_SCOPES,
  type LandlockPath,
  type LandlockPort,
  type LandlockScope,
  type LandlockSection,
} from "../policy/model.js";

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

const fail = (where: string, message: string): never => {
  throw new SysfenceError("E_POLICY_INVALID", `${where}: ${message}`);
};

const KEYS = ["read", "write", "execute", "devices", "bindTcp", "connectTcp", "scope", "comment", "location"];

/** Checks a Landlock section object field by field. */
export function checkLandlockObject(x: unknown, where: string): LandlockSection {
  if (!isPlainObject(x)) return fail(where, "expected { read, write, execute, devices, … }.");
  for (const k of Object.keys(x))
    if (!KEYS.includes(k))
      fail(where, `unknown field '${k}'; the fields are ${KEYS.slice(0, 8).join(", ")}.`);
  const paths = (key: string): LandlockPath[] => {
    const v = x[key] ?? [];
    if (!Array.isArray(v)) return fail(`${where}.${key}`, "expected an array of absolute paths.");
    return v.map((e, i) => {
      const path = typeof e === "string" ? e : isPlainObject(e) ? e.path : undefined;
      if (typeof path !== "string" || !path.startsWith("/") || path.includes("\0"))
        fail(`${where}.${key}[${i}]`, `expected an absolute path, got ${JSON.stringify(path ?? e)}.`);
      const comment = isPlainObject(e) && typeof e.comment === "string" ? { comment: e.comment } : {};
      return { path: path as string, ...comment };
    });
  };
  const ports = (key: string): LandlockPort[] | undefined => {
    const v = x[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return fail(`${where}.${key}`, "expected an array of TCP ports.");
    return v.map((e, i) => {
      const port = typeof e === "number" ? e : isPlainObject(e) ? e.port : undefined;
      if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
        fail(`${where}.${key}[${i}]`, `expected a TCP port 0..65535, got ${JSON.stringify(port ?? e)}.`);
      const comment = isPlainObject(e) && typeof e.comment === "string" ? { comment: e.comment } : {};
      return { port: port as number, ...comment };
    });
  };
  const scope = x.scope ?? [];
  if (!Array.isArray(scope) || scope.some((s) => !LANDLOCK_SCOPES.includes(s as LandlockScope)))
    fail(`${where}.scope`, `expected a list of ${LANDLOCK_SCOPES.join(", ")}.`);
  const bindTcp = ports("bindTcp");
  const connectTcp = ports("connectTcp");
  return {
    read: paths("read"),
    write: paths("write"),
    execute: paths("execute"),
    devices: paths("devices"),
    ...(bindTcp ? { bindTcp } : {}),
    ...(connectTcp ? { connectTcp } : {}),
    scope: [...new Set(scope as LandlockScope[])],
    ...(typeof x.comment === "string" ? { comment: x.comment } : {}),
  };
}
