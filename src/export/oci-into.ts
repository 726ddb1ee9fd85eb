// `export --format oci --into BUNDLE/config.json`: the exported profile written as the config's
// linux.seccomp, in the text itself — every other byte of the config stays as it was.
import { SysfenceError } from "../errors.js";
import { parseStrictJson } from "../policy/formats/json.js";
import { indentOf, jsonValueEnd } from "../util/json-text.js";

/** `value` (JSON text) re-indented to stand at `indent`. */
const indented = (value: string, indent: string) =>
  value
    .split("\n")
    .map((l, i) => (i === 0 ? l : indent + l))
    .join("\n");

/** The file's indentation step: a tab when its lines are indented with tabs (runc spec), else two spaces. */
const stepOf = (text: string) => (/\n\t+"/.test(text) ? "\t" : "  ");

/** The insertion of `"key": value` as the last member of the object starting at `at`. */
function addMember(text: string, at: number, key: string, value: string): string {
  const end = jsonValueEnd(text, at) - 1; // the closing brace
  let last = end - 1;
  while (/\s/.test(text[last])) last--;
  const inner = `${indentOf(text, at)}${stepOf(text)}`;
  const comma = text[last] === "{" ? "" : ",";
  return `${text.slice(0, last + 1)}${comma}\n${inner}${JSON.stringify(key)}: ${indented(value, inner)}${text.slice(last + 1)}`;
}

/** The OCI runtime config `config` (text, from `file`) with `seccomp` (the exported JSON) as its linux.seccomp. */
export function seccompInto(config: string, file: string, seccomp: string): string {
  let doc: ReturnType<typeof parseStrictJson>;
  try {
    doc = parseStrictJson(config, file);
  } catch (e) {
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `${file} is not valid JSON (${(e as Error).message}); --into needs an OCI runtime config (runc spec writes one). Nothing written.`,
      { cause: e },
    );
  }
  const root = doc.value as Record<string, unknown> | null;
  if (
    typeof root !== "object" ||
    root === null ||
    Array.isArray(root) ||
    !("ociVersion" in root || "process" in root)
  )
    throw new SysfenceError(
      "E_USAGE",
      `${file} is not an OCI runtime config (no ociVersion or process); --into writes linux.seccomp into a bundle's config.json. Nothing written.`,
    );
  const step = stepOf(config);
  const value = JSON.stringify(JSON.parse(seccomp), null, step);
  const at = doc.offsets.get("linux/seccomp");
  if (at !== undefined) {
    const end = jsonValueEnd(config, at);
    return `${config.slice(0, at)}${indented(value, indentOf(config, at))}${config.slice(end)}`;
  }
  const linux = doc.offsets.get("linux");
  if (linux !== undefined && config[linux] === "{") return addMember(config, linux, "seccomp", value);
  if (linux !== undefined)
    throw new SysfenceError("E_POLICY_INVALID", `${file}: "linux" is not an object. Nothing written.`);
  const rootAt = doc.offsets.get("") ?? config.indexOf("{");
  return addMember(config, rootAt, "linux", JSON.stringify({ seccomp: JSON.parse(seccomp) }, null, step));
}
