import { createRequire } from "node:module";
import type { Document, LineCounter } from "yaml";
import { type Diagnostic, type SourceLocation, SysfenceError, throwIfErrors } from "../../errors.js";
import { jsonLocate, parseStrictJson } from "./json.js";

// One parsed text document (JSON or YAML) with positions, shared by the structured readers (sysfence,
// OCI, moby, SPO). Everything user keys land in is a null-prototype object: "__proto__" is just a key.

/** Policy inputs larger than this are refused before parsing (the largest real profiles are ~100 KB). */
export const MAX_POLICY_BYTES = 4 * 1024 * 1024;
/** YAML aliases (`*a`) expanded per document at most: alias bombs grow exponentially. */
export const MAX_YAML_ALIASES = 100;

const require = createRequire(import.meta.url);
type YamlModule = typeof import("yaml");
let yamlModule: YamlModule | undefined;
/** The yaml package, loaded on first use (JSON inputs never need it). */
export const yaml = (): YamlModule => {
  yamlModule ??= require("yaml") as YamlModule;
  return yamlModule;
};

/** Parsed structured text: the data, its syntax and a way to name where a path sits. */
export interface TextDocument {
  file: string;
  text: string;
  syntax: "json" | "yaml";
  /** Integers beyond ±2^53 are bigint; objects have a null prototype. */
  data: unknown;
  locate(path: (string | number)[]): SourceLocation;
}

/** Refuses inputs over MAX_POLICY_BYTES with a message naming the limit. */
export function checkSize(bytes: number, file: string, atLeast = false): void {
  if (bytes > MAX_POLICY_BYTES)
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `${file}: ${atLeast ? `more than ${MAX_POLICY_BYTES} bytes` : `${bytes} bytes`} is larger than the ${MAX_POLICY_BYTES}-byte limit for a policy; split it or check that this is the file you meant.`,
    );
}

/** Parses text as JSON (when it starts with '{' or '[') or YAML; throws E_POLICY_INVALID with positions. */
export function parseTextDocument(text: string, file: string, prefer?: "json" | "yaml"): TextDocument {
  checkSize(Buffer.byteLength(text), file);
  const head = text.replace(/^\uFEFF/, "").trimStart()[0];
  const looksJson = head === "{" || head === "[";
  if (prefer === "json" || (prefer === undefined && looksJson)) {
    const doc = parseStrictJson(text, file);
    return {
      file,
      text,
      syntax: "json",
      data: doc.value,
      locate: (path) => jsonLocate(doc, text, file, path),
    };
  }
  return parseYaml(text, file);
}

function parseYaml(text: string, file: string): TextDocument {
  const Y = yaml();
  const lineCounter: LineCounter = new Y.LineCounter();
  const doc = Y.parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    intAsBigInt: true,
  });
  const at = (offset: number | undefined): SourceLocation => {
    if (offset === undefined) return { file };
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  const diags: Diagnostic[] = doc.errors.map((e) => ({
    severity: "error",
    message: e.message.split("\n")[0],
    location: at(e.pos[0]),
  }));
  throwIfErrors(diags, file);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES, mapAsMap: true });
  } catch (e) {
    const why = (e as Error).message;
    const bomb = /alias count/i.test(why);
    throw new SysfenceError(
      "E_POLICY_INVALID",
      bomb
        ? `${file}: the YAML expands its aliases (*name) more than ${MAX_YAML_ALIASES} times; write the values out instead.`
        : `${file}: cannot read the YAML: ${why.split("\n")[0]}.`,
      { cause: e },
    );
  }
  return {
    file,
    text,
    syntax: "yaml",
    data: plain(raw, file),
    locate: (path) => at(nodeOffset(doc, path)),
  };
}

/** Maps become null-prototype objects with string keys; bigints that fit a double exactly become numbers. */
function plain(v: unknown, file: string): unknown {
  if (typeof v === "bigint")
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map((x) => plain(x, file));
  if (v instanceof Map) {
    const o: Record<string, unknown> = Object.create(null);
    for (const [k, x] of v) {
      if (k !== null && typeof k === "object")
        throw new SysfenceError(
          "E_POLICY_INVALID",
          `${file}: a YAML key is a map or list; policy keys are names.`,
        );
      o[String(k)] = plain(x, file);
    }
    return o;
  }
  if (v instanceof Set) return [...v].map((x) => plain(x, file));
  return v;
}

/** Offset of the node at a path in a YAML document, falling back to its nearest parent. */
function nodeOffset(doc: Document, path: (string | number)[]): number | undefined {
  for (let len = path.length; len >= 0; len--) {
    let node: unknown;
    try {
      node = len === 0 ? doc.contents : doc.getIn(path.slice(0, len), true);
    } catch {
      continue;
    }
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return range[0];
  }
  return undefined;
}
