#!/usr/bin/env node
// Measures what each launcher does between loading a seccomp filter and the program's first instruction
// (and, for bwrap's pid-1 reaper, for the program's whole life), by running it under `strace -f` many times
// with varied timing. Writes the measurements to bench/launcher-sets.json and the sets to
// src/export/launcher-sets.ts, which `sysfence export --launcher` reads.
//
//   npm run build && node scripts/measure-launchers.mjs [--runs N]
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
import { joinResumed, parseLine, splitArgs } from "../dist/src/record/engines/strace/parse.js";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt("--runs", "8"));
const OUT = new URL("../bench/launcher-sets.json", import.meta.url).pathname;
const TS_OUT = new URL("../src/export/launcher-sets.ts", import.meta.url).pathname;

const KEEP_ARG = { prctl: 0, fcntl: 1, wait4: 0, write: 2 };
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

const version = (cmd, a) => spawnSync(cmd, a, { encoding: "utf8" }).stdout.split("\n")[0].trim();
const result = {
  comment:
    "Generated by scripts/measure-launchers.mjs: calls each launcher makes after loading the filter, measured with strace -f under varied timing. Do not edit; rerun the script.",
  machine: { kernel: version("uname", ["-r"]), strace: version("strace", ["-V"]) },
  launchers: {
    bwrap: { version: version("bwrap", ["--version"]), ...summarise(measureBwrap(false), bwrapRole(false)) },
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
// the module: each call as a name and, where an argument was kept, the condition that matches it
const sets = Object.fromEntries(
  Object.entries(result.launchers).map(([name, l]) => [
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
writeFileSync(
  TS_OUT,
  `// Generated by scripts/measure-launchers.mjs (measurements: bench/launcher-sets.json). Do not edit; rerun it.\n\n/** What each launcher calls under the filter before (or, bwrap's reaper, besides) the program, as measured. */\nexport const MEASURED_LAUNCHES: Record<string, { version: string; runs: number; calls: { role: string; name: string; condition?: string }[] }> = ${JSON.stringify(sets, null, 2)};\n`,
);
// the generated module in the repository's style, as `npm run format` writes it
spawnSync("npm", ["run", "-s", "format", "--", TS_OUT], { stdio: "ignore" });
for (const [name, l] of Object.entries(result.launchers))
  console.log(
    `${name}: ${l.calls.length} calls over ${l.runs} runs: ${l.calls.map((c) => `${c.role}:${c.call}`).join(", ")}`,
  );
console.log(`wrote ${OUT}`);
