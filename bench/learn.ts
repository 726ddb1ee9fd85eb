// npm run bench:learn: what the learning mode costs, side by side in one run. A probe times, inside the
// program, N calls a policy allows (getppid) and N it does not (uname), unconfined, under `run --policy`
// (uname answered EPERM by the filter) and under `run --policy --learn` (uname notified, recorded and let
// through by sysfence's supervisor). Rounds are interleaved; medians are reported. Writes
// bench/learn-results.json.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../test/helpers/paths.js";

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const N = Number(process.env.CALLS ?? 20000);
const dir = mkdtempSync(join(tmpdir(), "sysfence-bench-learn-"));
const probe = join(dir, "learn_probe");
execFileSync("gcc", ["-O2", "-o", probe, `${REPO}bench/learn_probe.c`]);
const policy = join(dir, "policy.yaml");
writeFileSync(
  policy,
  [
    "defaultAction: errno EPERM",
    "syscalls:",
    "  - names: ['@default', getppid, read, write, openat, close, fstat, newfstatat, mmap, mprotect, munmap, brk, pread64, access, prlimit64, getrandom]",
    "    action: allow",
    "",
  ].join("\n"),
);
const cli = `${REPO}dist/src/cli/main.js`;
const configs: { name: string; argv: string[] }[] = [
  { name: "unconfined", argv: [probe, String(N)] },
  {
    name: "run --policy (uname: EPERM)",
    argv: [process.execPath, cli, "run", "--policy", policy, "--", probe, String(N)],
  },
  {
    name: "run --policy --learn (uname: learned)",
    argv: [
      process.execPath,
      cli,
      "run",
      "--policy",
      policy,
      "--learn",
      join(dir, "out.json"),
      "--",
      probe,
      String(N),
    ],
  },
];
const samples = new Map<string, { allowed: number[]; refused: number[] }>(
  configs.map((c) => [c.name, { allowed: [], refused: [] }]),
);
for (let round = 0; round < ROUNDS; round++)
  for (const c of configs) {
    const r = spawnSync(c.argv[0], c.argv.slice(1), { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${c.name}: exit ${r.status}: ${r.stderr}`);
    const [allowed, refused] = r.stdout.trim().split(" ").map(Number);
    const s = samples.get(c.name) as { allowed: number[]; refused: number[] };
    s.allowed.push(allowed);
    s.refused.push(refused);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = configs.map((c) => {
  const s = samples.get(c.name) as { allowed: number[]; refused: number[] };
  return {
    config: c.name,
    allowedNs: median(s.allowed),
    allowedMin: Math.min(...s.allowed),
    allowedMax: Math.max(...s.allowed),
    refusedNs: median(s.refused),
  };
});
const result = { calls: N, rounds: ROUNDS, node: process.version, date: new Date().toISOString(), rows };
writeFileSync(`${REPO}bench/learn-results.json`, `${JSON.stringify(result, null, 2)}\n`);
console.log(`per call, median of ${ROUNDS} interleaved rounds of ${N} calls each:`);
console.log(
  "| configuration | allowed call (getppid) ns: median (min–max) | call outside the policy (uname) ns |",
);
console.log("| --- | --- | --- |");
for (const r of rows)
  console.log(`| ${r.config} | ${r.allowedNs} (${r.allowedMin}–${r.allowedMax}) | ${r.refusedNs} |`);
