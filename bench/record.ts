// npm run bench:record — the recording figures in the README:
//  1. parsing: `sysfence record --from-strace` vs the seed's shell pipeline (LC_ALL=C sed|grep|sort|uniq)
//     on ~260 MB `strace -f -o` logs of several kinds of program, with peak RSS;
//  2. recording: wall time of a syscall-heavy workload under plain `strace -f -o FILE` vs `sysfence record`.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../test/helpers/paths.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-bench-"));
// --only=parse|engines|server|startup runs one part (engines includes startup); --runs=N alternating runs per variant (default 3)
const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
const runs = Number(process.argv.find((a) => a.startsWith("--runs="))?.slice(7) ?? 3);
// --compare=DIR: the start-up rows also time `record --engine bpf` of the build in DIR (another checkout,
// built), alternating with this one: a before/after in the same minutes on a machine whose load drifts
const compare = process.argv.find((a) => a.startsWith("--compare="))?.slice(10);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const CLI = `${REPO}dist/src/cli/main.js`;
const seconds = (f: () => void) => {
  const t = performance.now();
  f();
  return (performance.now() - t) / 1000;
};

/**
 * Logs of several kinds of program, each `strace -f -o` as a user would record it (symbolic constants),
 * repeated to about 520 MB (the size the first measurement used): a multi-threaded server under load, a file-system walk (a path on every line),
 * an interpreter importing its library, a shell starting hundreds of processes.
 */
const PROGRAMS: [string, string[]][] = [
  ["a multi-threaded Node.js server under load", [process.execPath, `${REPO}test/fixtures/mt-server.mjs`]],
  ["find over /usr", ["find", "/usr", "-xdev"]],
  [
    "Python importing 40 stdlib modules",
    [
      "/usr/bin/python3",
      "-c",
      "import json, csv, sqlite3, asyncio, email, http.client, xml.dom.minidom, unittest, argparse, logging, decimal, fractions, statistics, difflib, pathlib, tarfile, zipfile, gzip, bz2, lzma, shutil, tempfile, glob, fnmatch, socket, ssl, hashlib, hmac, secrets, uuid, base64, binascii, struct, codecs, locale, gettext, calendar, datetime, zoneinfo, pprint",
    ],
  ],
  [
    "a shell running 300 short processes",
    ["sh", "-c", "for i in $(seq 300); do ls / | wc -l >/dev/null; done"],
  ],
];
const parsing = only === undefined || only === "parse" ? measureParsing() : undefined;
function measureParsing() {
  const rows: {
    program: string;
    mb: number;
    copies: number;
    lines: number;
    shell: number;
    ours: number;
    shellRuns: number[];
    ourRuns: number[];
    rss: number;
  }[] = [];
  for (const [program, argv] of PROGRAMS) {
    const sample = join(dir, "sample.log");
    execFileSync("strace", ["-f", "-o", sample, ...argv], { stdio: "ignore" });
    const chunk = readFileSync(sample);
    const big = join(dir, "big.log");
    const copies = Math.ceil((520 * 1024 * 1024) / chunk.length);
    writeFileSync(big, Buffer.concat(Array.from({ length: copies }, () => chunk)));
    const mb = Math.round(statSync(big).size / 1024 / 1024);
    const lines = copies * (chunk.toString("latin1").match(/\n/g)?.length ?? 0);
    const pipeline = `LC_ALL=C sh -c "sed 's/^[0-9]\\+[ ]\\+//' '${big}' | grep -v '^<' | grep -Eo '^[^(]+' | sort | uniq -c | sort -h >/dev/null"`;
    // the VM's speed drifts: the two are run alternately and compared by their medians
    const shellRuns: number[] = [];
    const ourRuns: number[] = [];
    let rss = 0;
    for (let r = 0; r < runs; r++) {
      shellRuns.push(seconds(() => execFileSync("sh", ["-c", pipeline])));
      ourRuns.push(
        seconds(() => {
          const run = spawnSync(
            "/usr/bin/time",
            [
              "-f",
              "%M",
              process.execPath,
              CLI,
              "record",
              "-q",
              "--from-strace",
              big,
              "-o",
              join(dir, "p.json"),
            ],
            { encoding: "utf8" },
          );
          if (run.status !== 0) throw new Error(`record --from-strace failed: ${run.stderr}`);
          rss = Math.max(rss, Number(run.stderr.trim().split("\n").pop()) / 1024);
        }),
      );
    }
    rows.push({
      program,
      mb,
      copies,
      lines,
      shell: median(shellRuns),
      ours: median(ourRuns),
      shellRuns,
      ourRuns,
      rss,
    });
    rmSync(big, { force: true });
  }
  return rows;
}

