import { byKey } from "./order.js";

/**
 * An empty object for user-chosen keys (syscall names, paths, argument values): no prototype, so a key
 * such as "__proto__" or "constructor" is an ordinary entry instead of reaching Object.prototype.
 */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A JSON.parse reviver that makes every parsed object a dict (see dict()). */
export function dictReviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.assign(dict<unknown>(), value);
}

/** The entries as a dict in key order (a profile's text must not depend on the order values were met in). */
export function sortedDict<T>(entries: Iterable<[string, T]>): Record<string, T> {
  const out = dict<T>();
  for (const [k, v] of [...entries].sort(byKey)) out[k] = v;
  return out;
}
