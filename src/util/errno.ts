import { getSystemErrorMap } from "node:util";

/**
 * An error from the system as a message names it: the errno symbol and its text, as Node's own fs errors
 * say it ("ENOENT: no such file or directory, open 'x.yaml'"); never the bare symbol. An error without an
 * errno code gives its message.
 */
export function systemErrorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== "string" || !/^E[A-Z0-9]+$/.test(code)) return message;
  if (message.startsWith(`${code}:`)) return message;
  const text = errnoDescription(code);
  if (text) return message && message !== code ? `${code}: ${text} (${message})` : `${code}: ${text}`;
  return message && message !== code ? `${code}: ${message}` : code;
}

/** libuv's text for an errno name ("no such file or directory" for ENOENT); undefined when it has none. */
export function errnoDescription(name: string): string | undefined {
  try {
    for (const [, [n, text]] of getSystemErrorMap()) if (n === name) return text;
  } catch {
    // (under a seccomp filter that refuses what this needs: no text)
  }
  return undefined;
}
