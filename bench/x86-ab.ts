// node dist/bench/x86-ab.js OLD_REPO NEW_REPO ROUNDS PROGRAM… — issue 28's decoder comparison: uncached
// analyze() of each program in a fresh Node process per run, alternating the two builds (OLD_REPO/dist and
// NEW_REPO/dist: e.g. the commit before our x86 decoder and after), CPU time (user+sys) and wall time of the
// analysis alone; and whether the two builds' `sysfence analyze --json --no-cache` outputs are byte-identical.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { loadavg } from "node:os";

const [oldRepo, newRepo, roundsArg, ...programs] = process.argv.slice(2);
const rounds = Number(roundsArg);

function once(repo: string, program: string): { cpu: number; wall: number } {
  const script = `
const { analyze } = await import(${JSON.stringify(`${repo}/dist/src/analyze/analyze.js`)});
const c0 = process.cpuUsage(); const t0 = performance.now();
analyze(${JSON.stringify(program)}, { cache: false });
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ cpu: (c.user + c.system) / 1e6, wall: (performance.now() - t0) / 1e3 }));`;
  return JSON.parse(
    execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }),
  );
}

const cliJson = (repo: string, program: string) =>
  execFileSync(
    process.execPath,
    [`${repo}/dist/src/cli/main.js`, "analyze", "--json", "--no-cache", program],
    {
      maxBuffer: 1 << 28,
    },
  );
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex").slice(0, 16);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
for (const program of programs) {
  const a = cliJson(oldRepo, program);
  const b = cliJson(newRepo, program);
  const same = a.equals(b) ? "identical" : `DIFFER (${sha(a)} vs ${sha(b)})`;
  const runs: Record<string, { cpu: number; wall: number }[]> = { iced: [], ours: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ["iced", "ours"] : ["ours", "iced"];
    for (const which of order) runs[which].push(once(which === "iced" ? oldRepo : newRepo, program));
  }
  const f = (k: string, m: "cpu" | "wall") => median(runs[k].map((x) => x[m])).toFixed(2);
  console.log(
    `${program}: --json ${same}; median of ${rounds}: iced cpu ${f("iced", "cpu")} s wall ${f("iced", "wall")} s, ours cpu ${f("ours", "cpu")} s wall ${f("ours", "wall")} s`,
  );
  console.log(`  runs: ${JSON.stringify(runs)}`);
}
console.log(
  `load average at end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
