// npm run bench:ebpf — the bpf engine's per-call cost goals (issue 31), side by side in one run, interleaved:
//  dd:    `dd if=/dev/zero of=/dev/null bs=1 count=N` untraced, beside a no-op raw_tp program on sys_enter
//         (and on sys_enter + sys_exit, the engine's two hooks), beside a bare bpftrace count, under a bare
//         bpftrace counting one-liner as one command (`bpftrace -e '…/pid == cpid/…' -c dd`), and under the
//         whole `sysfence record --engine bpf` command (dd wrapped in /usr/bin/time for its own time);
//  nginx: nginx pinned to CPU 0 (taskset), wrk on CPU 1, requests per second untraced, beside a no-op
//         raw_tp sys_enter program (the floor), beside no-ops on sys_enter + sys_exit, and under
//         `sysfence record --engine bpf` (launched, or `--pid` of the running nginx with --pid).
//  programs: the kernel's BPF statistics (run time per run) of the engine's programs and of no-ops on dd.
// Options: --only=dd|nginx|programs, --rounds=N (5), --count=N (dd's count, 2000000), --seconds=S (wrk, 6), --pid.
// Prints the load (/proc/loadavg) before and after, markdown tables, and writes bench/ebpf-cost-results[-ONLY].json.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../test/helpers/paths.js";

const opt = (name: string, dflt: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const only = opt("only", "");
const rounds = Number(opt("rounds", "5"));
const ddCount = Number(opt("count", "2000000"));
const seconds = Number(opt("seconds", "6"));
const byPid = process.argv.includes("--pid");
const dir = mkdtempSync(join(tmpdir(), "sysfence-ebpf-cost-"));
const CLI = `${REPO}dist/src/cli/main.js`;
const NOOP = `${REPO}dist/bench/ebpf-noop.js`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const loads: string[] = [load()];
const results: Record<string, unknown> = {};
const out: string[] = [];

/** A helper that prints READY once attached (a no-op program, a bpftrace script); stopped by SIGINT. */
async function beside(cmd: string, args: string[]): Promise<ChildProcess> {
  const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((res, rej) => {
    p.stdout?.on("data", (d: Buffer) => d.includes("READY") && res());
    p.on("exit", (code) => rej(new Error(`${cmd} ${args.join(" ")} exited (${code}) before it was ready`)));
  });
  return p;
}
async function stop(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null) return;
  const done = new Promise((res) => p.on("exit", res));
  p.kill("SIGINT");
  await done;
}
const noop = (...hooks: string[]) => beside(process.execPath, [NOOP, ...hooks]);
const bareCount = (filter: string) =>
  `tracepoint:raw_syscalls:sys_enter /${filter}/ { @[args->id] = count(); }`;

