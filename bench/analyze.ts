// npm run bench:analyze — sysfence analyze on real Debian programs: time and peak RSS, uncached (every
// library decoded) and cached (after a run that filled the private store: the result it kept, given back
// once the libraries are found again unchanged — result-cache.ts), each in a fresh process; and for the
// README: calls recorded under a workload (strace -f), the static set, and every syscall any site in any
// loaded object makes. Writes bench/analyze-results.json. BENCH_ONLY=mosquitto,postgres runs only those
// rows (written to analyze-results-partial.json); BENCH_WORKERS=N sets analyzeAsync's worker threads
// (unset: its default, which follows the load average).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../test/helpers/paths.js";
import { recordedSyscalls } from "../test/helpers/strace-names.js";

const which = (cmd: string) =>
  spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim();
const dir = mkdtempSync(join(tmpdir(), "sysfence-bench-analyze-"));

interface Run {
  ms: number;
  /** CPU seconds of the process during the analysis (user + system, every thread). */
  cpu: number;
  rssMb: number;
  syscalls: number;
  everySite: number;
  unresolved: number;
  objects: number;
}

/** Worker threads (BENCH_WORKERS; unset: analyzeAsync's default, which follows the load average). */
const workers = process.env.BENCH_WORKERS === undefined ? undefined : Number(process.env.BENCH_WORKERS);

/** One analysis (as `sysfence analyze` runs it: analyzeAsync) in a fresh Node process. */
function analyzeOnce(program: string, cacheHome: string, cache: boolean, dlopened: string[] = []): Run {
  const script = `
const { analyzeAsync } = await import(${JSON.stringify(`${REPO}dist/src/analyze/analyze.js`)});
const t0 = performance.now();
const u0 = process.cpuUsage();
const r = await analyzeAsync(${JSON.stringify(program)}, { cache: ${cache}, dlopened: ${JSON.stringify(dlopened)}, workers: ${workers} });
const ms = performance.now() - t0;
const u = process.cpuUsage(u0);
console.log(JSON.stringify({ ms, cpu: (u.user + u.system) / 1e6, rssMb: process.resourceUsage().maxRSS / 1024, syscalls: Object.keys(r.syscalls).length,
  everySite: r.everySite.length, unresolved: r.unresolved, objects: r.libraries.length }));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { ...process.env, XDG_CACHE_HOME: cacheHome },
  });
  return JSON.parse(out) as Run;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Workloads, as in test/analyze/analyze.test.ts. */
async function record(name: string): Promise<{ log: string; dlopened?: string[] }> {
  const log = join(dir, `${name}.log`);
  const st = (argv: string[]) => spawnSync("strace", ["-f", "-qq", "-o", log, ...argv]);
  if (name === "ls") st(["ls", "-laR", "/usr/share/doc/strace", "/proc/self"]);
  else if (name === "curl") st(["curl", "-s", "-o", "/dev/null", "https://localhost:9/"]);
  else if (name === "python3") {
    st([
      "/usr/bin/python3",
      "-c",
      "import json, socket, ssl, hashlib, threading, sqlite3; socket.getaddrinfo('localhost', 80)",
    ]);
    const opened = [
      ...readFileSync(log, "utf8").matchAll(/openat\(AT_FDCWD, "([^"]+\.so(?:\.[0-9.]+)?)", [^)]*\) = \d+/g),
    ];
    return { log, dlopened: opened.map((m) => m[1]) };
  } else if (name === "memcached") {
    const d = spawn("strace", [
      "-f",
      "-qq",
      "-o",
      log,
      "memcached",
      "-u",
      "root",
      "-p",
      "21311",
      "-U",
      "0",
      "-t",
      "4",
      "-l",
      "127.0.0.1",
    ]);
    await sleep(800);
    spawnSync("python3", [
      "-c",
      "import socket\nfor i in range(5):\n s=socket.create_connection(('127.0.0.1',21311))\n for c in [b'set a 0 0 1\\r\\nx\\r\\n', b'get a\\r\\n', b'incr a 1\\r\\n', b'stats\\r\\n', b'delete a\\r\\n']:\n  s.sendall(c); s.recv(65536)\n s.close()",
    ]);
    const kids = readFileSync(`/proc/${d.pid}/task/${d.pid}/children`, "utf8").trim().split(/\s+/);
    for (const k of kids) if (k) process.kill(Number(k), "SIGTERM");
    await new Promise((r) => d.on("exit", r));
  } else if (name === "nginx") {
    const prefix = join(dir, "nginx");
    mkdirSync(join(prefix, "logs"), { recursive: true });
    const conf = join(prefix, "nginx.conf");
    writeFileSync(
      conf,
      `worker_processes 2; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log; daemon off;\nevents { worker_connections 64; }\nhttp { access_log ${prefix}/access.log; server { listen 127.0.0.1:21312; root /usr/share/doc; location / { autoindex on; } } }\n`,
    );
    const d = spawn("strace", ["-f", "-qq", "-o", log, "nginx", "-p", prefix, "-c", conf]);
    await sleep(800);
    for (const p of ["/", "/strace/", "/nope"])
      spawnSync("curl", ["-s", "-o", "/dev/null", `http://127.0.0.1:21312${p}`]);
    spawnSync("nginx", ["-p", prefix, "-c", conf, "-s", "quit"]);
    await new Promise((r) => d.on("exit", r));
  }
  return { log };
}

