import { parseDocument } from "yaml";
import type { Violation } from "./records.js";

/**
 * The minimal change to a sysfence policy that allows what the records show: one rule appended with the
 * missing syscalls (comments and layout of the file kept), as the new text and as a unified diff that
 * `patch -p1` applies.
 */
export function patchPolicy(
  text: string,
  file: string,
  violations: readonly Violation[],
): { text: string; diff: string; added: string[] } {
  const names = [
    ...new Set(violations.filter((v) => !v.syscall.startsWith("nr ")).map((v) => v.syscall)),
  ].sort();
  if (names.length === 0) return { text, diff: "", added: [] };
  const doc = parseDocument(text);
  const seen = violations.reduce((a, v) => a + v.count, 0);
  const exes = [...new Set(violations.map((v) => v.exe))].join(", ");
  const rule = doc.createNode({
    names,
    action: "allow",
    comment: `added by sysfence audit: ${seen} record(s) from ${exes}`,
  });
  const flowNames = (rule as unknown as { get(k: string, keep: boolean): { flow?: boolean } }).get(
    "names",
    true,
  );
  flowNames.flow = true;
  doc.addIn(["syscalls"], rule);
  const out = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  return { text: out, diff: unifiedDiff(text, out, file), added: names };
}

/** A unified diff of two texts (one hunk per changed region, 3 lines of context). */
export function unifiedDiff(a: string, b: string, file: string): string {
  const lines = (t: string) => (t.endsWith("\n") ? t.slice(0, -1) : t).split("\n");
  const x = lines(a);
  const y = lines(b);
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start++;
  let endX = x.length - 1;
  let endY = y.length - 1;
  while (endX >= start && endY >= start && x[endX] === y[endY]) {
    endX--;
    endY--;
  }
  if (start > endX && start > endY) return "";
  const c0 = Math.max(0, start - 3);
  const c1x = Math.min(x.length - 1, endX + 3);
  const c1y = Math.min(y.length - 1, endY + 3);
  const out = [
    `--- a/${file}`,
    `+++ b/${file}`,
    `@@ -${c0 + 1},${c1x - c0 + 1} +${c0 + 1},${c1y - c0 + 1} @@`,
  ];
  for (let i = c0; i < start; i++) out.push(` ${x[i]}`);
  for (let i = start; i <= endX; i++) out.push(`-${x[i]}`);
  for (let i = start; i <= endY; i++) out.push(`+${y[i]}`);
  for (let i = endX + 1; i <= c1x; i++) out.push(` ${x[i]}`);
  return `${out.join("\n")}\n`;
}
