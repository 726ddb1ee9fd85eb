// The JSON side of `audit --patch`: edits made in the text itself, so 64-bit values, key order and the
// layout of everything not changed stay byte for byte (OCI, moby, and sysfence policies written as JSON).
import { SysfenceError } from "../errors.js";
import { parseStrictJson } from "../policy/formats/json.js";
import type { Policy } from "../policy/model.js";
import { indentOf, jsonValueEnd } from "../util/json-text.js";

/**
 * Inserts `rule` as the last element of the array at `at` (created in its object when missing), touching
 * nothing else: 64-bit values, key order and layout of the rest stay byte for byte.
 */
export function editJson(text: string, file: string, at: string[], rule: Record<string, unknown>): string {
  const doc = parseStrictJson(text, file);
  const arrayAt = doc.offsets.get(at.join("/"));
  const element = (indent: string) =>
    JSON.stringify(rule, null, 2)
      .split("\n")
      .map((l, i) => (i === 0 ? l : indent + l))
      .join("\n");
  if (arrayAt !== undefined && text[arrayAt] === "[") {
    const end = jsonValueEnd(text, arrayAt) - 1; // the closing bracket
    const body = text.slice(arrayAt + 1, end);
    const closeIndent = indentOf(text, end);
    if (body.trim() === "") {
      const inner = `${indentOf(text, arrayAt)}  `;
      return `${text.slice(0, arrayAt + 1)}\n${inner}${element(inner)}\n${indentOf(text, arrayAt)}${text.slice(end)}`;
    }
    let last = end - 1;
    while (/\s/.test(text[last])) last--;
    const firstElem = arrayAt + 1 + body.search(/\S/);
    const inner =
      text.lastIndexOf("\n", firstElem) > arrayAt ? indentOf(text, firstElem) : `${closeIndent}  `;
    return `${text.slice(0, last + 1)},\n${inner}${element(inner)}${text.slice(last + 1)}`;
  }
  const parentAt = doc.offsets.get(at.slice(0, -1).join("/"));
  if (parentAt === undefined || text[parentAt] !== "{")
    throw new SysfenceError("E_POLICY_INVALID", `${file}: no object to add "${at[at.length - 1]}" to.`);
  const end = jsonValueEnd(text, parentAt) - 1;
  let last = end - 1;
  while (/\s/.test(text[last])) last--;
  const inner = `${indentOf(text, parentAt)}  `;
  const comma = text[last] === "{" ? "" : ",";
  return `${text.slice(0, last + 1)}${comma}\n${inner}"${at[at.length - 1]}": [\n${inner}  ${element(`${inner}  `)}\n${inner}]${text.slice(last + 1)}`;
}

/**
 * The JSON form of promoteBurnIn: each fired rule's object is rewritten where it stands (the rest of the
 * text byte for byte); a rule that also logs calls that did not fire keeps those, the fired ones get a rule
 * of their own at the end of syscalls.
 */
export function promoteBurnInJson(
  text: string,
  file: string,
  policy: Policy,
  names: string[],
  note: string,
): string {
  const doc = parseStrictJson(text, file);
  const rules = (doc.value as { syscalls?: unknown }).syscalls;
  if (!Array.isArray(rules)) return text;
  const edits: { at: number; end: number; value: Record<string, unknown> }[] = [];
  const own: string[][] = [];
  policy.rules.forEach((rule, i) => {
    if (rule.action.kind !== "log" || !rule.final || !rule.names.some((n) => names.includes(n))) return;
    const at = doc.offsets.get(`syscalls/${i}`);
    const node = rules[i] as Record<string, unknown> | undefined;
    if (at === undefined || text[at] !== "{" || !node) return;
    const value: Record<string, unknown> = { ...node };
    const rest = rule.names.filter((n) => !names.includes(n));
    if (rest.length) {
      delete value.name;
      value.names = rest;
      own.push(rule.names.filter((n) => names.includes(n)));
    } else {
      value.action = "allow";
      delete value.final;
      value.tier = "seen";
      value.comment = `${typeof node.comment === "string" ? `${node.comment}; ` : ""}fired in the burn-in: ${note}`;
    }
    edits.push({ at, end: jsonValueEnd(text, at), value });
  });
  let out = text;
  for (const e of edits.sort((a, b) => b.at - a.at)) {
    const indent = indentOf(text, e.at);
    const body = JSON.stringify(e.value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)
      .split("\n")
      .map((l, i) => (i === 0 ? l : indent + l))
      .join("\n");
    out = out.slice(0, e.at) + body + out.slice(e.end);
  }
  for (const fired of own)
    out = editJson(out, file, ["syscalls"], { names: fired, action: "allow", tier: "seen", comment: note });
  return out;
}
