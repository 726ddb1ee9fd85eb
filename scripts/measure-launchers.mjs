#!/usr/bin/env node
// Measures what each launcher does between loading a seccomp filter and the program's first instruction
// (and, for bwrap's pid-1 reaper, for the program's whole life), by running it under `strace -f` many times
// with varied timing. Writes the measurements to bench/launcher-sets.json and the sets to
// src/export/launcher-sets.ts, which `sysfence export --launcher` reads.
//
//   npm run build && node scripts/measure-launchers.mjs [--runs N]
//   npm run build && node scripts/measure-launchers.mjs --check
//
// --check measures nothing: it reads a built-in strace log with the same code a measurement uses (so a
// change to sysfence's strace parser that breaks this script fails), validates bench/launcher-sets.json and
// checks that the built src/export/launcher-sets.ts holds exactly the sets made from it. The test suite runs it
// (test/export/measure-launchers.test.ts).
//
// Needs root, strace, bwrap and runc. A call counts when a thread that loaded the filter (or a child it
// forked afterwards) makes it before its successful execve; bwrap's pid 1 never execs, so everything it
// does after the filter counts. prctl's option and fcntl's command are kept (they multiplex unrelated
// operations); wait4's pid and write's length are kept (the reaper's and init's own, a narrow rule). The Go
// runtime inside `runc init` makes calls that depend on timing (preemption signals, GC), so runs alternate: plain, pinned to one CPU, under CPU
// contention, and with GOGC=1 (a collection at every allocation).

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// sysfence's own strace parser: run `npm run build` first
import { parseLine, splitArgs } from "../dist/src/record/engines/strace/parse.js";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt("--runs", "8"));
const OUT = new URL("../bench/launcher-sets.json", import.meta.url).pathname;
const TS_OUT = new URL("../src/export/launcher-sets.ts", import.meta.url).pathname;

const KEEP_ARG = { prctl: 0, fcntl: 1, wait4: 0, write: 2 };

/** An unfinished call's arguments joined with the rest its resumed line printed (which may start with ", "). */
function joinResumed(start, rest) {
  const tail = rest.replace(/^,\s*/, "");
  return start && tail ? `${start}, ${tail}` : start || tail;
}
/**
 * Calls made under the filter, from one `strace -f -qq` log (read with sysfence's own strace parser): Map
 * role → Map "name[ argN=value]" → count. `roleOf(forkedPidTwo)` names a thread that loaded the filter;
 * forkedPidTwo: it had forked pid 2 of a new pid namespace (bwrap's reaper does, before loading it).
 */
function underFilter(log, roleOf) {
  const pending = new Map(); // pid → the unfinished call
  const filtered = new Map(); // pid → role
  const forkedTwo = new Set();
  const calls = new Map();
  const add = (role, key) => {
    if (!calls.has(role)) calls.set(role, new Map());
    const m = calls.get(role);
    m.set(key, (m.get(key) ?? 0) + 1);
  };
  for (const line of log.split("\n")) {
    const e = parseLine(line);
    if (!e || (e.kind !== "call" && e.kind !== "resume")) continue;
    if (e.kind === "call" && e.unfinished) {
      pending.set(e.pid, e);
      continue;
    }
    const start = e.kind === "resume" ? pending.get(e.pid) : undefined;
    pending.delete(e.pid);
    const { name } = e;
    const argText = start ? joinResumed(start.argText, e.argText) : e.argText;
    const ret = e.ret;
    const forks = /^(clone|clone3|fork|vfork)$/.test(name) && /^\d+$/.test(ret ?? "") && ret !== "0";
    const tid = String(e.pid);
    if (filtered.has(tid)) {
      const role = filtered.get(tid);
      const idx = KEEP_ARG[name];
      add(role, idx === undefined ? name : `${name} arg${idx}=${splitArgs(argText)[idx]}`);
      if (name === "execve" && ret === "0") filtered.delete(tid);
      else if (forks) filtered.set(ret, role);
      continue;
    }
    if (forks && ret === "2") forkedTwo.add(tid);
    const loads =
      (name === "prctl" && argText.startsWith("PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {")) ||
      (name === "seccomp" && /^SECCOMP_SET_MODE_FILTER, [^,]*, \{/.test(argText));
    if (loads && ret === "0") filtered.set(tid, roleOf(forkedTwo.has(tid)));
  }
  return calls;
}

const timings = [
  { label: "plain", wrap: [] },
  { label: "one CPU", wrap: ["taskset", "-c", "0"] },
  { label: "CPU contention", wrap: [], hog: true },
  { label: "GOGC=1", wrap: [], env: { GOGC: "1" } },
];

function traced(label, argv, { cwd, env, hog } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-measure-"));
  const out = join(dir, "trace");
  const hogs = hog ? [0, 1].map(() => spawn("sh", ["-c", "while :; do :; done"], { stdio: "ignore" })) : [];
  const r = spawnSync("strace", ["-f", "-qq", "-s", "0", "-o", out, ...argv], {
    cwd,
    env: { ...process.env, ...env },
    input: "",
    encoding: "utf8",
    timeout: 60000,
  });
  for (const h of hogs) h.kill("SIGKILL");
  if (r.status === null) throw new Error(`${label}: ${argv.join(" ")} timed out`);
  const log = readFileSync(out, "utf8");
  rmSync(dir, { recursive: true, force: true });
  return log;
}

// A filter that allows everything but reboot: what is measured is the launcher, not the policy.
const ALLOW_BPF = Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]);

