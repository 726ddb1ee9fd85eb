// npm run bench:record — the recording figures in the README:
//  1. parsing: `sysfence record --from-strace` vs the seed's shell pipeline (LC_ALL=C sed|grep|sort|uniq)
//     on a ≥500 MB `strace -f -o` log of a multi-threaded server, with peak RSS;
//  2. recording: wall time of a syscall-heavy workload under plain `strace -f -o FILE` vs `sysfence record`.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../test/helpers/paths.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-bench-"));
const CLI = `${REPO}dist/src/cli/main.js`;
const seconds = (f: () => void) => {
  const t = performance.now();
  f();
  return (performance.now() - t) / 1000;
};

const sample = join(dir, "sample.log");
execFileSync("strace", ["-f", "-o", sample, process.execPath, `${REPO}test/fixtures/mt-server.mjs`]);
const chunk = readFileSync(sample);
const big = join(dir, "big.log");
const copies = Math.ceil((520 * 1024 * 1024) / chunk.length);
writeFileSync(big, Buffer.concat(Array.from({ length: copies }, () => chunk)));
const mb = Math.round(statSync(big).size / 1024 / 1024);

const pipeline = `LC_ALL=C sh -c "sed 's/^[0-9]\\+[ ]\\+//' '${big}' | grep -v '^<' | grep -Eo '^[^(]+' | sort | uniq -c | sort -h >/dev/null"`;
// the VM's speed drifts: the two are run alternately, three times each, and compared by their medians
const shellRuns: number[] = [];
const ourRuns: number[] = [];
let rss = 0;
for (let r = 0; r < 3; r++) {
  shellRuns.push(seconds(() => execFileSync("sh", ["-c", pipeline])));
  ourRuns.push(
    seconds(() => {
      const run = spawnSync(
        "/usr/bin/time",
        ["-f", "%M", process.execPath, CLI, "record", "-q", "--from-strace", big, "-o", join(dir, "p.json")],
        { encoding: "utf8" },
      );
      rss = Math.max(rss, Number(run.stderr.trim().split("\n").pop()) / 1024);
    }),
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const shell = median(shellRuns);
const ours = median(ourRuns);
const workloads: [string, string[]][] = [
  ["dd bs=1 count=100000 (≈200k syscalls)", ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=100000"]],
  ["find /usr -type f \\| wc -l (the issue's workload)", ["sh", "-c", "find /usr -type f | wc -l"]],
];
const recordRows: string[] = [];
for (const [label, argv] of workloads) {
  const time = (cmd: string, args: string[]) =>
    median([1, 2, 3].map(() => seconds(() => spawnSync(cmd, args, { stdio: "ignore" }))));
  const untraced = time(argv[0], argv.slice(1));
  const plain = time("strace", ["-f", "-o", join(dir, "plain.log"), ...argv]);
  const viaStrace = time(process.execPath, [
    CLI,
    "record",
    "-q",
    "--engine",
    "strace",
    "-o",
    join(dir, "r.json"),
    "--",
    ...argv,
  ]);
  // the default engine (auto): ftrace when it can record everything asked for, as here
  const viaDefault = time(process.execPath, [CLI, "record", "-q", "-o", join(dir, "f.json"), "--", ...argv]);
  recordRows.push(
    `| record ${label}, median of 3 (untraced ${untraced.toFixed(2)} s) | ${plain.toFixed(2)} s | **default (auto → ftrace) ${viaDefault.toFixed(2)} s**, --engine strace ${viaStrace.toFixed(2)} s | default: ${(viaDefault / plain).toFixed(2)} of plain strace's time |`,
  );
}

process.stdout.write(`| measurement | seed's shell pipeline / plain strace | sysfence | ratio |
|---|---|---|---|
| count syscalls in a ${mb} MB strace -f log (${copies} copies of a multi-threaded server's log), median of 3 alternating runs | ${shell.toFixed(1)} s = ${(mb / shell).toFixed(0)} MB/s (runs ${shellRuns.map((x) => x.toFixed(1)).join(", ")}) | ${ours.toFixed(1)} s = ${(mb / ours).toFixed(0)} MB/s (runs ${ourRuns.map((x) => x.toFixed(1)).join(", ")}), peak RSS ${rss.toFixed(0)} MB | ${(shell / ours).toFixed(2)}× faster |
${recordRows.join("\n")}
`);
rmSync(dir, { recursive: true, force: true });
