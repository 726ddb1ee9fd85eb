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
  const r = new JsonReader(text);
  try {
    if (text.charCodeAt(0) === 0xfeff) r.i = 1;
    const v = r.value("", 0);
    r.ws();
    if (r.i < text.length) r.fail("unexpected text after the JSON value");
    return { value: v, offsets: r.offsets };
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

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** One pass over the text: the position, and where each node starts. */
class JsonReader {
  i = 0;
  readonly offsets = new Map<string, number>();
  constructor(private readonly text: string) {}

  fail(message: string, at = this.i): never {
    throw new JsonSyntaxError(message, at);
  }

  ws(): void {
    const { text } = this;
    while (this.i < text.length) {
      const c = text.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  str(): string {
    const { text } = this;
    const start = this.i;
    this.i++; // opening quote
    let out = "";
    let run = this.i;
    for (;;) {
      if (this.i >= text.length) this.fail("unterminated string", start);
      const c = text.charCodeAt(this.i);
      if (c === 0x22) {
        out += text.slice(run, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail("control character in a string (escape it)");
      if (c === 0x5c) {
        out += text.slice(run, this.i);
        const e = text[this.i + 1];
        if (e !== undefined && e in SIMPLE_ESCAPES) {
          out += SIMPLE_ESCAPES[e];
          this.i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(Number.parseInt(text.slice(this.i + 2, this.i + 6), 16));
          this.i += 6;
        } else this.fail(`invalid escape '\\${e ?? ""}'`);
        run = this.i;
        continue;
      }
      this.i++;
    }
  }

  num(): number | bigint {
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.text);
    if (!r) return this.fail("invalid number");
    this.i += r[0].length;
    if (r[1] === undefined && r[2] === undefined) {
      const n = Number(r[0]);
      return Number.isSafeInteger(n) ? n : BigInt(r[0]);
    }
    return Number(r[0]);
  }

  value(path: string, depth: number): JsonValue {
    const { text } = this;
    this.ws();
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    this.offsets.set(path, this.i);
    const c = text[this.i];
    if (c === "{") return this.object(path, depth);
    if (c === "[") return this.array(path, depth);
    if (c === '"') return this.str();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.num();
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail(
      this.i >= text.length ? "unexpected end of input" : `unexpected character '${text[this.i]}'`,
    );
  }

  object(path: string, depth: number): JsonValue {
    const { text } = this;
    this.i++;
    const obj: { [key: string]: JsonValue } = Object.create(null);
    this.ws();
    if (text[this.i] === "}") {
      this.i++;
      return obj;
    }
    for (;;) {
      this.ws();
      if (text[this.i] !== '"') this.fail("expected a quoted key");
      const keyAt = this.i;
      const key = this.str();
      if (Object.hasOwn(obj, key))
        this.fail(`duplicate key "${key}" (JSON readers disagree on which one wins)`, keyAt);
      this.ws();
      if (text[this.i] !== ":") this.fail("expected ':' after a key");
      this.i++;
      obj[key] = this.value(path === "" ? key : `${path}/${key}`, depth + 1);
      this.ws();
      if (text[this.i] === ",") {
        this.i++;
        continue;
      }
      if (text[this.i] === "}") {
        this.i++;
        return obj;
      }
      this.fail("expected ',' or '}'");
    }
  }

  array(path: string, depth: number): JsonValue {
    const { text } = this;
    this.i++;
    const arr: JsonValue[] = [];
    this.ws();
    if (text[this.i] === "]") {
      this.i++;
      return arr;
    }
    for (;;) {
      arr.push(this.value(path === "" ? `${arr.length}` : `${path}/${arr.length}`, depth + 1));
      this.ws();
      if (text[this.i] === ",") {
        this.i++;
        continue;
      }
      if (text[this.i] === "]") {
        this.i++;
        return arr;
      }
      this.fail("expected ',' or ']'");
    }
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
