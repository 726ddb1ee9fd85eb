// Offsets in JSON text, for edits made in the text itself (the rest stays byte for byte).

/** The offset just past the JSON value starting at `start` (strings and nesting respected). */
export function jsonValueEnd(text: string, start: number): number {
  // a number, true, false or null
  const scalar = /^(?:-?[0-9][0-9.eE+-]*|true|false|null)/.exec(text.slice(start, start + 400));
  if (scalar && !/["[{]/.test(text[start])) return start + scalar[0].length;
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      if (depth === 0) return i + 1;
    } else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

/** The whitespace a line starts with, for the line holding `offset`. */
export const indentOf = (text: string, offset: number): string => {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? "";
};