if (only === "" || only === "dd") {
  const dd = ["/usr/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=1", `count=${ddCount}`, "status=none"];
  const timeFile = join(dir, "dd.time");
  const profile = join(dir, "dd.json");
  /** Each variant: its run (wall seconds of the whole command, dd's own seconds where known, what it counted). */
  type Run = { wall: number; own?: number; counted?: string };
  const timed = (cmd: string, args: string[]): { wall: number; stdout: string } => {
    const t = performance.now();
    const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26 });
    const wall = (performance.now() - t) / 1000;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
    return { wall, stdout: r.stdout };
  };
  const alone = async (helper?: () => Promise<ChildProcess>): Promise<Run> => {
    const h = await helper?.();
    try {
      const { wall } = timed(dd[0], dd.slice(1));
      return { wall, own: wall };
    } finally {
      await stop(h);
    }
  };
  const variants: [string, () => Promise<Run>][] = [
    ["dd untraced", () => alone()],
    ["dd beside a no-op raw_tp sys_enter program", () => alone(() => noop("sys_enter"))],
    [
      "dd beside no-op raw_tp sys_enter + sys_exit programs",
      () => alone(() => noop("sys_enter", "sys_exit")),
    ],
    [
      'dd beside a bare bpftrace count (/comm == "dd"/)',
      () =>
        alone(() => beside("bpftrace", ["-e", `BEGIN { printf("READY\\n"); } ${bareCount('comm == "dd"')}`])),
    ],
    [
      "bare bpftrace count, whole command (bpftrace -e '…/pid == cpid/…' -c dd)",
      async () => {
        const { wall, stdout } = timed("bpftrace", ["-e", bareCount("pid == cpid"), "-c", dd.join(" ")]);
        const reads = /@\[0\]: (\d+)/.exec(stdout)?.[1];
        return { wall, counted: `${reads ?? "?"} reads counted` };
      },
    ],
    [
      "sysfence record --engine bpf, whole command",
      async () => {
        const { wall } = timed(process.execPath, [
          CLI,
          "record",
          "-q",
          "--engine",
          "bpf",
          "-o",
          profile,
          "--",
          "/usr/bin/time",
          "-f",
          "%e",
          "-o",
          timeFile,
          ...dd,
        ]);
        const p = JSON.parse(readFileSync(profile, "utf8"));
        const reads = (p.syscalls?.read?.setup ?? 0) + (p.syscalls?.read?.work ?? 0);
        return {
          wall,
          own: Number(readFileSync(timeFile, "utf8").trim().split("\n").pop()),
          counted: `${reads} reads counted, ${p.complete ? "complete" : "INCOMPLETE"}${p.engine?.lostEvents ? `, ${p.engine.lostEvents} lost` : ""}`,
        };
      },
    ],
  ];
  const runs = new Map<string, Run[]>(variants.map(([n]) => [n, []]));
  for (let r = 0; r < rounds; r++)
    for (const [name, run] of variants) {
      runs.get(name)?.push(await run());
      process.stderr.write(
        `dd round ${r + 1}/${rounds}: ${name}: ${runs.get(name)?.at(-1)?.wall.toFixed(2)} s\n`,
      );
    }
  loads.push(load());
  const stat = (xs: number[]) => ({ min: Math.min(...xs), median: median(xs), runs: xs });
  const untraced = stat((runs.get("dd untraced") ?? []).map((x) => x.wall));
  const bare = stat((runs.get(variants[4][0]) ?? []).map((x) => x.wall));
  const ours = stat((runs.get(variants[5][0]) ?? []).map((x) => x.wall));
  out.push(
    `| dd bs=1 count=${ddCount}, ${rounds} interleaved rounds | wall s, min / median (runs) | × untraced dd (median) | dd's own s, median | counted |`,
    "|---|---|---|---|---|",
  );
  for (const [name] of variants) {
    const rs = runs.get(name) ?? [];
    const w = stat(rs.map((x) => x.wall));
    const own = rs.every((x) => x.own !== undefined) ? median(rs.map((x) => x.own as number)) : undefined;
    out.push(
      `| ${name} | ${w.min.toFixed(2)} / ${w.median.toFixed(2)} (${w.runs.map((x) => x.toFixed(2)).join(", ")}) | ${(w.median / untraced.median).toFixed(2)}× | ${own === undefined ? "" : own.toFixed(2)} | ${rs.at(-1)?.counted ?? ""} |`,
    );
  }
  out.push(
    "",
    `**record --engine bpf / bare bpftrace count, whole commands: ${(ours.min / bare.min).toFixed(2)}× by the minimum, ${(ours.median / bare.median).toFixed(2)}× by the median** (goal ≤ 1.0×). Load before / after: ${loads[0]} / ${loads.at(-1)}.`,
    "",
  );
  results.dd = { count: ddCount, rounds, load: [loads[0], loads.at(-1)], runs: Object.fromEntries(runs) };
}

