// The published package as a user installs it: `npm pack`, unpacked into a project's node_modules next to
// its dependencies, then `npx sysfence` and `import "sysfence"` from there (no network: the dependencies
// are this checkout's, the tarball is what npm would publish).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { describe, it } from "node:test";
import { REPO } from "../helpers/paths.js";

describe("npm pack: the tarball works as installed", () => {
  it("npx sysfence --help, run's bundled fast path, and the library import", () => {
    const dir = mkdtempSync(`${tmpdir()}/sysfence-pack-`);
    try {
      const pack = spawnSync("npm", ["pack", "--pack-destination", dir, "--json"], {
        cwd: REPO,
        encoding: "utf8",
      });
      assert.equal(pack.status, 0, pack.stderr);
      const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
      const files = info.files.map((f) => f.path);
      for (const f of [
        "dist/src/cli/main.js",
        "dist/src/index.d.ts",
        "dist/run.bundle.mjs",
        "dist/record.bundle.mjs",
        "schema/policy.schema.json",
        "README.md",
      ])
        assert.ok(files.includes(f), `${f} is in the tarball`);
      assert.ok(
        !files.some((f) => f.startsWith("dist/test/") || f.startsWith("test/")),
        "no tests in the tarball",
      );
      const project = `${dir}/project`;
      mkdirSync(`${project}/node_modules/.bin`, { recursive: true });
      writeFileSync(
        `${project}/package.json`,
        JSON.stringify({ name: "user-project", type: "module", private: true }),
      );
      const untar = spawnSync("tar", ["-xzf", `${dir}/${info.filename}`, "-C", `${project}/node_modules`]);
      assert.equal(untar.status, 0);
      // npm unpacks as "package/"; the dependencies are the exact versions this checkout installed
      spawnSync("mv", [`${project}/node_modules/package`, `${project}/node_modules/sysfence`]);
      const pkg = JSON.parse(readFileSync(`${project}/node_modules/sysfence/package.json`, "utf8"));
      for (const dep of Object.keys(pkg.dependencies)) {
        const target = `${project}/node_modules/${dep}`;
        if (dep.includes("/")) mkdirSync(target.slice(0, target.lastIndexOf("/")), { recursive: true });
        symlinkSync(`${REPO}node_modules/${dep}`, target);
      }
      // as npm's bin-links does at install: the bin is linked and made executable
      assert.equal(pkg.bin.sysfence, "dist/src/cli/main.js");
      symlinkSync("../sysfence/dist/src/cli/main.js", `${project}/node_modules/.bin/sysfence`);
      chmodSync(`${project}/node_modules/sysfence/dist/src/cli/main.js`, 0o755);
      assert.match(
        readFileSync(`${project}/node_modules/sysfence/dist/src/cli/main.js`, "utf8"),
        /^#!\/usr\/bin\/env node\n/,
      );
      const env = { ...process.env, npm_config_offline: "true", npm_config_update_notifier: "false" };
      const help = spawnSync("npx", ["sysfence", "--help"], { cwd: project, encoding: "utf8", env });
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /^Usage: sysfence /);
      const run = spawnSync("npx", ["sysfence", "run", "@default", "@basic-io", "--", "echo", "fenced"], {
        cwd: project,
        encoding: "utf8",
        env,
      });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.equal(run.stdout, "fenced\n");
      writeFileSync(
        `${project}/use.mjs`,
        'import { compile, parsePolicy, EXPORT_FORMATS } from "sysfence";\nconst { program } = compile(parsePolicy("defaultAction: allow\\nsyscalls: []\\n").policy);\nconsole.log(program.length > 0, EXPORT_FORMATS.includes("oci"));\n',
      );
      const lib = spawnSync(process.execPath, ["use.mjs"], { cwd: project, encoding: "utf8" });
      assert.equal(lib.status, 0, lib.stderr);
      assert.equal(lib.stdout, "true true\n");
      assert.ok(readdirSync(`${project}/node_modules/sysfence/dist/src`).includes("index.d.ts"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
