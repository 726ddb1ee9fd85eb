// analyzeAsync builds the facts of uncached objects in worker threads: its result is analyze()'s byte for
// byte (real programs, with and without the cache, the cache filled by the workers read back in one
// thread), an object that fails in a worker fails as it fails in one thread — the first object in load
// order first, even when a later one fails while the libraries are found — and a worker that dies is an
// error, never a wait without end.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { analyze, analyzeAsync } from "../../src/analyze/analyze.js";
import { FactsPool } from "../../src/analyze/facts-pool.js";
import { SysfenceError } from "../../src/errors.js";

const skip = process.platform !== "linux" || process.arch !== "x64" ? "needs Linux on x86_64" : false;
const gcc = spawnSync("gcc", ["--version"]).status === 0;
const which = (cmd: string) =>
  spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim();

/** The error a call throws (synchronously or as a rejection), or undefined. */
async function thrown(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("analyzeAsync: worker threads give analyze()'s result", { skip }, () => {
  const programs = ["/bin/ls", which("curl"), which("mosquitto")].filter(Boolean);
  for (const program of programs)
    it(`${program}: the same JSON uncached, filling the cache, and cached`, async () => {
      const one = JSON.stringify(analyze(program, { cache: false }));
      assert.equal(JSON.stringify(await analyzeAsync(program, { cache: false, workers: 2 })), one);
      process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), "sysfence-workers-"));
      const filled = await analyzeAsync(program, { workers: 2 });
      assert.ok(filled.libraries.every((l) => !l.cached));
      const cached = analyze(program);
      assert.ok(cached.libraries.every((l) => l.cached));
      const uncachedFlags = (s: string) => s.replaceAll('"cached":true', '"cached":false');
      assert.equal(uncachedFlags(JSON.stringify(filled)), one);
      assert.equal(uncachedFlags(JSON.stringify(cached)), one);
    });
});

describe("analyzeAsync: worker threads from a process started with a script as text", { skip }, () => {
  it("node --input-type=module -e: the workers start (they do not take --input-type)", () => {
    const script = `const { analyzeAsync } = await import(${JSON.stringify(new URL("../../src/analyze/analyze.js", import.meta.url).href)});
const r = await analyzeAsync("/bin/true", { cache: false, workers: 1 });
console.log(r.libraries.length);`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Number(r.stdout) >= 2, r.stdout);
  });
});

describe("analyzeAsync: errors", { skip: skip || (!gcc && "needs gcc") }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-workers-bad-"));
  const cc = (...args: string[]) => {
    const r = spawnSync("gcc", args, { encoding: "utf8", cwd: dir });
    assert.equal(r.status, 0, r.stderr);
  };
  /** Patches a 16-bit field of an ELF file's section header `name`. */
  const patchSection = (file: string, name: string, field: number, value: number) => {
    const b = readFileSync(file);
    const shoff = Number(b.readBigUInt64LE(40));
    const shnum = b.readUInt16LE(60);
    const strs = Number(b.readBigUInt64LE(shoff + b.readUInt16LE(62) * 64 + 24));
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * 64;
      const at = strs + b.readUInt32LE(o);
      if (b.toString("latin1", at, at + name.length + 1) === `${name}\0`) b.writeUInt16LE(value, o + field);
    }
    writeFileSync(file, b);
  };
  before(() => {
    writeFileSync(join(dir, "one.c"), "int one(void) { return 1; }\n");
    writeFileSync(join(dir, "two.c"), "int two(void) { return 2; }\n");
    writeFileSync(
      join(dir, "main.c"),
      "int one(void); int two(void);\nint main(void) { return one() + two(); }\n",
    );
    cc("-shared", "-fPIC", "-o", "libone.so", "one.c");
    cc("-shared", "-fPIC", "-o", "libtwo.so", "two.c");
    cc("-o", "main", "main.c", "-L.", "-lone", "-ltwo", `-Wl,-rpath,${dir}`);
    cc("-o", "two", "main.c", "-L.", "-ltwo", "-lone", `-Wl,-rpath,${dir}`);
    // libone: .dynsym links to a string table that is not there (its head reads; the whole file does not)
    patchSection(join(dir, "libone.so"), ".dynsym", 40, 0xfff0);
    // libtwo: program header entries too small (its head does not read: found while finding the libraries)
    const two = readFileSync(join(dir, "libtwo.so"));
    two.writeUInt16LE(8, 54);
    writeFileSync(join(dir, "libtwo.so"), two);
  });

  it("the first object in load order that fails gives the error, as in one thread", async () => {
    // main needs libone (fails in a worker), then libtwo (fails here, while the libraries are found)
    const one = await thrown(() => analyze(join(dir, "main"), { cache: false }));
    assert.ok(one instanceof SysfenceError, String(one));
    assert.match(one.message, /libone\.so.*\.dynsym links to a missing string table/);
    for (const workers of [1, 2]) {
      const many = await thrown(() => analyzeAsync(join(dir, "main"), { cache: false, workers }));
      assert.ok(many instanceof SysfenceError, String(many));
      assert.equal(many.code, one.code);
      assert.equal(many.message, one.message);
    }
  });

  it("an object failing while the libraries are found, none before it failing: its error", async () => {
    const two = join(dir, "two");
    const one = await thrown(() => analyze(two, { cache: false }));
    assert.ok(one instanceof SysfenceError, String(one));
    assert.match(one.message, /libtwo\.so/);
    const many = await thrown(() => analyzeAsync(two, { cache: false, workers: 2 }));
    assert.ok(many instanceof SysfenceError, String(many));
    assert.equal(many.code, one.code);
    assert.equal(many.message, one.message);
  });

  it("a worker that dies fails its object and those waiting (E_ANALYZE), and no wait is left", async () => {
    const dies = join(dir, "dies.mjs");
    writeFileSync(
      dies,
      'import { parentPort } from "node:worker_threads";\nparentPort.postMessage({ type: "ready" });\nparentPort.on("message", () => process.exit(7));\n',
    );
    const pool = new FactsPool(1, pathToFileURL(dies));
    const bytes = () => readFileSync("/bin/true");
    const results = await Promise.allSettled([
      pool.build(bytes(), "/bin/true"),
      pool.build(bytes(), "/bin/true"),
    ]);
    pool.close();
    for (const r of results) {
      assert.equal(r.status, "rejected");
      const e = (r as PromiseRejectedResult).reason;
      assert.ok(e instanceof SysfenceError && e.code === "E_ANALYZE", String(e));
      assert.match(e.message, /exit code 7/);
    }
    const late = await thrown(() => pool.build(bytes(), "/bin/true"));
    assert.ok(late instanceof SysfenceError && late.code === "E_ANALYZE");
  });
});
