// End to end on real daemons from Debian packages: record under a real client load, generate, run under
// `sysfence run --policy` with another load, and check that nothing was denied and the daemon lived.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { classOf } from "../../src/generate/classes.js";
import type { Action, Policy } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import type { Profile } from "../../src/record/profile.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { evalValue } from "../../src/syscalls/constants.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { CLI_PATH as CLI } from "../helpers/cli.js";
import {
  curlLoad,
  descendants,
  freePort,
  nginxSite,
  nodeHttpLoad,
  recordUnderLoad,
  storm404,
} from "../helpers/daemon-loads.js";
import { memcacheBroadLoad, memcachedArgs, memcacheLoad, waitForPort } from "../helpers/memcache-client.js";
import { requireOrSkip } from "../helpers/require.js";

const have = (cmd: string, arg = "-V") => spawnSync(cmd, [arg]).status === 0;
const skipFor = (what: string, ok: boolean) =>
  process.platform !== "linux" ? "needs Linux" : requireOrSkip(ok && have("strace"), `${what} and strace`);

/** Starts `sysfence WORDS… -- DAEMON…`; resolves with the child and a promise of its exit. */
function start(words: string[], daemon: string[]) {
  const child = spawn(process.execPath, [CLI, ...words, "--", ...daemon], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on("exit", (code, signal) => res({ code, signal })),
  );
  return { child, exited, stderr: () => stderr };
}

/** pids of processes whose command line starts with `exe` and whose ancestor is `root`. */
/**
 * SECCOMP records in the kernel log since `since` (epoch seconds) for any of `pids` that stopped
 * something: kills and traps. errno answers are logged too (generated policies carry flags: [log]) and
 * are deliberate — clone3 → ENOSYS at every thread start, unseen high-risk calls → EPERM.
 */
function seccompRecords(pids: number[], since: number): string[] {
  let log = "";
  try {
    log = execFileSync("dmesg", { encoding: "utf8" });
  } catch {
    return [];
  }
  return log.split("\n").filter((l) => {
    const m = /type=1326 audit\((\d+)\.\d+:\d+\).* pid=(\d+) .* code=(0x[0-9a-f]+)/.exec(l);
    const action = m ? Number(m[3]) & 0xffff0000 : 0;
    const deliberate = action === 0x50000; // SECCOMP_RET_ERRNO
    return !!m && !deliberate && Number(m[1]) >= since && pids.includes(Number(m[2]));
  });
}

const decide = (p: Policy, name: string, args: string[] = []): Action =>
  referenceDecide(p, {
    arch: ARCHES.x86_64.audit,
    nr: syscallNumber("x86_64", name)!,
    args: [...args.map((a) => evalValue(a)), 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6),
  });

/** The claims every generated daemon policy must meet. */
function checkPolicy(
  file: string,
  // seen ∪ always ∪ (static reach − privilege): file, socket and signal calls are allowed where the
  // Landlock layer confines them, so the share is higher than a seccomp-only policy's quarter
  maxShare = 0.35,
): { allowed: number; known: number; restricted: string[] } {
  const policy = parsePolicy(readFileSync(file, "utf8"), { file }).policy;
  const allows = (n: string, a: string[] = []) => decide(policy, n, a).kind === "allow";
  for (const n of ["execve", "execveat", "ptrace", "process_vm_writev", "bpf", "unshare", "mount"])
    assert.ok(!allows(n), `${n} denied`);
  assert.ok(!allows("socket", ["AF_INET", "SOCK_RAW"]), "raw IP sockets denied");
  assert.ok(!allows("socket", ["AF_PACKET", "SOCK_RAW"]), "packet sockets denied");
  // NETLINK_ROUTE (interface and address queries) is an ordinary value; every other netlink family is not
  assert.ok(!allows("socket", ["AF_NETLINK", "SOCK_RAW", "NETLINK_AUDIT"]), "netlink (audit) denied");
  assert.ok(!allows("socket", ["AF_NETLINK", "SOCK_RAW", "NETLINK_NETFILTER"]), "netlink (netfilter) denied");
  assert.ok(!allows("clone", ["CLONE_NEWUSER"]), "no user namespaces");
  assert.ok(!allows("ioctl", ["0", "TIOCSTI"]), "no terminal injection");
  const rep = JSON.parse(
    execFileSync(process.execPath, [CLI, "report", file, "--format", "json"], { encoding: "utf8" }),
  ) as {
    allowed: number;
    known: number;
    syscalls: { name: string; treatment: string }[];
  };
  const restricted = rep.syscalls.filter((s) => s.treatment === "restricted").map((s) => s.name);
  const treat = Object.fromEntries(rep.syscalls.map((s) => [s.name, s.treatment]));
  for (const n of ["ioctl", "socket", "clone"])
    assert.ok(
      treat[n] === "restricted" || treat[n] === "denied" || treat[n] === "errno",
      `${n} is restricted by argument, denied or answered with an errno (${treat[n]})`,
    );
  assert.ok(
    rep.allowed <= rep.known * maxShare,
    `${rep.allowed} of ${rep.known} allowed (≤ ${maxShare * 100}%)`,
  );
  // what static reach adds is never of the privilege class (only a recording can allow those)
  for (const r of policy.rules)
    if (r.action.kind === "allow" && (r.tier === "static-low" || r.tier === "static-confined"))
      for (const n of r.names) assert.notEqual(classOf(n).cls, "privilege", `${n} allowed by static reach`);
  return { allowed: rep.allowed, known: rep.known, restricted };
}