function measureBwrap(pidns) {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-bwrap-"));
  const bpf = join(dir, "allow.bpf");
  writeFileSync(bpf, ALLOW_BPF);
  const logs = [];
  // the program exits, is killed by a signal, and leaves a child behind that the reaper collects
  const programs = ["true", "sh -c 'sleep 0.2 & exit 3'", "sh -c 'kill -TERM $$'"];
  for (let i = 0; i < RUNS; i++) {
    const t = timings[i % timings.length];
    const p = programs[i % programs.length];
    const script = `exec bwrap --ro-bind / / --dev /dev --proc /proc ${pidns ? "--unshare-pid " : ""}--die-with-parent --seccomp 9 -- ${p} 9<${bpf}`;
    logs.push(traced("bwrap", [...t.wrap, "sh", "-c", script], t));
  }
  rmSync(dir, { recursive: true, force: true });
  return logs;
}

function runcBundle(nnp) {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-runc-"));
  for (const d of ["rootfs/usr", "rootfs/etc", "rootfs/tmp", "rootfs/proc", "rootfs/dev", "rootfs/sys"])
    mkdirSync(join(dir, d), { recursive: true });
  for (const l of ["bin", "sbin", "lib", "lib64"]) symlinkSync(`usr/${l}`, join(dir, "rootfs", l));
  execFileSync("runc", ["spec"], { cwd: dir });
  const c = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  c.process.terminal = false;
  c.process.args = ["/bin/true"];
  c.process.noNewPrivileges = nnp;
  c.root.readonly = true;
  c.mounts.push({ destination: "/usr", type: "bind", source: "/usr", options: ["rbind", "ro"] });
  c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== "network");
  c.linux.seccomp = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["reboot"], action: "SCMP_ACT_ERRNO" }],
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(c));
  return dir;
}

function measureRunc(nnp) {
  const dir = runcBundle(nnp);
  const logs = [];
  for (let i = 0; i < RUNS; i++) {
    const t = timings[i % timings.length];
    const id = `sysfence-measure-${process.pid}-${i}`;
    logs.push(traced("runc", [...t.wrap, "runc", "run", id], { ...t, cwd: dir }));
    spawnSync("runc", ["delete", "-f", id], { stdio: "ignore" });
  }
  rmSync(dir, { recursive: true, force: true });
  return logs;
}

function summarise(logs, roleOf) {
  const total = new Map();
  const perRun = [];
  for (const log of logs) {
    const calls = underFilter(log, roleOf);
    const keys = new Set();
    for (const [role, m] of calls)
      for (const [k, n] of m) {
        const key = `${role}\t${k}`;
        keys.add(key);
        total.set(key, (total.get(key) ?? 0) + n);
      }
    perRun.push(keys);
  }
  const entries = [...total.keys()].sort().map((key) => {
    const [role, call] = key.split("\t");
    return { role, call, runs: perRun.filter((s) => s.has(key)).length };
  });
  return { runs: logs.length, calls: entries };
}

// with --unshare-pid, bwrap's pid 1 (the reaper) is the process whose fork returned pid 2 in the new
// namespace; the program's process is the other one
const bwrapRole = (pidns) => (forkedTwo) => (pidns && forkedTwo ? "reaper" : "program");
const runcRole = () => "init";

/** The module's sets from the measurements: each call as a name and, where an argument was kept, the condition that matches it. */
function setsOf(launchers) {
  return Object.fromEntries(
    Object.entries(launchers).map(([name, l]) => [
      name,
      {
        version: l.version,
        runs: l.runs,
        calls: l.calls.map((c) => {
          const [call, kept] = c.call.split(" ");
          const [arg, value] = kept ? kept.split("=") : [];
          return { role: c.role, name: call, ...(kept ? { condition: `${arg} == ${value}` } : {}) };
        }),
      },
    ]),
  );
}

