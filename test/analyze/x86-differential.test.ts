// Our x86_64 decoder (src/analyze/x86/) against iced-x86, the decoder it replaced (issue 28): both turn the
// same machine code into OpStreams, compared entry by entry and field by field (addr, kind, reg, reg2, val,
// ref, wmask). Real binaries on this machine (every executable section the analysis decodes), every one-byte
// and 0F-map opcode with every ModRM byte under the prefixes that change them, seeded random bytes, and the
// analysis' JSON of whole programs with each decoder. bench/x86-diff.ts runs the big binaries (node).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { analyze } from "../../src/analyze/analyze.js";
import { decodeX86 } from "../../src/analyze/x86.js";
import { REPO } from "../helpers/paths.js";
import { execSections, describe as explain, firstDifference } from "../helpers/x86-compare.js";
import { decodeX86Iced } from "../helpers/x86-iced.js";

const skip = process.platform !== "linux" || process.arch !== "x64" ? "needs Linux on x86_64" : false;

/** Asserts both decoders give one stream for `code`, naming the first difference. */
function same(code: Uint8Array, base: number, what: string): void {
  const ours = decodeX86(code, base);
  const iced = decodeX86Iced(code, base);
  const d = firstDifference(ours, iced);
  assert.equal(
    d,
    undefined,
    d && `${what}: ${d.field} differs at ${explain(code, base, ours, iced, d.index)}`,
  );
}

describe("x86_64 decoder: the OpStream iced-x86 gives", { skip }, () => {
  // libc and ld.so (gcc), libstdc++ (C++), mosquitto (a daemon), runc (Go: its own assembler and ABI)
  const binaries = [
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/lib64/ld-linux-x86-64.so.2",
    "/lib/x86_64-linux-gnu/libstdc++.so.6",
    "/usr/sbin/mosquitto",
    "/usr/bin/runc",
  ].filter((f) => existsSync(f));

  it("for every executable section of real binaries", () => {
    assert.ok(binaries.length >= 2, "too few of the binaries on this machine");
    for (const file of binaries)
      for (const sec of execSections(file)) same(sec.code, sec.addr, `${file} ${sec.name}`);
  });

  it("for every one-byte, 0F, 0F 38 and 0F 3A opcode with each ModRM byte, under each prefix", () => {
    const tail = [0x25, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc];
    const prefixes = [[], [0x66], [0xf3], [0xf2], [0x48], [0x4d], [0xf0], [0x67]];
    const maps = [[], [0x0f], [0x0f, 0x38], [0x0f, 0x3a]];
    for (const [k, prefix] of prefixes.entries())
      for (const map of maps)
        for (let op = 0; op < 256; op++)
          // every ModRM byte without a prefix; every fifth (each mod, reg and r/m still seen) with one
          for (let m = k === 0 ? 0 : op % 5; m < 256; m += k === 0 ? 1 : 5) {
            const code = Uint8Array.from([...prefix, ...map, op, m, ...tail]);
            same(
              code,
              0x401000,
              Buffer.from(code.subarray(0, prefix.length + map.length + 2)).toString("hex"),
            );
          }
  });

  it("for random bytes (seeded)", () => {
    let seed = 28;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    for (let t = 0; t < 20000; t++) {
      const code = Uint8Array.from({ length: 48 }, () => next() & 255);
      same(code, 0x7f0000001000 + t * 64, `random buffer ${t}`);
    }
  });

  it("to the byte: the analysis' JSON of whole programs", () => {
    // the same analysis in a child process whose x86.js decodes with iced (a module hook swaps it)
    const dir = mkdtempSync(join(tmpdir(), "sysfence-x86-"));
    const real = pathToFileURL(`${REPO}dist/src/analyze/x86.js`).href;
    const icedHelper = pathToFileURL(`${REPO}dist/test/helpers/x86-iced.js`).href;
    const shim = join(dir, "x86-iced-shim.mjs");
    writeFileSync(
      shim,
      `export { X86_64, X86_64_GO } from ${JSON.stringify(`${real}?real`)};\nexport { decodeX86Iced as decodeX86 } from ${JSON.stringify(icedHelper)};\n`,
    );
    const hooks = join(dir, "hooks.mjs");
    writeFileSync(
      hooks,
      `export async function resolve(spec, ctx, next) {\n  const r = await next(spec, ctx);\n  return r.url === ${JSON.stringify(real)} ? { ...r, url: ${JSON.stringify(pathToFileURL(shim).href)} } : r;\n}\n`,
    );
    const register = join(dir, "register.mjs");
    writeFileSync(
      register,
      `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    for (const program of ["/usr/bin/true", "/usr/sbin/mosquitto"].filter((p) => existsSync(p))) {
      const script = `const { analyze } = await import(${JSON.stringify(pathToFileURL(`${REPO}dist/src/analyze/analyze.js`).href)});
process.stdout.write(JSON.stringify(analyze(${JSON.stringify(program)}, { cache: false })));`;
      const withIced = execFileSync(
        process.execPath,
        ["--import", register, "--input-type=module", "-e", script],
        {
          encoding: "utf8",
          maxBuffer: 1 << 28,
        },
      );
      const ours = JSON.stringify(analyze(program, { cache: false }));
      assert.ok(withIced.length > 100);
      assert.equal(ours, withIced, `${program}: the analysis differs with iced-x86's decoder`);
    }
  });
});
