// The analysis cache is keyed by content, not by build-id alone: a linker writes any build-id it is told
// (-Wl,--build-id=0x…), so two different programs can share one. An unchanged identity (device, inode,
// size, mtime, ctime) skips the hashing; a changed one hashes again and finds the same facts. Real gcc
// output, the real file system, analyze() and generate --static's staticInput() in this process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { analyze } from "../../src/analyze/analyze.js";
import { buildIdOfFile, readElf } from "../../src/analyze/elf.js";
import { FACTS_VERSION, type ObjectFacts, objectFacts } from "../../src/analyze/facts.js";
import { decodeFacts, encodeFacts } from "../../src/analyze/facts-codec.js";
import { contentHashing } from "../../src/analyze/object-cache.js";
import { staticInput } from "../../src/generate/static-input.js";
import type { Profile } from "../../src/record/profile.js";

const gcc = spawnSync("gcc", ["--version"]).status === 0;
const skip = process.platform !== "linux" || process.arch !== "x64" ? "needs Linux on x86_64" : false;
const BUILD_ID = "0123456789abcdef0123456789abcdef0badc0de";
const DANGEROUS = ["ptrace", "mount", "reboot", "kexec_load"];

const freshCache = () => {
  process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), "sysfence-objcache-"));
};
const names = (path: string) => Object.keys(analyze(path).syscalls);