// 2. recording cost: the worst case (a syscall-heavy program) and a server under a closed-loop load, every
// engine against the untraced program and a bare bpftrace script that only counts (thread, syscall) in the
// kernel; alternating runs within this one run, medians (the VM's speed drifts between runs)
const hasBpf = spawnSync("bpftrace", ["--version"]).status === 0 && process.getuid?.() === 0;
/** sysfence's own eBPF programs need root and the kernel's BTF, no bpftrace. */
const hasEbpf = process.getuid?.() === 0 && existsSync("/sys/kernel/btf/vmlinux");
/**
 * bpftrace scripts run beside the program (by its comm), to compare the engine with: one that only counts
 * (thread, syscall) — what any bpftrace recording costs — and one whose filter never matches: what
 * attaching a program to the syscall tracepoint costs before it does anything (the syscall slow path and
 * the tracepoint's own work), the floor of every engine built on bpftrace here.
 */
const BARE_SCRIPTS: Record<string, (comm: string) => string> = {
  "bpftrace no-op on sys_enter": () => `tracepoint:raw_syscalls:sys_enter /pid == 0/ { @x = count(); }`,
  // ctx read once into a variable (the verifier refuses bpftrace's re-derived ctx pointers)
  "bare bpftrace count": (comm) =>
    `tracepoint:raw_syscalls:sys_enter /comm == "${comm}"/ { $id = args->id; @[tid, $id] = count(); }`,
};
const record = (engine: string, argv: string[]) =>
  [
    process.execPath,
    [CLI, "record", "-q", "--engine", engine, "-o", join(dir, `${engine}.json`), "--", ...argv],
  ] as const;