/** Records, generates, enforces. `driveRecord`/`driveEnforce` get the port and return failures. */
async function endToEnd(o: {
  name: string;
  daemon: (port: number) => string[];
  driveRecord: (port: number) => Promise<string[]>;
  driveEnforce: (port: number, pid: number) => Promise<string[]>;
  stopSignal: NodeJS.Signals;
  only?: string;
  /** The recording engine (default: strace; "auto" is the CLI's default). */
  engine?: string;
}) {
  const dir = mkdtempSync(join(tmpdir(), `sysfence-${o.name}-`));
  const profile = join(dir, "profile.json");
  const policy = join(dir, "policy.yaml");
  // 1. record under load
  const port1 = await freePort();
  await recordUnderLoad({
    label: o.name,
    profile,
    argv: o.daemon(port1),
    port: port1,
    load: o.driveRecord,
    stop: (pid) => {
      process.kill(pid, o.stopSignal);
    },
    recordArgs: ["--engine", o.engine ?? "strace", ...(o.only ? ["--only-exe", o.only] : [])],
    onStart: (pid) => cleanups.push(() => killTree(pid)),
  });
  const p = JSON.parse(readFileSync(profile, "utf8")) as Profile;
  assert.ok(Object.keys(p.syscalls).length > 20);
  if (o.engine === "auto" && process.getuid?.() === 0)
    assert.equal(
      p.engine.name,
      existsSync("/sys/kernel/btf/vmlinux") ? "bpf" : "ftrace",
      "the default engine as root",
    );
  // 2. generate (every phase: the filter is in place from the first instruction)
  const gen = spawnSync(process.execPath, [CLI, "generate", profile, "--phase", "all", "-o", policy], {
    encoding: "utf8",
  });
  assert.equal(gen.status, 0, gen.stderr);
  const stats = checkPolicy(policy);
  // 3. enforce with another load
  const since = Math.floor(Date.now() / 1000) - 1;
  // the port it was recorded on: the file layer lets it bind only the ports it bound
  const port2 = port1;
  const run = start(["run", "--policy", policy], o.daemon(port2));
  cleanups.push(() => killTree(run.child.pid!));
  await waitForPort(port2, 30000);
  const pids = [run.child.pid!, ...descendants(run.child.pid!)];
  const f2 = await o.driveEnforce(port2, run.child.pid!);
  assert.deepEqual(f2, [], "every request succeeds under the policy");
  // the daemon lives; workers may have been replaced (a reload starts new ones), but some serve
  assert.ok(existsPid(run.child.pid!), "the daemon is alive after the load");
  assert.ok(
    pids.length === 1 || descendants(run.child.pid!).length > 0,
    "the daemon still has its workers after the load",
  );
  pids.push(...descendants(run.child.pid!));
  process.kill(run.child.pid!, o.stopSignal);
  const e = await run.exited;
  assert.equal(e.signal, null, `the daemon was not killed (${e.signal}) ${run.stderr()}`);
  assert.equal(e.code, 0, run.stderr());
  await new Promise((res) => setTimeout(res, 500)); // audit records reach the log a little late
  assert.deepEqual(seccompRecords(pids, since), [], "no SECCOMP record from the daemon");
  return stats;
}