const rows: Record<string, unknown>[] = [];

/** One row: the program analysed uncached, then with the cache filled (recorded: its recording's syscalls). */
function measure(name: string, program: string, recorded: number | null, dlopened: string[] = []): void {
  const cacheHome = mkdtempSync(join(dir, "cache-"));
  const uncached = analyzeOnce(program, cacheHome, false, dlopened);
  analyzeOnce(program, cacheHome, true, dlopened); // fills the cache
  const cached = analyzeOnce(program, cacheHome, true, dlopened);
  const row = {
    program: name,
    recorded,
    static: uncached.syscalls,
    everySite: uncached.everySite,
    unresolved: uncached.unresolved,
    objects: uncached.objects,
    uncachedMs: Math.round(uncached.ms),
    uncachedCpuS: Math.round(uncached.cpu * 100) / 100,
    uncachedRssMb: Math.round(uncached.rssMb),
    cachedMs: Math.round(cached.ms),
    cachedCpuS: Math.round(cached.cpu * 100) / 100,
    cachedRssMb: Math.round(cached.rssMb),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}
// BENCH_ONLY=mosquitto,postgres: only these rows
const only = process.env.BENCH_ONLY?.split(",");
const wanted = (name: string) => !only || only.includes(name);
for (const name of ["memcached", "nginx", "ls", "curl", "python3"]) {
  if (!wanted(name)) continue;
  const program = name === "python3" ? "/usr/bin/python3" : which(name);
  if (!program) continue;
  const { log, dlopened } = await record(name);
  measure(name, program, recordedSyscalls(log).size, dlopened);
}
// issue 28's speed targets: analysis time only (no workload recorded)
const postgres = spawnSync("sh", ["-c", "ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null | tail -1"], {
  encoding: "utf8",
}).stdout.trim();
for (const [name, program] of [
  ["mosquitto", which("mosquitto") || "/usr/sbin/mosquitto"],
  ["postgres", postgres],
  ["haproxy", which("haproxy") || "/usr/sbin/haproxy"],
  ["unbound", which("unbound") || "/usr/sbin/unbound"],
  ["node", process.execPath],
]) {
  if (!wanted(name) || !program || spawnSync("test", ["-x", program]).status !== 0) continue;
  measure(name, program, null);
}
const os = await import("node:os");
writeFileSync(
  `${REPO}bench/analyze-results${only ? "-partial" : ""}.json`,
  `${JSON.stringify({ date: new Date().toISOString(), machine: `${process.arch}, ${os.cpus().length} CPUs`, workers: workers ?? "default", loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10), rows }, null, 2)}\n`,
);
