// The README's install lines, offline (CI may build without a network): `npm install -g .` from the checkout
// into a temporary prefix with the real npm, and the packed tarball (`npm pack`) laid out as `npm install -g`
// lays it out. A tarball's own `npm install -g ./sysfence-*.tgz` needs the registry for its dependencies (with
// --offline and no cached metadata npm stops with ENOTCACHED), so the packed files get the checkout's
// dependencies. Each install: `sysfence --help`, a `run`, a `record` and `import("sysfence")`'s lockdown.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "../helpers/paths.js";

const onLinux = process.platform === "linux" ? false : "needs Linux";
const hasNpm = spawnSync("npm", ["--version"], { encoding: "utf8" }).status === 0 ? false : "needs npm";
const hasStrace = spawnSync("strace", ["-V"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "sysfence-install-"));
/** npm without the network, the user's cache or package scripts. */
const npm = (args: string[], cwd = dir) =>
  spawnSync(
    "npm",
    [...args, "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--cache", join(dir, "npm-cache")],
    { encoding: "utf8", cwd, timeout: 120000 },
  );

/** The installed CLI and library under PREFIX work: help, run, record (strace), import's lockdown. */
function checkInstalled(prefix: string): void {
  const env = {
    ...process.env,
    PATH: `${join(prefix, "bin")}:${dirname(process.execPath)}:${process.env.PATH}`,
  };
  const sh = (args: string[]) =>
    spawnSync("sysfence", args, { encoding: "utf8", env, cwd: dir, timeout: 60000 });
  const help = sh(["--help"]);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: sysfence /);
  const run = sh([
    "run",
    "--policy",
    `${REPO}examples/docker-default.json`,
    "sh",
    "-c",
    "echo ran under $0",
    "x",
  ]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, "ran under x\n");
  if (hasStrace) {
    const out = join(dir, `${prefix.split("/").pop()}.profile.json`);
    const rec = sh(["record", "-q", "--engine", "strace", "-o", out, "ls", "/"]);
    assert.equal(rec.status, 0, rec.stderr);
    assert.ok(JSON.parse(readFileSync(out, "utf8")).syscalls.getdents64, "ls's calls recorded");
  }
  const lib = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      'const m = await import("sysfence"); console.log(typeof m.lockdown, typeof m.generatePolicy)',
    ],
    { encoding: "utf8", cwd: join(prefix, "lib"), timeout: 30000 },
  );
  assert.equal(lib.status, 0, lib.stderr);
  assert.equal(lib.stdout, "function function\n");
}

describe("installing from a checkout (offline, into a temporary prefix)", { skip: onLinux || hasNpm }, () => {
  it("the package has Apache-2.0's full text as LICENSE, in its files", () => {
    const text = readFileSync(`${REPO}LICENSE`, "utf8");
    assert.match(text, /^\s*Apache License\s+Version 2\.0, January 2004/);
    assert.match(text, /END OF TERMS AND CONDITIONS/);
    const pkg = JSON.parse(readFileSync(`${REPO}package.json`, "utf8"));
    assert.equal(pkg.license, "Apache-2.0");
    assert.ok(pkg.files.includes("LICENSE"));
  });

  it("npm install -g . (the README's line): the CLI and the library work", () => {
    const prefix = join(dir, "linked");
    const r = npm(["install", "-g", "--prefix", prefix, "."], REPO);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(prefix, "bin", "sysfence")));
    checkInstalled(prefix);
  });

  it("npm pack: the tarball holds what the CLI and the library need, and they work from it", () => {
    const packed = npm(["pack", REPO, "--pack-destination", dir, "--json"]);
    assert.equal(packed.status, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = new Set(info.files.map((f) => f.path));
    for (const f of ["LICENSE", "README.md", "package.json", "dist/src/cli/main.js", "dist/src/index.js"])
      assert.ok(files.has(f), `${f} is in the tarball`);
    assert.ok(files.has("dist/src/index.d.ts"), "the library's types");
    if (existsSync(`${REPO}dist/run.bundle.mjs`)) assert.ok(files.has("dist/run.bundle.mjs"));
    if (existsSync(`${REPO}dist/record.bundle.mjs`)) assert.ok(files.has("dist/record.bundle.mjs"));
    assert.ok(![...files].some((f) => f.startsWith("dist/test/") || f.startsWith("node_modules/")));
    // as npm install -g lays it out: PREFIX/lib/node_modules/sysfence, the bin linked into PREFIX/bin
    const prefix = join(dir, "packed");
    const pkgDir = join(prefix, "lib", "node_modules", "sysfence");
    mkdirSync(join(prefix, "bin"), { recursive: true });
    mkdirSync(dirname(pkgDir), { recursive: true });
    const untar = spawnSync("tar", ["-xzf", join(dir, info.filename), "-C", dirname(pkgDir)]);
    assert.equal(untar.status, 0, String(untar.stderr));
    renameSync(join(dirname(pkgDir), "package"), pkgDir);
    symlinkSync(`${REPO}node_modules`, join(pkgDir, "node_modules"));
    const bin = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).bin.sysfence as string;
    chmodSync(join(pkgDir, bin), 0o755);
    symlinkSync(join("..", "lib", "node_modules", "sysfence", bin), join(prefix, "bin", "sysfence"));
    checkInstalled(prefix);
  });
});
