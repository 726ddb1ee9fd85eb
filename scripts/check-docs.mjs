#!/usr/bin/env node
// Every symbol the package exports publicly has a doc comment (issue 30, "0 undocumented public symbols").
//
// The public entry points are the TypeScript sources behind package.json's "exports" (and "main"): each
// `./dist/src/X.js` is `src/X.ts`. Every symbol an entry point exports, followed through re-exports to where
// it is declared, needs a JSDoc comment (`/** … */`) on its declaration (a variable's on its statement; one
// of an overloaded function's declarations is enough). A symbol marked `@internal` is refused too: it must
// not be exported from a public entry point.
// `node scripts/check-docs.mjs` prints each undocumented symbol as "file:line name (exported by entry)"
// and exits 1 when there is any; otherwise it prints the count checked.
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");

/** The source files behind package.json's "exports"/"main" that are TypeScript (dist/src/X.js → src/X.ts). */
export function entryPoints(base = root) {
  const pkg = JSON.parse(readFileSync(join(base, "package.json"), "utf8"));
  const targets = [];
  const walk = (v) => {
    if (typeof v === "string") targets.push(v);
    else if (v && typeof v === "object") for (const x of Object.values(v)) walk(x);
  };
  walk(pkg.exports);
  if (pkg.main) targets.push(pkg.main);
  const out = new Set();
  for (const t of targets) {
    const m = /^(?:\.\/)?dist\/(src\/.+)\.js$/.exec(t);
    if (m) out.add(`${m[1]}.ts`);
  }
  return [...out].sort();
}

/** The JSDoc comments on a declaration (a variable declaration's are on its statement). */
function docsOf(decl) {
  let node = decl;
  if (ts.isVariableDeclaration(node)) node = node.parent?.parent ?? node;
  return ts.getJSDocCommentsAndTags(node).filter((d) => ts.isJSDoc(d));
}

/** The text of a JSDoc, its tags included (a comment made only of `@param` still says something). */
const hasText = (doc) =>
  (typeof doc.comment === "string" ? doc.comment : (doc.comment ?? []).map((c) => c.text).join("")).trim()
    .length > 0 || (doc.tags ?? []).length > 0;

/** Every exported symbol of the entry points without a doc comment, or marked @internal. */
export function undocumented(base = root, entries = entryPoints(base)) {
  const files = entries.map((e) => join(base, e));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowJs: false,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const found = [];
  let checked = 0;
  for (const entry of entries) {
    const sf = program.getSourceFile(join(base, entry));
    const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) {
      found.push({
        name: "(module)",
        file: entry,
        line: 1,
        entry,
        problem: "has no exports the compiler can read",
      });
      continue;
    }
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const decls = (symbol.declarations ?? []).filter((d) => !ts.isSourceFile(d));
      if (decls.length === 0) continue;
      checked++;
      const docs = decls.flatMap(docsOf);
      const where = decls[0].getSourceFile();
      const at = {
        name: exported.getName(),
        file: relative(base, where.fileName),
        line: where.getLineAndCharacterOfPosition(decls[0].getStart(where)).line + 1,
        entry,
      };
      if (!docs.some(hasText)) found.push({ ...at, problem: "has no doc comment" });
      else if (docs.some((d) => (d.tags ?? []).some((t) => t.tagName.text === "internal")))
        found.push({ ...at, problem: "is marked @internal but exported publicly" });
    }
  }
  return { checked, found };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const { checked, found } = undocumented();
  for (const f of found)
    process.stderr.write(
      `check-docs: ${f.file}:${f.line} ${f.name} (exported by ${f.entry}) ${f.problem}: write one sentence on what it holds or does.\n`,
    );
  if (found.length === 0)
    process.stdout.write(
      `check-docs: ${checked} public symbols of ${entryPoints().join(", ")}, each documented\n`,
    );
  else process.stderr.write(`check-docs: ${found.length} of ${checked} public symbols undocumented\n`);
  process.exitCode = found.length > 0 ? 1 : 0;
}