// the kernel's own accounting of the programs (kernel.bpf_stats_enabled): run time per run of each
// program on the syscall hooks while dd runs under record, and of the no-op programs; it includes the
// statistics' own clock reads (the no-op's figure) and every process's calls on the host in that time
if (only === "" || only === "programs") {
  const STATS = "/proc/sys/kernel/bpf_stats_enabled";
  const was = readFileSync(STATS, "utf8").trim();
  /** The programs process pid holds: type, runs, run time, runs skipped (recursion). */
  const progStats = (pid: number) => {
    const progs: { type: number; runs: number; ns: number; misses: number }[] = [];
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      return progs;
    }
    for (const fd of fds) {
      let text = "";
      try {
        text = readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8");
      } catch {
        continue;
      }
      if (!text.includes("prog_type")) continue;
      const field = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
      progs.push({
        type: field("prog_type"),
        runs: field("run_cnt"),
        ns: field("run_time_ns"),
        misses: field("recursion_misses"),
      });
    }
    return progs.filter((x) => x.runs >= ddCount / 10);
  };
  /** Samples pid's program statistics until `done`; the last sample. */
  const sampled = async (pid: number, done: Promise<unknown>) => {
    let last: ReturnType<typeof progStats> = [];
    const t = setInterval(() => {
      const s = progStats(pid);
      if (s.length) last = s;
    }, 100);
    await done;
    clearInterval(t);
    return last;
  };
  const dd = [
    "/usr/bin/dd",
    "if=/dev/zero",
    "of=/dev/null",
    "bs=1",
    `count=${Math.min(ddCount, 400000)}`,
    "status=none",
  ];
  const rows = new Map<string, string[]>();
  const add = (name: string, progs: ReturnType<typeof progStats>) => {
    const label = (x: (typeof progs)[number]) =>
      `${x.type === 26 ? "tp_btf" : "raw_tp"} ${(x.ns / x.runs).toFixed(1)} ns × ${x.runs}${x.misses ? `, ${x.misses} skipped` : ""}`;
    rows.set(name, [...(rows.get(name) ?? []), progs.map(label).join("; ")]);
  };
  writeFileSync(STATS, "1");
  try {
    for (let r = 0; r < rounds; r++) {
      const h = await noop("sys_enter", "sys_exit");
      const ran = new Promise((res) => spawn(dd[0], dd.slice(1), { stdio: "ignore" }).on("exit", res));
      add("no-op programs on sys_enter, sys_exit", await sampled(h.pid as number, ran));
      await stop(h);
      const rec = spawn(
        process.execPath,
        [CLI, "record", "-q", "--engine", "bpf", "-o", join(dir, "s.json"), "--", ...dd],
        {
          stdio: "ignore",
        },
      );
      const done = new Promise((res) => rec.on("exit", res));
      // the engine's programs, the busiest first (sys_enter raw_tp, sys_exit tp_btf)
      add(
        "record --engine bpf: its programs on sys_enter, sys_exit",
        (await sampled(rec.pid as number, done)).sort((a, b) => b.runs - a.runs || a.type - b.type),
      );
      process.stderr.write(`programs round ${r + 1}/${rounds}\n`);
    }
  } finally {
    writeFileSync(STATS, was);
  }
  loads.push(load());
  out.push(
    `| BPF statistics during dd bs=1 count=${dd[4].slice(6)}, ${rounds} rounds | run time per run × runs, each round |`,
    "|---|---|",
    ...[...rows].map(([n, rs]) => `| ${n} | ${rs.join("<br>")} |`),
    "",
    `Load after: ${loads.at(-1)}.`,
    "",
  );
  results.programs = Object.fromEntries(rows);
}

