// The ELF reader against real files (checked with readelf) and against damaged ones: a mutated or
// truncated file is one SysfenceError naming it, never a crash or a hang.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readElf } from "../../src/analyze/elf.js";
import { objectFacts } from "../../src/analyze/facts.js";
import { SysfenceError } from "../../src/errors.js";
import { spawnCli } from "../helpers/cli.js";

const linux = process.platform === "linux" ? false : "needs Linux";
const readelf = (args: string[]) => spawnSync("readelf", args, { encoding: "utf8" }).stdout;

describe("ELF reader on real files", { skip: linux }, () => {
  it("reads DT_NEEDED, RUNPATH, the interpreter and the build-id as readelf does", () => {
    const curl = spawnSync("sh", ["-c", "command -v curl"], { encoding: "utf8" }).stdout.trim() || "/bin/ls";
    const elf = readElf(readFileSync(curl), curl);
    const dyn = readelf(["-dW", curl]);
    const needed = [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    assert.deepEqual(elf.dynamic.needed, needed);
    const notes = readelf(["-nW", curl]);
    assert.equal(elf.buildId, /Build ID: ([0-9a-f]+)/.exec(notes)?.[1]);
    assert.equal(
      elf.interp,
      /\[Requesting program interpreter: ([^\]]+)\]/.exec(readelf(["-lW", curl]))?.[1],
    );
    assert.ok(elf.frameStarts.length > 100, "function starts from .eh_frame_hdr");
  });
  it("reads RELR relocations (Debian's glibc uses them for its init array)", () => {
    const libc = readElf(readFileSync("/lib/x86_64-linux-gnu/libc.so.6"), "libc");
    const initArray = libc.dynamic.initArray;
    assert.ok(initArray);
    assert.ok(
      libc.relocations.some((r) => r.offset === initArray[0] && r.addend > 0),
      "init array slot relocated",
    );
  });
});

describe("ELF reader on damaged files (fuzz)", { skip: linux }, () => {
  const base = readFileSync("/bin/true");
  let seed = 20261130;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  it("1,000 mutations of /bin/true: each reads or is one E_ELF_INVALID/E_ANALYZE error", () => {
    const outcomes = { ok: 0, refused: 0 };
    for (let n = 0; n < 1000; n++) {
      const b = Buffer.from(base);
      const kind = n % 4;
      let bytes: Buffer = b;
      if (kind === 0) bytes = b.subarray(0, rand(b.length));
      else if (kind === 1)
        for (let k = 0; k < 1 + rand(8); k++) b[rand(Math.min(b.length, 4096))] = rand(256);
      else if (kind === 2) {
        // a 64-bit header field (offsets, sizes, counts) set to something large
        const at = [24, 32, 40, 54, 56, 58, 60, 62][rand(8)];
        b.writeUInt16LE(rand(65536), at);
      } else {
        const shoff = Number(b.readBigUInt64LE(40));
        const at = shoff + 64 * rand(b.readUInt16LE(60)) + [16, 24, 32, 40, 56][rand(5)];
        if (at + 8 <= b.length) b.writeBigUInt64LE(BigInt(rand(2 ** 31)) * BigInt(1 + rand(1 << 20)), at);
      }
      try {
        objectFacts(readElf(bytes, "mutant"));
        outcomes.ok++;
      } catch (e) {
        assert.ok(e instanceof SysfenceError, `mutation ${n} (kind ${kind}): ${(e as Error).stack}`);
        assert.ok(["E_ELF_INVALID", "E_ANALYZE"].includes(e.code));
        assert.match(e.message, /^mutant/);
        outcomes.refused++;
      }
    }
    assert.ok(outcomes.refused > 100 && outcomes.ok > 50, JSON.stringify(outcomes));
  });
  it("a jump to code before every function start (DT_INIT dropped, _start jumps to .init): a partial analysis", () => {
    // the mutation that crashed objectFacts (functions[-1].wrapperArg): the jump's target is in an
    // executable section but before the first known function, so fnOf() found no function for it
    const b = Buffer.from(base);
    const shoff = Number(b.readBigUInt64LE(40));
    const sections = Array.from({ length: b.readUInt16LE(60) }, (_, i) => shoff + 64 * i);
    const dyn = sections.find((o) => b.readUInt32LE(o + 4) === 6); // SHT_DYNAMIC
    assert.ok(dyn !== undefined);
    const [off, size] = [Number(b.readBigUInt64LE(dyn + 24)), Number(b.readBigUInt64LE(dyn + 32))];
    let init = -1;
    for (let d = off; d < off + size; d += 16)
      if (b.readBigUInt64LE(d) === 12n) {
        init = Number(b.readBigUInt64LE(d + 8));
        b.writeBigUInt64LE(21n, d); // DT_INIT → DT_DEBUG
      }
    assert.ok(init > 0, "/bin/true has DT_INIT");
    const entry = Number(b.readBigUInt64LE(24));
    const text = sections.find((o) => {
      const addr = Number(b.readBigUInt64LE(o + 16));
      return entry >= addr && entry < addr + Number(b.readBigUInt64LE(o + 32));
    });
    assert.ok(text !== undefined);
    const at = entry - Number(b.readBigUInt64LE(text + 16)) + Number(b.readBigUInt64LE(text + 24));
    b[at] = 0xe9; // jmp rel32 → .init
    b.writeInt32LE(init - (entry + 5), at + 1);
    const facts = objectFacts(readElf(b, "mutant"));
    assert.ok(
      [...facts.functions].some((f) => f.unresolved > 0),
      "the jump into no known function is counted as unresolved",
    );
    const dir = mkdtempSync(join(tmpdir(), "sysfence-elf-"));
    writeFileSync(join(dir, "mutant"), b);
    const r = spawnCli(["analyze", "--json", join(dir, "mutant")], { env: { XDG_CACHE_HOME: dir } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).unresolved > 0);
  });
  it("the CLI: a missing file, a directory, a text file, a truncated program — one line, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-elf-"));
    writeFileSync(join(dir, "text"), "echo hi\n"); // (a #! script is analysed through its interpreter)
    writeFileSync(join(dir, "cut"), base.subarray(0, 300));
    for (const [file, why] of [
      [join(dir, "missing"), /cannot read .*missing: ENOENT/],
      [dir, /cannot read .*: EISDIR/],
      [join(dir, "text"), /text: not a valid ELF file \(no ELF magic\)/],
      [join(dir, "cut"), /cut: not a valid ELF file \(.* runs past the end of the file/],
    ] as const) {
      const r = spawnCli(["analyze", file]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  });
});

