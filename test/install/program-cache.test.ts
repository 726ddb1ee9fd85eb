// The program cache of `run --policy` against another local user: a cache directory that user owns or may
// write is never used, an entry that did not come from the caller's own sysfence is a miss, and what the
// cache writes is private whatever the umask.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AS_NOBODY, CLI_PATH as CLI, NOBODY, nobodyRoot, spawnCli } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const root = process.getuid?.() === 0;
const skip =
  process.platform !== "linux" ? "needs Linux" : !root ? "needs root (plants files as nobody)" : false;

/** A world-traversable scratch directory (mkdtemp's 0700 would keep nobody out). */
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), "sysfence-cache-"));
  chmodSync(d, 0o755);
  return d;
}

const sysfence = (args: string[], env: NodeJS.ProcessEnv, asNobody = false) =>
  spawnCli(args, { env, asNobody });

/** uname answered EACCES: enforced when uname fails with "Permission denied". */
function policyFiles(dir: string): { strict: string; allowAll: string } {
  const strict = join(dir, "strict.yaml");
  writeFileSync(strict, "defaultAction: allow\nsyscalls:\n  - names: [uname]\n    action: errno EACCES\n");
  const allowAll = join(dir, "allow.yaml");
  writeFileSync(allowAll, "defaultAction: allow\nsyscalls: []\n");
  chmodSync(strict, 0o644);
  chmodSync(allowAll, 0o644);
  return { strict, allowAll };
}

/**
 * As nobody, replaces every entry in nobody's cache with an allow-all program carrying a valid MAC under
 * nobody's own secret: the best plant another user can make.
 */
