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