describe("analysis cache", { skip: linux }, () => {
  it("a second analysis reads every library from the cache; a forged entry is a miss", () => {
    const cacheHome = mkdtempSync(join(tmpdir(), "sysfence-acache-"));
    const env = { XDG_CACHE_HOME: cacheHome };
    const first = JSON.parse(spawnCli(["analyze", "--json", "/bin/ls"], { env }).stdout);
    assert.ok(first.libraries.every((l: { cached: boolean }) => !l.cached));
    const second = JSON.parse(spawnCli(["analyze", "--json", "/bin/ls"], { env }).stdout);
    assert.ok(second.libraries.every((l: { cached: boolean; buildId?: string }) => l.cached || !l.buildId));
    assert.deepEqual(second.syscalls, first.syscalls);
    // an entry rewritten without the secret (fewer syscalls for libc) is not believed
    const dir = join(cacheHome, "sysfence", "analysis");
    const libc = second.libraries.find((l: { path: string }) => l.path.endsWith("libc.so.6"));
    const entry = join(
      dir,
      spawnSync("sh", ["-c", `ls ${dir} | grep ${libc.buildId}`], { encoding: "utf8" }).stdout.trim(),
    );
    const raw = readFileSync(entry);
    // every syscall number (the f64 values after the head and starts, facts-codec.ts) made 0 (read)
    const forged = Buffer.from(raw.subarray(32));
    const [head, names, F, V] = [12, 16, 20, 32].map((o) => forged.readUInt32LE(o));
    const valsAt = 40 + ((head + names + 7) & ~7) + F * 8;
    assert.ok(V > 0, "libc's entry holds syscall numbers");
    forged.fill(0, valsAt, valsAt + V * 8);
    assert.notDeepEqual(forged, raw.subarray(32), "the forgery changes the entry");
    writeFileSync(entry, Buffer.concat([raw.subarray(0, 32), forged]));
    // the result kept whole (result-cache.ts) would be given back without reading the facts: gone, they are read
    for (const f of readdirSync(dir)) if (f.startsWith("result-")) rmSync(join(dir, f));
    const third = JSON.parse(spawnCli(["analyze", "--json", "/bin/ls"], { env }).stdout);
    assert.deepEqual(third.syscalls, first.syscalls, "the forged entry was not used");
    assert.equal(third.libraries.find((l: { path: string }) => l.path.endsWith("libc.so.6")).cached, false);
  });
});