function plantAllowAll(dir: string, cacheHome: string, allowAll: string): void {
  const bpf = join(dir, "allow.bpf");
  const c = sysfence(["compile", allowAll, "--format", "bpf", "-o", bpf], {});
  assert.equal(c.status, 0, c.stderr);
  chmodSync(bpf, 0o644);
  const script = join(dir, "plant.mjs");
  writeFileSync(
    script,
    `import { readFileSync, readdirSync } from "node:fs";
import { decodeProgram } from "${nobodyRoot()}dist/src/bpf/insn.js";
import { openProgramCache } from "${nobodyRoot()}dist/src/install/program-cache.js";
const cache = openProgramCache(false);
if (!("put" in cache)) throw new Error("nobody's cache is not usable: " + cache.note);
const program = decodeProgram(readFileSync(${JSON.stringify(bpf)}));
let n = 0;
for (const f of readdirSync(cache.dir)) if (f.endsWith(".entry")) { cache.put(f.slice(0, -6), { program, launch: {} }); n++; }
console.log(n);
`,
  );
  chmodSync(script, 0o644);
  const r = spawnSync(AS_NOBODY[0], [...AS_NOBODY.slice(1), process.execPath, script], {
    encoding: "utf8",
    env: { ...process.env, XDG_CACHE_HOME: cacheHome },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "1", "one entry planted");
}

describe("program cache trust (real file system, run as nobody)", { skip }, () => {
  it("a cache planted by another uid is never used: the policy is compiled afresh and holds", () => {
    const dir = scratch();
    const { strict, allowAll } = policyFiles(dir);
    const cacheHome = join(dir, "cache");
    mkdirSync(cacheHome, { mode: 0o755 });
    chownSync(cacheHome, NOBODY, NOBODY);
    const env = { XDG_CACHE_HOME: cacheHome };
    const args = ["run", "--policy", strict, "--", "uname"];
    // nobody runs the same launch (its own cache, trusted by nobody), then swaps in an allow-all program
    const own = sysfence(args, env, true);
    assert.match(own.stderr, /Permission denied/, own.stderr);
    plantAllowAll(dir, cacheHome, allowAll);
    // the plant works for nobody itself: its own cache, its own secret
    const planted = sysfence(args, env, true);
    assert.equal(planted.status, 0, `the plant is a working allow-all entry for nobody: ${planted.stderr}`);
    // root, pointed at that cache, must not use it
    const r = sysfence(args, env);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Permission denied/, "uname still refused");
    assert.match(r.stderr, /not using the program cache: .* owned by uid 65534/);
  });

  it("a cache directory others may write is not used (and nothing is written into it)", () => {
    const dir = scratch();
    const { strict } = policyFiles(dir);
    for (const mode of [0o777, 0o1777, 0o775]) {
      const cacheHome = mkdtempSync(join(dir, "open-"));
      chmodSync(cacheHome, mode);
      const r = sysfence(["run", "--policy", strict, "--", "uname"], { XDG_CACHE_HOME: cacheHome });
      assert.match(r.stderr, /Permission denied/);
      assert.match(
        r.stderr,
        /not using the program cache: .* writable by (others|its group)/,
        mode.toString(8),
      );
      assert.deepEqual(readdirSync(cacheHome), [], "nothing created under an untrusted directory");
    }
  });

  it("entries without the caller's MAC are misses: forged, swapped between keys, symlinked", () => {
    const dir = scratch();
    const { strict, allowAll } = policyFiles(dir);
    const cacheHome = mkdtempSync(join(dir, "own-"));
    const env = { XDG_CACHE_HOME: cacheHome };
    const strictArgs = ["run", "--policy", strict, "--", "uname"];
    const allowArgs = ["run", "--policy", allowAll, "--", "uname"];
    assert.match(sysfence(strictArgs, env).stderr, /Permission denied/);
    const progDir = join(cacheHome, "sysfence", "programs");
    const [strictEntry] = readdirSync(progDir).filter((f) => f.endsWith(".entry"));
    const genuine = readFileSync(join(progDir, strictEntry));
    assert.equal(sysfence(allowArgs, env).status, 0);
    const allowEntry = readdirSync(progDir).find((f) => f.endsWith(".entry") && f !== strictEntry) as string;
    // 1. the allow-all entry copied under the strict key: its MAC names the other key
    writeFileSync(join(progDir, strictEntry), readFileSync(join(progDir, allowEntry)));
    let r = sysfence(strictArgs, env);
    assert.match(r.stderr, /Permission denied/, "a swapped entry is a miss");
    // 2. a forged entry: right shape, wrong MAC
    const forged = Buffer.from(readFileSync(join(progDir, allowEntry)));
    forged[0] ^= 0xff;
    writeFileSync(join(progDir, strictEntry), forged);
    r = sysfence(strictArgs, env);
    assert.match(r.stderr, /Permission denied/, "a forged entry is a miss");
    assert.deepEqual(
      readFileSync(join(progDir, strictEntry)),
      genuine,
      "the miss was compiled and stored again",
    );
    // 3. a symlink in place of an entry or of the secret is never followed
    spawnSync("sh", [
      "-c",
      `cd '${progDir}' && rm -f '${strictEntry}' && ln -s '${allowEntry}' '${strictEntry}'`,
    ]);
    assert.match(sysfence(strictArgs, env).stderr, /Permission denied/, "a symlinked entry is a miss");
    spawnSync("sh", ["-c", `cd '${progDir}' && rm -f secret && ln -s /etc/hostname secret`]);
    assert.match(sysfence(strictArgs, env).stderr, /Permission denied/, "a symlinked secret is not read");
    assert.equal(readFileSync("/etc/hostname").length > 0, true, "the symlink's target was not touched");
  });

  it("directories are 0700 and entries 0600 even under umask 000", () => {
    const dir = scratch();
    const { strict } = policyFiles(dir);
    const home = mkdtempSync(join(dir, "home-"));
    const r = spawnSync(
      "sh",
      ["-c", `umask 000; exec "${process.execPath}" "${CLI}" run --policy "${strict}" -- true`],
      { encoding: "utf8", env: { ...process.env, XDG_CACHE_HOME: join(home, "xdg") } },
    );
    assert.equal(r.status, 0, r.stderr);
    // $XDG_CACHE_HOME outside $HOME is its own trust anchor, created 0700 like the rest
    for (const d of ["xdg", "xdg/sysfence", "xdg/sysfence/programs"])
      assert.equal(statSync(join(home, d)).mode & 0o777, 0o700, d);
    const progDir = join(home, "xdg/sysfence/programs");
    const files = readdirSync(progDir);
    assert.ok(files.includes("secret") && files.some((f) => f.endsWith(".entry")), files.join(" "));
    assert.ok(!files.some((f) => f.endsWith(".tmp")), "no temp file left");
    for (const f of files) assert.equal(statSync(join(progDir, f)).mode & 0o777, 0o600, f);
  });

  it("a damaged entry is recompiled and the second launch comes from the cache", () => {
    const dir = scratch();
    const cacheHome = mkdtempSync(join(dir, "c-"));
    const env = { XDG_CACHE_HOME: cacheHome };
    const args = ["run", "--policy", `${REPO}examples/docker-default.json`, "--", "sh", "-c", "echo cached"];
    assert.equal(sysfence(args, env).stdout, "cached\n");
    const progDir = join(cacheHome, "sysfence", "programs");
    const entries = readdirSync(progDir).filter((f) => f.endsWith(".entry"));
    assert.equal(entries.length, 1);
    const stored = readFileSync(join(progDir, entries[0]));
    assert.equal(sysfence(args, env).stdout, "cached\n", "second launch from the cache");
    writeFileSync(join(progDir, entries[0]), Buffer.from([1, 2, 3]));
    const r = sysfence(args, env);
    assert.equal(r.stdout, "cached\n", r.stderr);
    assert.deepEqual(readFileSync(join(progDir, entries[0])), stored, "the entry was rewritten");
  });
});
