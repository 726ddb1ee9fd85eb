#!/usr/bin/env node
// Keeps functions and files small enough to hold in one's head (issue 30, docs/design.md "Sizes").
//
// Measured with the TypeScript compiler's syntax tree, over every hand-written .ts file under src/
// (src/syscalls/generated/ is written by scripts/gen_syscalls.py and left out):
// - a function (declaration, method, accessor, constructor, or an arrow function / function expression given a
//   name: `const f = () => …`, `f: () => …`, a class property) counts the lines of its body, from the line its body opens on to the line it closes on;
// - a function over LONG lines needs a comment line directly above it starting `// long:` that says why;
//   at most MAX_LONG functions may be over LONG lines, and none over MAX_FUNCTION, reason or not;
// - no file over MAX_FILE lines.
// Until the splits of issue 30 have all landed, KNOWN lists the functions and files over the limits today,
// each at its size now: one may shrink but not grow, nothing new may join, an entry no longer over the limit
// fails until it is removed (so the list cannot outlive its reason), and the listed functions do not count
// toward MAX_LONG. The list only shrinks; when it is empty the limits above hold as written.
// `node scripts/check-sizes.mjs` prints what fails and exits 1; `--list` prints every function over LONG lines
// and the largest files (exit status as without it); `--json` prints the measurements as JSON.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

export const LONG = 80;
export const MAX_LONG = 8;
export const MAX_FUNCTION = 120;
export const MAX_FILE = 400;
const GENERATED = ["src/syscalls/generated/"];

/** Over the limits when this check was written (issue 30): "file" or "file name" → lines then. Only shrinks. */
export const KNOWN = {
  "src/cli/commands/run.ts runCommand": 120,
  "src/analyze/reach.ts reachSyscalls": 105, // +5: .init_array entries by symbolic relocation as roots
  "src/cli/commands/run-args.ts parseRunWords": 94,
};

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** The name a function-like node is known by, or undefined for an anonymous callback (counted with its host). */
function nameOf(node) {
  if (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  ) {
    return node.name ? node.name.getText() : "default";
  }
  if (ts.isConstructorDeclaration(node)) return "constructor";
  if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
    const parent = node.parent;
    if (
      ts.isVariableDeclaration(parent) ||
      ts.isPropertyAssignment(parent) ||
      ts.isPropertyDeclaration(parent)
    ) {
      return parent.name.getText();
    }
    if (ts.isFunctionExpression(node) && node.name) return node.name.getText();
  }
  return undefined;
}

/** The statement (or member) whose leading comments speak for a named function. */
function anchorOf(node) {
  if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
    let p = node.parent;
    if (ts.isVariableDeclaration(p)) {
      p = p.parent; // VariableDeclarationList
      if (p && ts.isVariableDeclarationList(p)) p = p.parent; // VariableStatement
      return p;
    }
    return p;
  }
  return node;
}

/** Whether the comment line directly above the anchor (the last line before it) starts `// long:`. */
function hasReason(source, anchor) {
  const startLine = source.getLineAndCharacterOfPosition(anchor.getStart(source)).line;
  if (startLine === 0) return false;
  const lines = source.text.split("\n");
  return /^\s*\/\/ long:\s*\S/.test(lines[startLine - 1]);
}

/** Every named function in one file, with its line count. */
export function measureFile(path) {
  const text = readFileSync(path, "utf8");
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const functions = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const name = nameOf(node);
      if (name !== undefined) {
        const anchor = anchorOf(node);
        const first = source.getLineAndCharacterOfPosition(node.body.getStart(source)).line;
        const last = source.getLineAndCharacterOfPosition(node.body.getEnd()).line;
        functions.push({
          name,
          line: source.getLineAndCharacterOfPosition(anchor.getStart(source)).line + 1,
          lines: last - first + 1,
          reason: hasReason(source, anchor),
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const lines = text.endsWith("\n") ? text.split("\n").length - 1 : text.split("\n").length;
  return { lines, functions };
}

/** Measures every hand-written file under src/. */
export function measure(base = root) {
  const files = [];
  for (const path of sources(join(base, "src"))) {
    const rel = relative(base, path);
    if (GENERATED.some((g) => rel.startsWith(g))) continue;
    files.push({ file: rel, ...measureFile(path) });
  }
  return files;
}

/** The problems with a measurement, each a whole sentence; empty when it holds. */
export function problems(files, known = {}) {
  const out = [];
  const long = [];
  const used = new Set();
  /** True when a listed item is within its size then (it is not judged further); a grown one is a problem. */
  const listed = (key, lines, limit) => {
    if (!(key in known)) return false;
    used.add(key);
    if (lines > known[key])
      out.push(
        `${key} has grown to ${lines} lines (${known[key]} when listed in KNOWN; the limit is ${limit}): split it.`,
      );
    return true;
  };
  for (const f of files) {
    if (f.lines > MAX_FILE && !listed(f.file, f.lines, MAX_FILE)) {
      out.push(`${f.file} has ${f.lines} lines, over the limit of ${MAX_FILE}: split it by concern.`);
    }
    for (const fn of f.functions) {
      if (fn.lines <= LONG) continue;
      if (listed(`${f.file} ${fn.name}`, fn.lines, LONG)) continue;
      long.push({ ...fn, file: f.file });
      const at = `${f.file}:${fn.line} ${fn.name}`;
      if (fn.lines > MAX_FUNCTION) {
        out.push(
          `${at} has ${fn.lines} lines, over the limit of ${MAX_FUNCTION}: split it into named steps.`,
        );
      } else if (!fn.reason) {
        out.push(
          `${at} has ${fn.lines} lines, over ${LONG}, with no reason: split it, or write why above it in a line starting "// long:".`,
        );
      }
    }
  }
  for (const key of Object.keys(known))
    if (!used.has(key))
      out.push(
        `${key} is listed in KNOWN but is no longer over its limit (or is gone): remove it from the list.`,
      );
  if (long.length > MAX_LONG) {
    out.push(
      `${long.length} functions have more than ${LONG} lines, over the limit of ${MAX_LONG}: ${long
        .map((fn) => `${fn.file}:${fn.line} ${fn.name} (${fn.lines})`)
        .join(", ")}.`,
    );
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const files = measure();
  const found = problems(files, KNOWN);
  if (process.argv.includes("--json")) {
    process.stdout.write(`${JSON.stringify(files, null, 2)}\n`);
  } else if (process.argv.includes("--list")) {
    const long = files
      .flatMap((f) => f.functions.filter((fn) => fn.lines > LONG).map((fn) => ({ ...fn, file: f.file })))
      .sort((a, b) => b.lines - a.lines);
    for (const fn of long) {
      process.stdout.write(
        `${String(fn.lines).padStart(4)}  ${fn.file}:${fn.line} ${fn.name}${fn.reason ? " (long:)" : ""}\n`,
      );
    }
    process.stdout.write(`${long.length} functions over ${LONG} lines\n`);
    for (const f of files.filter((f) => f.lines > MAX_FILE).sort((a, b) => b.lines - a.lines)) {
      process.stdout.write(`${String(f.lines).padStart(4)}  ${f.file}\n`);
    }
  }
  for (const p of found) process.stderr.write(`check-sizes: ${p}\n`);
  if (found.length === 0) {
    const over = files.flatMap((f) => f.functions).filter((fn) => fn.lines > LONG).length;
    process.stdout.write(
      `check-sizes: ${files.length} hand-written files under src/, ${over} functions over ${LONG} lines (${Object.keys(KNOWN).length} items still listed in KNOWN), within the limits\n`,
    );
  }
  process.exitCode = found.length > 0 ? 1 : 0;
}
