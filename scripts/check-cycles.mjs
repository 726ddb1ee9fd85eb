#!/usr/bin/env node
// Fails when the modules under src/ import each other in a cycle (type-only imports included:
// a cycle of types still means two modules that cannot be understood one without the other).
// Prints each cycle once, as the chain of files that closes it.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const src = join(root, "src");

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']/g;
const DYNAMIC = /import\(\s*["'](\.[^"']+)["']\s*\)/g;

/** The local modules a file imports, as absolute .ts paths. */
function importsOf(file) {
  const text = readFileSync(file, "utf8");
  const found = new Set();
  for (const re of [IMPORT, DYNAMIC]) {
    for (const m of text.matchAll(re)) {
      const target = resolve(dirname(file), m[1].replace(/\.js$/, ".ts"));
      if (existsSync(target)) found.add(target);
    }
  }
  return [...found];
}

const files = sources(src);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const cycles = [];
const state = new Map(); // undefined: unvisited, 1: on the stack, 2: done
const stack = [];

function visit(file) {
  state.set(file, 1);
  stack.push(file);
  for (const next of graph.get(file) ?? []) {
    if (state.get(next) === 1) cycles.push([...stack.slice(stack.indexOf(next)), next]);
    else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(file, 2);
}
for (const f of files) if (!state.has(f)) visit(f);

if (cycles.length) {
  process.stderr.write(`check-cycles: ${cycles.length} import cycle(s) under src/:\n`);
  for (const c of cycles) process.stderr.write(`  ${c.map((f) => relative(root, f)).join(" -> ")}\n`);
  process.stderr.write(
    "Fix: move what both sides need into a module of its own that neither imports back.\n",
  );
  process.exit(1);
}
process.stdout.write(`check-cycles: ${files.length} modules under src/, no import cycle\n`);