describe("analysis cache: two programs with one build-id", { skip: skip || (!gcc && "needs gcc") }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-buildid-"));
  const quiet = join(dir, "quiet");
  const loud = join(dir, "loud");
  before(() => {
    const build = (out: string, source: string) => {
      writeFileSync(`${out}.c`, source);
      const r = spawnSync("gcc", ["-O1", `-Wl,--build-id=0x${BUILD_ID}`, "-o", out, `${out}.c`], {
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
    };
    build(
      quiet,
      "#include <stdlib.h>\n#include <unistd.h>\nint main(void) { if (getpid() == 1) return 3; exit(0); }\n",
    );
    build(
      loud,
      `#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
  (void)argv;
  if (argc > 5) {
    syscall(SYS_ptrace, 0, 0, 0, 0);
    syscall(SYS_mount, 0, 0, 0, 0, 0);
    syscall(SYS_reboot, 0, 0, 0, 0);
    syscall(SYS_kexec_load, 0, 0, 0, 0);
  }
  return 0;
}
`,
    );
    assert.equal(buildIdOfFile(quiet), BUILD_ID);
    assert.equal(buildIdOfFile(loud), BUILD_ID);
  });

  it("the second program is reported with its own syscalls, not the first one's cached facts", () => {
    freshCache();
    const first = names(quiet);
    assert.ok(first.includes("getpid"));
    for (const n of DANGEROUS) assert.ok(!first.includes(n), `${n} in the quiet program`);
    const second = analyze(loud);
    for (const n of DANGEROUS) assert.ok(n in second.syscalls, `${n} missing from the loud program`);
    assert.equal(second.libraries[0].cached, false, "the program's facts were not taken from the cache");
    assert.ok(
      second.libraries.slice(1).every((l) => l.cached),
      "libc and ld.so came from the cache",
    );
    // and the other way round, with both in the cache
    for (const n of DANGEROUS) assert.ok(!names(quiet).includes(n));
  });

  it("generate --static's per-program facts come from the content, not the shared build-id", () => {
    freshCache();
    names(quiet);
    const profile = {
      processes: [{ pid: 1, exe: loud, buildId: BUILD_ID, threads: [] }],
      paths: {},
    } as unknown as Profile;
    const st = staticInput([profile], "on", undefined, () => {});
    assert.ok(st);
    for (const n of DANGEROUS) assert.ok(st.reachable.has(n), `${n} not reachable for generate --static`);
  });

  it("touching a file (a new mtime, same bytes) hashes it again and changes nothing", () => {
    freshCache();
    const first = analyze(loud);
    const hashed = contentHashing.files;
    utimesSync(loud, new Date(2001, 0, 1), new Date(2001, 0, 1));
    const again = analyze(loud);
    assert.deepEqual(again.syscalls, first.syscalls);
    assert.equal(again.libraries[0].cached, true, "same content: the facts are the cached ones");
    assert.ok(contentHashing.files > hashed, "the changed identity was checked against the content");
  });
});

describe("analysis cache: an unchanged identity is not hashed again", { skip }, () => {
  it("the second analysis of /bin/true and its libraries reads no file content", () => {
    freshCache();
    const first = analyze("/bin/true");
    assert.ok(first.libraries.length >= 3, "the program, libc and ld.so");
    const hashed = { ...contentHashing };
    const second = analyze("/bin/true");
    assert.deepEqual(contentHashing, hashed, "nothing was hashed");
    assert.ok(second.libraries.every((l) => l.cached));
    assert.deepEqual(second.syscalls, first.syscalls);
  });
  it("with the cache off everything is analysed afresh and nothing hashed", () => {
    const hashed = { ...contentHashing };
    const r = analyze("/bin/true", { cache: false });
    assert.ok(r.libraries.every((l) => !l.cached));
    assert.deepEqual(contentHashing, hashed);
  });
});

describe("analysis cache: the stored form of facts", { skip }, () => {
  /** Facts with their tables as arrays (what a deep comparison and the old JSON form see). */
  const plain = (f: ObjectFacts) => ({
    ...f,
    starts: Array.from(f.starts),
    functions: [...f.functions],
    partitions: [...f.partitions],
  });
  it("libc's facts come back from their entry body exactly, in a body far smaller than JSON", () => {
    const libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    const facts = objectFacts(readElf(readFileSync(libc), libc));
    const body = encodeFacts(facts);
    const back = decodeFacts(body);
    assert.ok(back);
    assert.deepEqual(plain(back), plain(facts));
    assert.ok(body.length < JSON.stringify(plain(facts)).length * 0.6, `${body.length} bytes stored`);
    // a body at an odd offset in its buffer (typed arrays need alignment) decodes the same
    const odd = Buffer.concat([Buffer.alloc(3), body]).subarray(3);
    assert.deepEqual(plain(decodeFacts(odd) as ObjectFacts), plain(facts));
  });
  it("a truncated or other-version body is a miss; a record that does not fit is one clear error", () => {
    const libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    const body = encodeFacts(objectFacts(readElf(readFileSync(libc), libc)));
    assert.equal(decodeFacts(Buffer.from('{"functions": [')), undefined, "the old JSON form");
    assert.equal(decodeFacts(body.subarray(0, body.length - 4)), undefined, "truncated");
    assert.equal(decodeFacts(body.subarray(0, 20)), undefined, "a bare header");
    const other = Buffer.from(body);
    other.writeUInt32LE(FACTS_VERSION + 1, 8);
    assert.equal(decodeFacts(other), undefined, "another facts version");
    const swapped = Buffer.from(body);
    swapped.writeUInt32BE(0x01020304, 4);
    assert.equal(decodeFacts(swapped), undefined, "the other byte order");
    const head = Buffer.from(body);
    head[40] = 0x5d; // the head's opening brace
    assert.equal(decodeFacts(head), undefined, "a head that is not JSON");
    // a function's call count one higher: its ints no longer end where the next function's start
    const counts = Buffer.from(body);
    const [text, names, F, P, I, V] = [12, 16, 20, 24, 28, 32].map((o) => counts.readUInt32LE(o));
    const intsAt = 40 + ((text + names + 7) & ~7) + F * 8 + V * 8 + (2 * (F + 1) + P + 1) * 4;
    assert.equal(intsAt + I * 4, counts.length);
    counts.writeInt32LE(counts.readInt32LE(intsAt + 12) + 1, intsAt + 12);
    const decoded = decodeFacts(counts, "/cache/x.entry") as ObjectFacts;
    assert.throws(
      () => [...decoded.functions],
      (e: Error & { code?: string }) =>
        e.code === "E_ANALYZE" &&
        /^the analysis cache entry \/cache\/x\.entry is damaged \(function 0 does not fit its offsets\); delete it, or run with --no-cache\.$/.test(
          e.message,
        ),
    );
    // an offset table that runs backwards is a miss up front
    const offsets = Buffer.from(body);
    const offAt = intsAt - (2 * (F + 1) + P + 1) * 4;
    offsets.writeInt32LE(I + 1, offAt + 4);
    assert.equal(decodeFacts(offsets), undefined, "offsets out of order");
  });
  it("a cached analysis gives what an uncached one does", () => {
    freshCache();
    const fresh = analyze("/bin/true", { cache: false });
    analyze("/bin/true");
    const cached = analyze("/bin/true");
    assert.ok(cached.libraries.every((l) => l.cached));
    assert.deepEqual(cached.syscalls, fresh.syscalls);
    assert.equal(cached.unresolved, fresh.unresolved);
  });
});