function lostOf(engine: string): string {
  try {
    const p = JSON.parse(readFileSync(join(dir, `${engine}.json`), "utf8"));
    const reads = p.syscalls?.read ? `, ${p.syscalls.read.setup + p.syscalls.read.work} reads counted` : "";
    return `${p.engine?.lostEvents ? `${p.engine.lostEvents} lost` : "nothing lost"}${reads}${p.complete ? "" : ", incomplete"}`;
  } catch {
    return "?";
  }
}
const engineRows: string[] = [];
const worstCase: [string, string[], boolean][] = [
  [
    "dd bs=1 count=2000000 (≈4M syscalls)",
    ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=2000000", "status=none"],
    false,
  ],
  [
    "dd bs=1 count=200000 (≈400k syscalls)",
    ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=200000", "status=none"],
    true,
  ],
];
const results: Record<string, unknown> = {};
// start-up: what recording a program that does nothing costs over Node's own start plus the program
const startupRows: string[] = [];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
let startupMachine = "";
if ((only === undefined || only === "engines" || only === "startup") && hasEbpf) {
  const argv = ["/bin/true"];
  const loadBefore = load();
  const variants: [string, () => void][] = [
    [
      "node -e 0, then /bin/true",
      () => {
        spawnSync(process.execPath, ["-e", "0"], { stdio: "ignore" });
        spawnSync("/bin/true", { stdio: "ignore" });
      },
    ],
    // the floor of any Node recorder that loads eBPF through koffi: Node's start and koffi's native module
    [
      "floor: node loading koffi, then /bin/true",
      () => {
        spawnSync(
          process.execPath,
          ["-e", `require(${JSON.stringify(join(REPO, "node_modules", "koffi"))})`],
          {
            stdio: "ignore",
          },
        );
        spawnSync("/bin/true", { stdio: "ignore" });
      },
    ],
    ["sysfence --version", () => spawnSync(process.execPath, [CLI, "--version"], { stdio: "ignore" })],
    ["record --engine bpf -- /bin/true", () => spawnSync(...record("bpf", argv), { stdio: "ignore" })],
    ...(compare
      ? ([
          [
            `record --engine bpf -- /bin/true, the build in ${compare}`,
            () =>
              spawnSync(
                process.execPath,
                [
                  join(compare, "dist/src/cli/main.js"),
                  "record",
                  "-q",
                  "--engine",
                  "bpf",
                  "-o",
                  join(dir, "cmp.json"),
                  "--",
                  ...argv,
                ],
                { stdio: "ignore" },
              ),
          ],
        ] as [string, () => void][])
      : []),
    ["record --engine strace -- /bin/true", () => spawnSync(...record("strace", argv), { stdio: "ignore" })],
    ...(hasBpf
      ? ([
          [
            "record --engine bpftrace -- /bin/true",
            () => spawnSync(...record("bpftrace", argv), { stdio: "ignore" }),
          ],
        ] as [string, () => void][])
      : []),
  ];
  const times = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  for (let r = 0; r < Math.max(runs, 5); r++)
    for (const [name, run] of variants) times.get(name)?.push(seconds(run));
  const base = median(times.get("node -e 0, then /bin/true") ?? [0]);
  for (const [name] of variants) {
    const t = median(times.get(name) ?? []);
    startupRows.push(
      `| ${name} | ${t.toFixed(2)} s (runs ${(times.get(name) ?? []).map((x) => x.toFixed(2)).join(", ")}) | ${name.startsWith("node -e 0") ? "" : `${t >= base ? "+" : ""}${(t - base).toFixed(2)} s`} |`,
    );
  }
  startupMachine = `${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load average ${loadBefore} before, ${load()} after`;
  results.startup = {
    machine: startupMachine,
    ...Object.fromEntries([...times].map(([n, t]) => [n, { runs: t, median: median(t) }])),
  };
}
if (only === undefined || only === "engines") {
  for (const [label, argv, withStrace] of worstCase) {
    const variants: [string, () => readonly [string, readonly string[]]][] = [
      ["untraced", () => [argv[0], argv.slice(1)]],
      ...(hasBpf
        ? ([
            ...Object.entries(BARE_SCRIPTS).map(([name, script]) => [
              name,
              // bpftrace -c wants the binary's path
              () => ["bpftrace", ["-e", script("dd"), "-c", ["/usr/bin/dd", ...argv.slice(1)].join(" ")]],
            ]),
            ["record --engine bpftrace", () => record("bpftrace", argv)],
          ] as [string, () => readonly [string, readonly string[]]][])
        : []),
      ...(hasEbpf
        ? ([["record --engine bpf", () => record("bpf", argv)]] as [
            string,
            () => readonly [string, readonly string[]],
          ][])
        : []),
      ["record --engine ftrace", () => record("ftrace", argv)],
      ...(withStrace
        ? ([["record --engine strace", () => record("strace", argv)]] as [
            string,
            () => readonly [string, readonly string[]],
          ][])
        : []),
    ];
    const times = new Map<string, number[]>(variants.map(([n]) => [n, []]));
    const losses = new Map<string, string>();
    for (let r = 0; r < runs; r++)
      for (const [name, cmd] of variants) {
        const [c, a] = cmd();
        times.get(name)?.push(seconds(() => spawnSync(c, a as string[], { stdio: "ignore" })));
        if (name.startsWith("record")) losses.set(name, lostOf(name.split(" ").pop() as string));
      }
    const med = new Map([...times].map(([n, t]) => [n, median(t)]));
    const base = med.get("untraced") ?? 1;
    const bare = med.get("bare bpftrace count");
    for (const [name] of variants) {
      const t = med.get(name) ?? 0;
      engineRows.push(
        `| ${label} | ${name} | ${t.toFixed(2)} s (runs ${(times.get(name) ?? []).map((x) => x.toFixed(2)).join(", ")}) | ${(t / base).toFixed(1)}× untraced${bare && name.startsWith("record --engine bpf") ? `, **${(t / bare).toFixed(2)}× the bare bpftrace script**` : ""} | ${losses.get(name) ?? ""} |`,
      );
    }
    results[label] = Object.fromEntries(
      [...times].map(([n, t]) => [n, { runs: t, median: median(t), lost: losses.get(n) }]),
    );
  }
}