if (only === "" || only === "nginx") {
  const { nginxSite, freePort, descendants, cpuSeconds } = await import("../test/helpers/daemon-loads.js");
  const { waitForPort } = await import("../test/helpers/memcache-client.js");
  const site = nginxSite();
  const loadBefore = load();
  const wrk = async (port: number, s: number): Promise<number> => {
    const text = execFileSync(
      "taskset",
      ["-c", "1", "wrk", "-t1", "-c8", `-d${s}s`, `http://127.0.0.1:${port}/`],
      { encoding: "utf8" },
    );
    const m = /Requests\/sec:\s+([\d.]+)/.exec(text);
    if (!m) throw new Error(`wrk printed no rate: ${text}`);
    return Number(m[1]);
  };
  const UNTRACED = "untraced";
  const FLOOR = "no-op raw_tp sys_enter program (the floor)";
  const BOTH = "no-op raw_tp sys_enter + sys_exit programs";
  const BPF = `sysfence record --engine bpf${byPid ? " --pid" : ""}`;
  const names = [UNTRACED, FLOOR, BOTH, BPF];
  const rps = new Map<string, number[]>(names.map((n) => [n, []]));
  const cpu = new Map<string, number[]>(names.map((n) => [n, []]));
  const commOf = (p: number) => {
    try {
      return readFileSync(`/proc/${p}/comm`, "utf8").trim();
    } catch {
      return "";
    }
  };
  for (let r = 0; r < rounds; r++)
    for (const name of names) {
      const port = await freePort();
      const argv = ["taskset", "-c", "0", ...site(port)];
      const helper = name === FLOOR ? await noop("sys_enter") : name === BOTH ? await noop() : undefined;
      const launched = name === BPF && !byPid;
      const nginx = launched
        ? spawn(
            process.execPath,
            [CLI, "record", "-q", "--engine", "bpf", "-o", join(dir, "n.json"), "--", ...argv],
            {
              stdio: "ignore",
            },
          )
        : spawn(argv[0], argv.slice(1), { stdio: "ignore" });
      const exited = new Promise((res) => nginx.on("exit", res));
      await waitForPort(port, 30000);
      let rec: ChildProcess | undefined;
      if (name === BPF && byPid) {
        // nginx's master (taskset execs it): its workers are already forked, so --pid takes the tree
        rec = spawn(
          process.execPath,
          [CLI, "record", "--engine", "bpf", "-o", join(dir, "n.json"), "--pid", String(nginx.pid)],
          { stdio: ["ignore", "ignore", "pipe"] },
        );
        await new Promise<void>((res, rej) => {
          let text = "";
          rec?.stderr?.on("data", (d: Buffer) => {
            text += d;
            if (/\(live\)/.test(text)) res();
          });
          rec?.on("exit", (c) => rej(new Error(`record --pid exited (${c}): ${text}`)));
        });
      }
      await wrk(port, 1); // warm up
      // nginx's processes (master and workers): their CPU time per request, which the other tenants of a
      // shared machine change less than they change throughput (the programs run in nginx's context)
      const nginxes = [nginx.pid as number, ...descendants(nginx.pid as number)].filter(
        (p) => commOf(p) === "nginx",
      );
      // the recorder's own process (sysfence: it drains the ring buffer), when there is one
      const recorder = launched ? (nginx.pid as number) : rec?.pid;
      const before = cpuSeconds(nginxes);
      const recBefore = recorder ? cpuSeconds([recorder]) : 0;
      const rate = await wrk(port, seconds);
      if (recorder)
        process.stderr.write(
          `nginx round ${r + 1}/${rounds}: the recorder's own CPU: ${(((cpuSeconds([recorder]) - recBefore) / seconds) * 100).toFixed(1)}% of a CPU\n`,
        );
      rps.get(name)?.push(rate);
      cpu.get(name)?.push(((cpuSeconds(nginxes) - before) / (rate * seconds)) * 1e6);
      process.stderr.write(
        `nginx round ${r + 1}/${rounds}: ${name}: ${rate.toFixed(0)} req/s, ${cpu.get(name)?.at(-1)?.toFixed(1)} µs CPU/request\n`,
      );
      const master = nginxes[0];
      if (rec) await stop(rec);
      if (master) process.kill(master, "SIGQUIT");
      await exited;
      await stop(helper);
    }
  loads.push(load());
  const base = median(rps.get(UNTRACED) ?? []);
  const lossOf = (n: string) =>
    (rps.get(n) ?? []).map((x, i) => (1 - x / (rps.get(UNTRACED) ?? [])[i]) * 100);
  out.push(
    `| nginx on CPU 0, wrk -c8 on CPU 1, ${seconds} s, ${rounds} interleaved rounds | req/s, median (runs) | loss vs untraced, points (median of rounds) | over the floor, points (median of rounds) | nginx CPU per request, median (runs) |`,
    "|---|---|---|---|---|",
  );
  for (const n of names) {
    const m = median(rps.get(n) ?? []);
    const loss = lossOf(n);
    const floor = lossOf(FLOOR);
    const over = loss.map((x, i) => x - floor[i]);
    out.push(
      `| ${n} | ${m.toFixed(0)} (${(rps.get(n) ?? []).map((x) => x.toFixed(0)).join(", ")}) | ${n === UNTRACED ? "" : `${((1 - m / base) * 100).toFixed(1)} (${median(loss).toFixed(1)})`} | ${n === UNTRACED || n === FLOOR ? "" : `${median(over).toFixed(1)} (rounds ${over.map((x) => x.toFixed(1)).join(", ")})`} | ${median(cpu.get(n) ?? []).toFixed(1)} µs (${(cpu.get(n) ?? []).map((x) => x.toFixed(1)).join(", ")})${n === UNTRACED ? "" : `, ${(median(cpu.get(n) ?? []) / median(cpu.get(UNTRACED) ?? [])).toFixed(2)}×`} |`,
    );
  }
  out.push(
    "",
    `Goal: record within 5 points of the floor. Load before / after: ${loadBefore} / ${loads.at(-1)}.`,
    "",
  );
  results.nginx = {
    seconds,
    rounds,
    byPid,
    load: [loadBefore, loads.at(-1)],
    rps: Object.fromEntries(rps),
    cpuMicrosPerRequest: Object.fromEntries(cpu),
  };
}

process.stdout.write(`${out.join("\n")}\n`);
const file = join(REPO, "bench", `ebpf-cost-results${only ? `-${only}` : ""}.json`);
writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
spawnSync(join(REPO, "node_modules", ".bin", "biome"), ["format", "--write", file], { stdio: "ignore" });
rmSync(dir, { recursive: true, force: true });
