// The CLI is a shell over the library: every module of the command table may import from src/ only
// src/api, the CLI's own helpers (io, options, exit status, examples), the other command modules, the
// error class and the text helpers for printing. Imports are read with the TypeScript compiler (static,
// type-only, re-exports and `await import(…)`), so a command that reaches past src/api fails here.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { COMMANDS } from "../../src/cli/main.js";
import { REPO } from "../helpers/paths.js";

const COMMANDS_DIR = "src/cli/commands";

/** What any command module may import besides src/api and the other command modules. */
const ALLOWED = new Set([
  "src/cli/io.ts",
  "src/cli/options.ts",
  "src/cli/exit-status.ts",
  "src/cli/examples.ts",
  "src/cli/option-values.ts", // the word lists options take (checked here, offered by completion)
  "src/cli/progress.ts", // the progress line drawn on a terminal
  "src/cli/policy-input.ts", // api/policy-file.ts's readers with their warnings printed (itself checked below)
  "src/demo/run-demo.ts", // the guided demo: a front end over the library itself, as the CLI is (docs/design.md)
  "src/errors.ts",
  "src/util/errno.ts", // an errno's text in a message
  "src/util/printable.ts", // a record's text made safe for a terminal
]);

/**
 * The one exception, as a rule: run's path. `sysfence run` sits in front of every program it launches, so
 * its modules (run.ts and run-*.ts: the argument parser, --dry-run's JSON, the --learn launcher) are
 * bundled into dist/run.bundle.mjs and load only the modules run itself runs (docs/design.md, start-up):
 * the installer, the compiler and the policy model, the syscall table for operands, the learning launcher,
 * and the output file --learn writes. Going through src/api would pull the library's other steps (yaml, zod,
 * the readers) into that path. Its one computed import loads ./run-learn.js from its own file, outside the
 * bundle (run-learn.ts is checked itself). Every other command module may import nothing past src/api.
 */
const RUN_PATH = {
  modules: /^run(-[a-z-]+)?\.ts$/,
  may: [
    "src/install/",
    "src/compile/",
    "src/policy/",
    "src/learn/",
    "src/syscalls/",
    "src/util/output-file.ts",
    "<computed import at src/cli/commands/run.ts>",
  ],
};

/** What a command module may import past src/api and the allowed helpers: run's path only. */
const mayPastApi = (module: string, path: string): boolean =>
  RUN_PATH.modules.test(module) &&
  RUN_PATH.may.some((p) => path === p || (p.endsWith("/") && path.startsWith(p)));

/** Every module a file imports (relative specifiers, resolved to src/… paths ending in .ts). */
export function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(`${REPO}${file}`, "utf8"), ts.ScriptTarget.Latest, true);
  const found = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (
      (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) &&
      n.moduleSpecifier &&
      ts.isStringLiteral(n.moduleSpecifier)
    )
      found.add(n.moduleSpecifier.text);
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = n.arguments[0];
      // a computed specifier cannot be checked: refuse it rather than miss it
      found.add(a && ts.isStringLiteralLike(a) ? a.text : `<computed import at ${file}>`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return [...found]
    .filter((s) => s.startsWith(".") || s.startsWith("<"))
    .map((s) =>
      s.startsWith("<") ? s : relative(REPO, join(REPO, dirname(file), s)).replace(/\.js$/, ".ts"),
    );
}

/** The imports of a command module past what every command may use. */
function pastApi(file: string): string[] {
  return importsOf(file).filter(
    (p) => !p.startsWith("src/api/") && !p.startsWith(`${COMMANDS_DIR}/`) && !ALLOWED.has(p),
  );
}

describe("the CLI is a shell over src/api", () => {
  const modules = readdirSync(`${REPO}${COMMANDS_DIR}`).filter((f) => f.endsWith(".ts"));

  it("every command of the command table is registered by a module in src/cli/commands", () => {
    const main = readFileSync(`${REPO}src/cli/main.ts`, "utf8");
    for (const name of Object.keys(COMMANDS)) {
      const m = new RegExp(
        `\\b${name}: async \\(\\) => \\(\\{ register: \\(await import\\("\\./commands/([\\w-]+)\\.js"\\)\\)`,
      ).exec(main);
      assert.ok(m, `command ${name}: its module is not found in main.ts's table`);
      assert.ok(modules.includes(`${m[1]}.ts`), `command ${name}: ${m[1]}.ts is not in ${COMMANDS_DIR}`);
    }
  });

  it("no command module imports from src/ past src/api, but run's path as its rule says", () => {
    const problems: string[] = [];
    for (const f of modules)
      for (const p of pastApi(`${COMMANDS_DIR}/${f}`))
        if (!mayPastApi(f, p))
          problems.push(`${COMMANDS_DIR}/${f} imports ${p}: call a function of src/api instead (or add one)`);
    assert.deepEqual(problems, []);
  });

  it("run's rule is still needed: each thing it allows is imported by a module of run's path", () => {
    const used = modules
      .filter((f) => RUN_PATH.modules.test(f))
      .flatMap((f) => pastApi(`${COMMANDS_DIR}/${f}`));
    const stale = RUN_PATH.may.filter(
      (p) => !used.some((u) => u === p || (p.endsWith("/") && u.startsWith(p))),
    );
    assert.deepEqual(stale, [], "narrow RUN_PATH.may (or drop the rule) when run no longer needs these");
  });

  it("the CLI's own helpers that commands share reach the library only through src/api", () => {
    // io.ts (files written whole) and progress.ts (the analysis's progress types) are left out
    const problems: string[] = [];
    for (const f of ["policy-input.ts", "options.ts", "option-values.ts", "exit-status.ts", "examples.ts"])
      for (const p of pastApi(`src/cli/${f}`)) problems.push(`src/cli/${f} imports ${p}`);
    assert.deepEqual(problems, []);
  });

  it("the reader sees static, type-only, re-exported and dynamic imports", () => {
    const seen = importsOf("src/cli/commands/generate.ts");
    assert.ok(seen.includes("src/api/generate.ts"), "a dynamic import");
    assert.ok(seen.includes("src/cli/io.ts"), "a static import");
  });
});
