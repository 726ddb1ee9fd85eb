// node dist/bench/x86-decode-cpu.js ROUNDS FILE… — the decoders alone: every executable section of the files
// (e.g. a program and the libraries ldd lists) decoded once, cold, in a fresh Node process per run, as the
// uncached analysis does, alternating iced-x86 and ours; CPU time (user+sys) of the decoding, median of ROUNDS.
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { REPO } from "../test/helpers/paths.js";

const [roundsArg, ...files] = process.argv.slice(2);
const rounds = Number(roundsArg);

function once(which: "iced" | "ours"): number {
  const mod = which === "iced" ? "test/helpers/x86-iced.js" : "src/analyze/x86.js";
  const fn = which === "iced" ? "decodeX86Iced" : "decodeX86";
  const script = `
const { ${fn}: decode } = await import(${JSON.stringify(`${REPO}dist/${mod}`)});
const { execSections } = await import(${JSON.stringify(`${REPO}dist/test/helpers/x86-compare.js`)});
const sections = ${JSON.stringify(files)}.flatMap((f) => execSections(f));
const c0 = process.cpuUsage();
let n = 0;
for (const s of sections) n += decode(s.code, s.addr).n;
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ n, cpu: (c.user + c.system) / 1e6 }));`;
  const out = JSON.parse(
    execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }),
  );
  return out.cpu;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs: Record<string, number[]> = { iced: [], ours: [] };
const load0 = loadavg()[0];
for (let r = 0; r < rounds; r++)
  for (const which of r % 2 ? (["ours", "iced"] as const) : (["iced", "ours"] as const))
    runs[which].push(once(which));
console.log(
  `${files.length} files, load ${load0.toFixed(1)}–${loadavg()[0].toFixed(1)}: iced ${median(runs.iced).toFixed(2)} s CPU, ours ${median(runs.ours).toFixed(2)} s CPU (median of ${rounds}); runs ${JSON.stringify(runs)}`,
);