function measure() {
  const version = (cmd, a) => spawnSync(cmd, a, { encoding: "utf8" }).stdout.split("\n")[0].trim();
  const result = {
    comment:
      "Generated by scripts/measure-launchers.mjs: calls each launcher makes after loading the filter, measured with strace -f under varied timing. Do not edit; rerun the script.",
    machine: { kernel: version("uname", ["-r"]), strace: version("strace", ["-V"]) },
    launchers: {
      bwrap: {
        version: version("bwrap", ["--version"]),
        ...summarise(measureBwrap(false), bwrapRole(false)),
      },
      "bwrap --unshare-pid": {
        version: version("bwrap", ["--version"]),
        ...summarise(measureBwrap(true), bwrapRole(true)),
      },
      "runc noNewPrivileges=true": {
        version: version("runc", ["--version"]),
        ...summarise(measureRunc(true), runcRole),
      },
      "runc noNewPrivileges=false": {
        version: version("runc", ["--version"]),
        ...summarise(measureRunc(false), runcRole),
      },
    },
  };
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(
    TS_OUT,
    `// Generated by scripts/measure-launchers.mjs (measurements: bench/launcher-sets.json). Do not edit; rerun it.\n\n/** What each launcher calls under the filter before (or, bwrap's reaper, besides) the program, as measured. */\nexport const MEASURED_LAUNCHES: Record<string, { version: string; runs: number; calls: { role: string; name: string; condition?: string }[] }> = ${JSON.stringify(setsOf(result.launchers), null, 2)};\n`,
  );
  // the generated module in the repository's style, as `npm run format` writes it
  spawnSync("npm", ["run", "-s", "format", "--", TS_OUT], { stdio: "ignore" });
  for (const [name, l] of Object.entries(result.launchers))
    console.log(
      `${name}: ${l.calls.length} calls over ${l.runs} runs: ${l.calls.map((c) => `${c.role}:${c.call}`).join(", ")}`,
    );
  console.log(`wrote ${OUT}`);
}

// A log as `strace -f -qq -s 0` writes it for a launcher: pid 100 loads the filter (its arguments split over an
// unfinished and a resumed line), forks 101, which execs; pid 90 never loads it.
const SAMPLE_LOG = `90 prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0
100 prctl(PR_SET_SECCOMP, <unfinished ...>
100 <... prctl resumed>SECCOMP_MODE_FILTER, {len=1, filter=0x5600}) = 0
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00) = 101
101 fcntl(3, F_SETFD, FD_CLOEXEC) = 0
100 wait4(-1,  <unfinished ...>
101 execve("/bin/true", ["true"], 0x7ffd /* 3 vars */) = 0
101 close(3) = 0
100 <... wait4 resumed>NULL, 0, NULL) = 101
100 exit_group(0) = ?
`;
const SAMPLE_CALLS = {
  program: ["clone", "execve", "exit_group", "fcntl arg1=F_SETFD", "wait4 arg0=-1"],
};

/** Where `got` differs from `want` (JSON-equal), as a sentence; undefined when they agree. */
function differs(what, got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  return g === w ? undefined : `${what}: got ${g}, expected ${w}`;
}

async function check() {
  const problems = [];
  // the measuring code on a known log: the strace parser's API still fits this script
  const calls = underFilter(SAMPLE_LOG, () => "program");
  const got = Object.fromEntries([...calls].map(([role, m]) => [role, [...m.keys()].sort()]));
  const p = differs("the calls read from the built-in strace log", got, SAMPLE_CALLS);
  if (p) problems.push(p);
  // the measurements: the shape setsOf reads
  const data = JSON.parse(readFileSync(OUT, "utf8"));
  const launchers = data?.launchers;
  if (typeof launchers !== "object" || launchers === null || Object.keys(launchers).length === 0)
    problems.push(`${OUT} has no "launchers" object; rerun the measurement.`);
  else
    for (const [name, l] of Object.entries(launchers)) {
      const bad =
        typeof l.version !== "string" ||
        !Number.isInteger(l.runs) ||
        l.runs < 1 ||
        !Array.isArray(l.calls) ||
        l.calls.some(
          (c) =>
            typeof c.role !== "string" ||
            typeof c.call !== "string" ||
            !/^[a-z0-9_]+( arg\d=\S+)?$/.test(c.call) ||
            !Number.isInteger(c.runs) ||
            c.runs < 1 ||
            c.runs > l.runs,
        );
      if (bad)
        problems.push(
          `${OUT}: launcher "${name}" is not {version, runs, calls: [{role, call: "name[ argN=value]", runs ≤ runs}]}; rerun the measurement.`,
        );
    }
  // the generated module: exactly the sets made from the measurements
  if (problems.length === 0) {
    const { MEASURED_LAUNCHES } = await import("../dist/src/export/launcher-sets.js");
    const d = differs(
      `${TS_OUT} (built) against the sets made from ${OUT}`,
      MEASURED_LAUNCHES,
      setsOf(launchers),
    );
    if (d) problems.push(`${d}; rerun the measurement, or regenerate the module from the same run.`);
  }
  for (const p of problems) console.error(p);
  if (problems.length > 0) process.exit(1);
  console.log(`ok: ${Object.keys(launchers).length} launchers in ${OUT} match ${TS_OUT}`);
}

if (args.includes("--check")) await check();
else measure();