/** Kills a process and everything under it (after a failed assertion; a no-op once they exited). */
function killTree(root: number): void {
  for (const pid of [...descendants(root), root]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function existsPid(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("memcached: record under a client load, generate, run under the policy", {
  skip: skipFor("memcached", have("memcached", "-V")),
}, () => {
  const engines: [string, string][] = [
    ["strace", "serves a different load under the generated policy with zero violations"],
    ["auto", "does the same from a recording with the default engine (ftrace when root)"],
  ];
  for (const [engine, title] of engines) {
    it(title, async () => {
      const stats = await endToEnd({
        name: `memcached-${engine}`,
        daemon: memcachedArgs,
        driveRecord: async (port) => (await memcacheLoad(port, 6, 60)).failures,
        // a broader load than the recording's: stats variants, flush_all, verbosity, version, many
        // connections, large values (the paths a get/set recording never saw)
        driveEnforce: async (port) => [
          ...(await memcacheLoad(port, 12, 40)).failures,
          ...(await memcacheBroadLoad(port, 40)),
        ],
        stopSignal: "SIGTERM",
        engine,
      });
      console.log(
        `memcached (--engine ${engine}): ${stats.allowed} of ${stats.known} syscalls allowed; argument rules on ${stats.restricted.join(", ")}`,
      );
    });
  }
});

describe("nginx: record under one client, enforce under another", {
  skip: skipFor("nginx and curl", have("nginx", "-v") && have("curl", "--version")),
}, () => {
  it("serves curl's requests under the policy generated from Node's with zero violations", async () => {
    const stats = await endToEnd({
      name: "nginx",
      daemon: nginxSite(),
      driveRecord: nodeHttpLoad,
      // then a reload (SIGHUP), log reopening (SIGUSR1), a 404 storm, large files, keep-alive
      driveEnforce: async (port, pid) => {
        const failures = await curlLoad(port);
        for (const sig of ["SIGHUP", "SIGUSR1"] as const) {
          process.kill(pid, sig);
          await new Promise((r) => setTimeout(r, 700));
          failures.push(...(await nodeHttpLoad(port)).map((f) => `after ${sig}: ${f}`));
        }
        failures.push(...(await storm404(port)));
        return failures;
      },
      stopSignal: "SIGQUIT",
    });
    console.log(
      `nginx: ${stats.allowed} of ${stats.known} syscalls allowed; argument rules on ${stats.restricted.join(", ")}`,
    );
  });
});

describe("nginx recorded while it serves: record --pid, merged with a start-up recording", {
  skip: skipFor("nginx and curl", have("nginx", "-v") && have("curl", "--version")),
}, () => {
  it("gives a policy nginx starts under and serves the same load with zero violations", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-nginx-attach-"));
    const [startup, attached, merged, policy] = [
      "start.json",
      "attached.json",
      "merged.json",
      "policy.yaml",
    ].map((f) => join(dir, f));
    const site = nginxSite();
    // 1. a launch, up to listening and one request: the start-up phase
    const port1 = await freePort();
    await recordUnderLoad({
      label: "nginx start-up",
      profile: startup,
      argv: site(port1),
      port: port1,
      load: async (port) => await curlOnce(port),
      stop: (pid) => {
        process.kill(pid, "SIGQUIT");
      },
      recordArgs: ["--engine", "strace", "--after", "listen"],
      onStart: (pid) => cleanups.push(() => killTree(pid)),
    });
    // 2. the service as it runs in production, recorded for 20 s under load without being touched
    const port2 = await freePort();
    const argv2 = site(port2);
    const nginx = spawn(argv2[0], argv2.slice(1), { stdio: "ignore" });
    cleanups.push(() => killTree(nginx.pid!));
    await waitForPort(port2, 30000);
    const rec = spawn(
      process.execPath,
      [CLI, "record", "-q", "--pid", String(nginx.pid), "--duration", "20", "-o", attached],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let recErr = "";
    rec.stderr.on("data", (d) => {
      recErr += d;
    });
    const recorded = new Promise<number | null>((res) => rec.on("exit", (code) => res(code)));
    await new Promise((res) => setTimeout(res, 1500)); // attached
    const failures: string[] = [];
    const until = Date.now() + 16_000;
    while (Date.now() < until) failures.push(...(await nodeHttpLoad(port2)));
    assert.deepEqual(failures, [], "the service kept serving while recorded");
    assert.equal(await recorded, 0, recErr);
    assert.ok(existsPid(nginx.pid!), "record --pid left nginx running");
    process.kill(nginx.pid!, "SIGQUIT");
    const p = JSON.parse(readFileSync(attached, "utf8")) as Profile;
    assert.equal(p.phaseBoundary, "attached");
    assert.ok(p.processes.length >= 2, "the workers (an idle master makes no calls)");
    // 3. merge, generate for run (every phase), enforce under the same load
    const m = spawnSync(process.execPath, [CLI, "merge", startup, attached, "-o", merged], {
      encoding: "utf8",
    });
    assert.equal(m.status, 0, m.stderr);
    const gen = spawnSync(process.execPath, [CLI, "generate", merged, "--phase", "all", "-o", policy], {
      encoding: "utf8",
    });
    assert.equal(gen.status, 0, gen.stderr);
    const attachedOnly = spawnSync(process.execPath, [CLI, "generate", attached], { encoding: "utf8" });
    assert.match(attachedOnly.stderr, /no start-up phase in it/);
    // two recordings analysed together reach a few more low-risk calls than one (97 of 385 measured)
    checkPolicy(policy, 0.36);
    const since = Math.floor(Date.now() / 1000) - 1;
    // a port it bound in the recordings (the file layer's bindTcp)
    const port3 = port1;
    const run = start(["run", "--policy", policy], site(port3));
    cleanups.push(() => killTree(run.child.pid!));
    await waitForPort(port3, 30000);
    const pids = [run.child.pid!, ...descendants(run.child.pid!)];
    assert.deepEqual(await nodeHttpLoad(port3), [], "every request succeeds under the policy");
    pids.push(...descendants(run.child.pid!));
    process.kill(run.child.pid!, "SIGQUIT");
    const e = await run.exited;
    assert.equal(e.code, 0, run.stderr());
    await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(seccompRecords(pids, since), [], "no SECCOMP record from nginx");
  });
});

/** One GET of the index page; failures as text. */
async function curlOnce(port: number): Promise<string[]> {
  const r = spawnSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${port}/`], {
    encoding: "utf8",
  });
  return r.stdout === "200" ? [] : [`GET / → ${r.stdout} ${r.stderr}`];
}
