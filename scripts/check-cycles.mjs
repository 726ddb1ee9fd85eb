#!/usr/bin/env node
// Fails when the modules under src/ import each other in a cycle (type-only imports included:
// a cycle of types still means two modules that cannot be understood one without the other).
// Prints each cycle once, as the chain of files that closes it.
//
// Folders too: each folder directly under src/ (its subfolders included) is one node, and each file directly
// under src/ (errors.ts, index.ts) one of its own. An import from folder A into folder B is an edge A → B; a
// cycle of edges (A → B and B → A at the least) fails, unless each import that closes it is listed in
// FOLDER_EXCEPTIONS with its reason. docs/design.md ("Folders") draws the map this enforces.
// `node scripts/check-cycles.mjs --folders` prints the folder graph.
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

/**
 * Imports that may go against the folder order, each with why. An entry that matches no import fails, so
 * an exception cannot outlive its import.
 */
const FOLDER_EXCEPTIONS = [
  {
    from: "src/bpf/disasm.ts",
    to: "src/policy/actions.ts",
    reason:
      "the disassembly prints a return value as the policy text says it (formatAction: one spelling of actions); policy/actions.ts imports only abi, syscalls and errors",
  },
];

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

/** The folder node of a file: src/FOLDER, or the file itself when it sits directly under src/. */
function folderOf(file) {
  const parts = relative(src, file).split("/");
  return `src/${parts[0]}`;
}
const excepted = new Set(FOLDER_EXCEPTIONS.map((e) => `${e.from} ${e.to}`));
const usedExceptions = new Set();
/** folder → folder → the first import (file → file) that makes the edge. */
const folderEdges = new Map();
for (const [file, targets] of graph)
  for (const target of targets) {
    const a = folderOf(file);
    const b = folderOf(target);
    if (a === b) continue;
    const key = `${relative(root, file)} ${relative(root, target)}`;
    if (excepted.has(key)) {
      usedExceptions.add(key);
      continue;
    }
    if (!folderEdges.has(a)) folderEdges.set(a, new Map());
    if (!folderEdges.get(a).has(b)) folderEdges.get(a).set(b, key.replace(" ", " -> "));
  }
const folderCycles = [];
const folderState = new Map();
const folderStack = [];
function visitFolder(folder) {
  folderState.set(folder, 1);
  folderStack.push(folder);
  for (const next of [...(folderEdges.get(folder)?.keys() ?? [])].sort()) {
    if (folderState.get(next) === 1)
      folderCycles.push([...folderStack.slice(folderStack.indexOf(next)), next]);
    else if (!folderState.has(next)) visitFolder(next);
  }
  folderStack.pop();
  folderState.set(folder, 2);
}
for (const f of [...folderEdges.keys()].sort()) if (!folderState.has(f)) visitFolder(f);
const staleExceptions = FOLDER_EXCEPTIONS.filter((e) => !usedExceptions.has(`${e.from} ${e.to}`));

if (process.argv.includes("--folders")) {
  for (const a of [...folderEdges.keys()].sort())
    process.stdout.write(`${a} -> ${[...folderEdges.get(a).keys()].sort().join(", ")}\n`);
}

let failed = false;
if (folderCycles.length) {
  failed = true;
  process.stderr.write(`check-cycles: ${folderCycles.length} folder cycle(s) under src/:\n`);
  for (const c of folderCycles) {
    process.stderr.write(`  ${c.join(" -> ")}, by:\n`);
    for (let i = 0; i + 1 < c.length; i++)
      process.stderr.write(`    ${folderEdges.get(c[i]).get(c[i + 1])}\n`);
  }
  process.stderr.write(
    "Fix: move what the lower folder needs from the upper one down (src/abi holds the kernel's encoding), or list the import in FOLDER_EXCEPTIONS in scripts/check-cycles.mjs with the reason it must go upwards.\n",
  );
}
if (staleExceptions.length) {
  failed = true;
  for (const e of staleExceptions)
    process.stderr.write(
      `check-cycles: FOLDER_EXCEPTIONS lists ${e.from} -> ${e.to}, but ${e.from} no longer imports it; remove the entry from scripts/check-cycles.mjs.\n`,
    );
}
if (cycles.length) {
  process.stderr.write(`check-cycles: ${cycles.length} import cycle(s) under src/:\n`);
  for (const c of cycles) process.stderr.write(`  ${c.map((f) => relative(root, f)).join(" -> ")}\n`);
  process.stderr.write(
    "Fix: move what both sides need into a module of its own that neither imports back.\n",
  );
  failed = true;
}
if (failed) process.exit(1);
process.stdout.write(
  `check-cycles: ${files.length} modules in ${new Set(files.map(folderOf)).size} folders under src/, no import cycle between modules or folders\n`,
);
