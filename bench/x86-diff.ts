// node dist/bench/x86-diff.js FILE… — decodes every executable section of each ELF file with our x86_64
// decoder and with iced-x86 and reports the first instruction whose OpStream entry differs (or "same"), with
// the instruction count and each decoder's time. Issue 28's whole-binary check (node's 100 MB included: a
// section is compared in 4 MB pieces, each decoded whole by both, so the two streams fit in memory).
import { decodeX86 } from "../src/analyze/x86.js";
import { describe, divergence, execSections, firstDifference } from "../test/helpers/x86-compare.js";
import { decodeX86Iced } from "../test/helpers/x86-iced.js";

const PIECE = 4 << 20;
const pieces = (sec: { name: string; code: Uint8Array; addr: number }) => {
  const out = [];
  for (let at = 0; at < sec.code.length; at += PIECE)
    out.push({ name: sec.name, addr: sec.addr + at, code: sec.code.subarray(at, at + PIECE) });
  return out;
};

let failed = false;
for (const file of process.argv.slice(2)) {
  let n = 0;
  let tOurs = 0;
  let tIced = 0;
  const diffs: string[] = [];
  for (const sec of execSections(file).flatMap(pieces)) {
    let t = performance.now();
    const ours = decodeX86(sec.code, sec.addr);
    tOurs += performance.now() - t;
    t = performance.now();
    const theirs = decodeX86Iced(sec.code, sec.addr);
    tIced += performance.now() - t;
    n += theirs.n;
    const d = firstDifference(ours, theirs);
    if (d) {
      const { unaligned, differing } = divergence(ours, theirs);
      const apart = `${unaligned} entries at addresses only one decoder has, ${differing} differing at common ones`;
      diffs.push(
        `${sec.name} [${d.field}] (${apart}) ${describe(sec.code, sec.addr, ours, theirs, d.index)}`,
      );
    }
  }
  failed ||= diffs.length > 0;
  const ms = (x: number) => `${Math.round(x)} ms`;
  console.log(
    `${file}: ${n} instructions, ours ${ms(tOurs)}, iced ${ms(tIced)}: ${diffs.length ? "DIFFERS" : "same"}`,
  );
  for (const d of diffs) console.log(`  ${d}`);
}
process.exitCode = failed ? 1 : 0;
