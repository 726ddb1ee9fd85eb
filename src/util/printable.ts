/** Text from a record (exe, comm) made safe for a terminal: control characters and escapes as \\xNN. */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f\\]/g, (c) =>
    c === "\\" ? "\\\\" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