// a server under a closed-loop load: nginx, 8 keep-alive clients for 6 s, requests per second. With wrk
// installed (setup.sh), nginx runs on CPU 0 and wrk on CPU 1, so the load generator does not compete with
// the server (the tracers are not pinned); without it, Node's http client shares both CPUs.
const serverRows: string[] = [];
const hasWrk = !spawnSync("wrk", ["-v"]).error;
if (only === undefined || only === "server") {
  const { nginxSite, freePort, descendants, cpuSeconds } = await import("../test/helpers/daemon-loads.js");
  const { waitForPort } = await import("../test/helpers/memcache-client.js");
  const http = await import("node:http");
  const site = nginxSite();
  const nodeLoad = async (port: number, ms: number): Promise<number> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    let done = 0;
    const end = Date.now() + ms;
    const client = async () => {
      while (Date.now() < end) {
        await new Promise<void>((res, rej) => {
          http
            .get({ host: "127.0.0.1", port, path: "/", agent }, (r) => {
              r.resume();
              r.on("end", () => {
                done++;
                res();
              });
            })
            .on("error", rej);
        });
      }
    };
    await Promise.all(Array.from({ length: 8 }, client));
    agent.destroy();
    return done / (ms / 1000);
  };
  const wrkLoad = async (port: number, ms: number): Promise<number> => {
    const out = await new Promise<string>((res, rej) => {
      const args = ["-c", "1", "wrk", "-t1", "-c8", `-d${ms / 1000}s`, `http://127.0.0.1:${port}/`];
      const w = spawn("taskset", args, { stdio: ["ignore", "pipe", "inherit"] });
      let text = "";
      w.stdout.on("data", (d: Buffer) => {
        text += d;
      });
      w.on("exit", (code) => (code === 0 ? res(text) : rej(new Error(`wrk failed (${code}): ${text}`))));
    });
    const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
    if (!m) throw new Error(`wrk printed no rate: ${out}`);
    return Number(m[1]);
  };
  const closedLoop = hasWrk ? wrkLoad : nodeLoad;
  /** nginx's argv: on CPU 0 when the load runs on CPU 1. */
  const server = (port: number) => (hasWrk ? ["taskset", "-c", "0", ...site(port)] : site(port));
  const helper = (p: number) => {
    try {
      const comm = readFileSync(`/proc/${p}/comm`, "utf8").trim();
      return (
        ["strace", "bpftrace", "setpriv"].includes(comm) ||
        readFileSync(`/proc/${p}/cmdline`, "utf8").includes('pids=""')
      );
    } catch {
      return true;
    }
  };
  // the BARE_SCRIPTS rows: nginx untraced by sysfence while a one-line bpftrace script (a count, or one
  // that never matches) runs beside it, to compare the engine with
  const NOOP = "eBPF no-op on sys_enter/sys_exit";
  const engines = [
    "untraced",
    ...(hasEbpf ? [NOOP, "bpf"] : []),
    ...(hasBpf ? [...Object.keys(BARE_SCRIPTS), "bpftrace"] : []),
    "ftrace",
    "strace",
  ];
  const rps = new Map<string, number[]>(engines.map((e) => [e, []]));
  const cpu = new Map<string, number[]>(engines.map((e) => [e, []]));
  for (let r = 0; r < runs; r++)
    for (const engine of engines) {
      const port = await freePort();
      const argv = server(port);
      const bareScript = BARE_SCRIPTS[engine];
      const bare = bareScript !== undefined || engine === NOOP;
      // the bare script (or the no-op program) runs beside an untraced nginx, started once it has attached
      const counter = bareScript
        ? spawn("bpftrace", ["-e", `BEGIN { printf("READY\\n"); } ${bareScript("nginx")}`], {
            stdio: ["ignore", "pipe", "ignore"],
          })
        : engine === NOOP
          ? spawn(process.execPath, [join(REPO, "dist", "bench", "ebpf-noop.js")], {
              stdio: ["ignore", "pipe", "ignore"],
            })
          : undefined;
      if (counter)
        await new Promise<void>((res) =>
          counter.stdout?.on("data", (d: Buffer) => d.includes("READY") && res()),
        );
      const [cmd, args] = engine === "untraced" || bare ? [argv[0], argv.slice(1)] : record(engine, argv);
      const child = spawn(cmd, args as string[], { stdio: "ignore" });
      const exited = new Promise((res) => child.on("exit", res));
      await waitForPort(port, 30000);
      await closedLoop(port, 1000); // warm up
      // CPU time of everything the recording runs (sysfence, the tracer, nginx; the bare script), which a
      // shared VM's other tenants do not change as they change throughput
      const tree = [
        child.pid as number,
        ...descendants(child.pid as number),
        ...(counter ? [counter.pid as number] : []),
      ];
      const before = cpuSeconds(tree);
      const rate = await closedLoop(port, 6000);
      rps.get(engine)?.push(rate);
      cpu.get(engine)?.push(((cpuSeconds(tree) - before) / (rate * 6)) * 1e6);
      const daemon =
        engine === "untraced" || bare ? child.pid : descendants(child.pid as number).find((p) => !helper(p));
      if (daemon) process.kill(daemon, "SIGQUIT");
      await exited;
      if (counter) {
        const done = new Promise((res) => counter.on("exit", res));
        counter.kill("SIGINT");
        await done;
      }
    }
  const base = median(rps.get("untraced") ?? [1]);
  const baseCpu = median(cpu.get("untraced") ?? [1]);
  for (const engine of engines) {
    const m = median(rps.get(engine) ?? []);
    const c = median(cpu.get(engine) ?? []);
    serverRows.push(
      `| nginx, 8 keep-alive clients, 6 s${hasWrk ? " (wrk on CPU 1, nginx on CPU 0)" : ""} | ${engine === "untraced" || engine === NOOP || engine in BARE_SCRIPTS ? engine : `record --engine ${engine}`} | ${m.toFixed(0)} req/s (runs ${(rps.get(engine) ?? []).map((x) => x.toFixed(0)).join(", ")}) | ${engine === "untraced" ? "" : `${(((base - m) / base) * 100).toFixed(1)}% fewer than untraced`} | ${c.toFixed(1)} µs (runs ${(cpu.get(engine) ?? []).map((x) => x.toFixed(1)).join(", ")})${engine === "untraced" ? "" : `, ${(c / baseCpu).toFixed(2)}×`} |`,
    );
  }
  results.server = Object.fromEntries(
    [...rps].map(([e, v]) => [
      e,
      { runs: v, median: median(v), cpuMicrosPerRequest: cpu.get(e), cpuMedian: median(cpu.get(e) ?? []) },
    ]),
  );
}
if (parsing) {
  results.parsing = parsing;
  const row = (p: (typeof parsing)[number]) =>
    `| ${p.program}: ${p.mb} MB (${p.copies} copies, ${(p.lines / 1e6).toFixed(1)}M lines) | ${p.shell.toFixed(1)} s = ${(p.mb / p.shell).toFixed(0)} MB/s (runs ${p.shellRuns.map((x) => x.toFixed(1)).join(", ")}) | ${p.ours.toFixed(1)} s = ${(p.mb / p.ours).toFixed(0)} MB/s (runs ${p.ourRuns.map((x) => x.toFixed(1)).join(", ")}), peak RSS ${p.rss.toFixed(0)} MB | ${(p.shell / p.ours).toFixed(2)}× faster |`;
  process.stdout.write(`| strace -f log, median of ${runs} alternating runs | seed's shell pipeline (LC_ALL=C) | sysfence record --from-strace | ratio |
|---|---|---|---|
${parsing.map(row).join("\n")}

`);
}
if (startupRows.length)
  process.stdout.write(`Start-up on ${startupMachine}:

| start-up | wall time, median of ${Math.max(runs, 5)} alternating | over Node + the program |
|---|---|---|
${startupRows.join("\n")}

`);
if (engineRows.length)
  process.stdout.write(`| worst case | variant | wall time, median of ${runs} alternating | cost | events |
|---|---|---|---|---|
${engineRows.join("\n")}

`);
if (serverRows.length)
  process.stdout.write(`| server | recorder | throughput, median of ${runs} | cost | CPU per request (all processes of the recording), median |
|---|---|---|---|---|
${serverRows.join("\n")}
`);
const out = join(REPO, "bench", `record-results${only ? `-${only}` : ""}.json`);
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`,
);
// in the repository's JSON style (lint checks bench/)
spawnSync(join(REPO, "node_modules", ".bin", "biome"), ["format", "--write", out], { stdio: "ignore" });
rmSync(dir, { recursive: true, force: true });
