import { type Diagnostic, type SourceLocation, SysfenceError } from "../../errors.js";

// A strict JSON reader for policy inputs. JSON.parse lets the last of two duplicate keys win silently,
// turns integers above 2^53 into neighbouring doubles and gives no positions; a policy file needs the
// opposite of all three. Objects are null-prototype, so a "__proto__" key is an ordinary key.

/** Nesting deeper than this is refused (no policy format nests more than a handful of levels). */
export const MAX_JSON_DEPTH = 64;

/** A parsed JSON value: integers outside ±2^53 are bigint, every object has a null prototype. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** The value and where each node starts, by path ("syscalls/0/action"). */
export interface JsonDocument {
  value: JsonValue;
  offsets: Map<string, number>;
}

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Parses strict JSON (RFC 8259); throws E_POLICY_INVALID with file:line:column on any error or duplicate key. */
export function parseStrictJson(text: string, file: string): JsonDocument {
  const offsets = new Map<string, number>();
  let i = 0;
  const fail = (message: string, at = i): never => {
    throw new JsonSyntaxError(message, at);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    let out = "";
    let run = i;
    for (;;) {
      if (i >= text.length) fail("unterminated string", start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(run, i);
        i++;
        return out;
      }
      if (c < 0x20) fail("control character in a string (escape it)");
      if (c === 0x5c) {
        out += text.slice(run, i);
        const e = text[i + 1];
        const simple: Record<string, string> = {
          '"': '"',
          "\\": "\\",
          "/": "/",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
        };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else fail(`invalid escape '\\${e ?? ""}'`);
        run = i;
        continue;
      }
      i++;
    }
  };
  const num = (): number | bigint => {
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const r = m.exec(text);
    if (!r) return fail("invalid number");
    i += r[0].length;
    if (r[1] === undefined && r[2] === undefined) {
      const n = Number(r[0]);
      return Number.isSafeInteger(n) ? n : BigInt(r[0]);
    }
    return Number(r[0]);
  };
  const value = (path: string, depth: number): JsonValue => {
    ws();
    if (depth > MAX_JSON_DEPTH) fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    offsets.set(path, i);
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: { [key: string]: JsonValue } = Object.create(null);
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a quoted key");
        const keyAt = i;
        const key = str();
        if (Object.hasOwn(obj, key))
          fail(`duplicate key "${key}" (JSON readers disagree on which one wins)`, keyAt);
        ws();
        if (text[i] !== ":") fail("expected ':' after a key");
        i++;
        obj[key] = value(path === "" ? key : `${path}/${key}`, depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(path === "" ? `${arr.length}` : `${path}/${arr.length}`, depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return num();
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(i >= text.length ? "unexpected end of input" : `unexpected character '${text[i]}'`);
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    const v = value("", 0);
    ws();
    if (i < text.length) fail("unexpected text after the JSON value");
    return { value: v, offsets };
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const location = locationAt(text, e.offset, file);
    const d: Diagnostic = { severity: "error", message: `invalid JSON: ${e.message}`, location };
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `${file}:${location.line}:${location.column}: error: invalid JSON: ${e.message}`,
      { diagnostics: [d] },
    );
  }
}

/** The 1-based line and column of an offset. */
export function locationAt(text: string, offset: number, file: string): SourceLocation {
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf("\n"); k !== -1 && k < offset; k = text.indexOf("\n", k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return { file, line, column: offset - lineStart + 1 };
}

/** The location of the node at a path, or its nearest ancestor that has one. */
export function jsonLocate(
  doc: JsonDocument,
  text: string,
  file: string,
  path: (string | number)[],
): SourceLocation {
  for (let len = path.length; len >= 0; len--) {
    const off = doc.offsets.get(path.slice(0, len).join("/"));
    if (off !== undefined) return locationAt(text, off, file);
  }
  return { file };
}
