// Deployable exports: a policy generated from a recording, exported and started by the engines users run —
// bwrap --seccomp (with and without --unshare-pid), runc (noNewPrivileges true and false), sysfence's C
// launchers built with gcc — serves its load with no kill, and a probe server is denied exec (where the
// launcher does not need it), a user namespace and ptrace.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { compile } from "../../src/compile/compile.js";
import { withoutArgumentFallbacks } from "../../src/export/complement.js";
import { exportPolicy } from "../../src/export/export.js";
import type { ExportFormat } from "../../src/export/launchers.js";
import { seccompPolicyFor } from "../../src/policy/landlock.js";
import type { Policy } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { syscallName } from "../../src/syscalls/table.js";
import { CLI_PATH } from "../helpers/cli.js";
import {
  curlLoad,
  freePort,
  NGINX_DIR,
  nginxSite,
  nodeHttpLoad,
  recordUnderLoad,
  storm404,
} from "../helpers/daemon-loads.js";
import { type Deployment, deployments, exportTo, type Started } from "../helpers/deploy.js";
import { memcacheBroadLoad, memcachedArgs, memcacheLoad, waitForPort } from "../helpers/memcache-client.js";
import { REPO } from "../helpers/paths.js";
import { exhaustiveQueries, findMismatches } from "../helpers/queries.js";
import { requireOrSkip } from "../helpers/require.js";

const have = (cmd: string, arg = "--version") => spawnSync(cmd, [arg]).status === 0;
const ready =
  process.platform === "linux" && process.arch === "x64" && process.getuid?.() === 0
    ? requireOrSkip(
        have("strace", "-V") && have("bwrap") && have("runc") && have("gcc") && have("memcached", "-V"),
        "root, strace, bwrap, runc, gcc and memcached",
      )
    : "needs root on Linux x86_64";

const DIR = mkdtempSync(join(tmpdir(), "sysfence-deploy-"));
chmodSync(DIR, 0o755);
const running: Started[] = [];
after(async () => {
  for (const s of running) await s.stop("SIGKILL").catch(() => {});
});

const GENERATED: string[] = [];

/** Names of the syscalls on which `a` (reference) and the compiled `b` decide differently. */
function differing(a: Policy, b: Policy): Set<string> {
  const { mismatches } = findMismatches(a, compile(b, { stats: false }).program, exhaustiveQueries(a), 1e9);
  const arch = a.architectures[0];
  return new Set(mismatches.map((m) => syscallName(arch, m.query.nr) ?? `#${m.query.nr}`));
}

/**
 * import(export(P)) decides like P, for every syscall number and every recorded argument value, except on
 * the calls the export's warnings name (the launcher's calls; systemd: calls with argument rules).
 */
function assertRoundTrips(file: string): void {
  const p = parsePolicy(readFileSync(file, "utf8"), { file }).policy;
  const cases: [ExportFormat, Parameters<typeof exportPolicy>[2], string][] = [
    ["oci", {}, "x.json"],
    ["oci", { log: true }, "x.json"],
    ["k8s", { apiVersion: "v1" }, "x.yaml"],
    ["k8s", { apiVersion: "v1beta1" }, "x.yaml"],
    ["systemd", {}, "x.conf"],
  ];
  for (const [format, options, name] of cases) {
    const ex = exportPolicy(p, format, options);
    const said = [...ex.launcherWarnings, ...ex.warnings].map((w) => w.message).join("\n");
    // what the engine can hold: no Landlock (needs: rules fall back), and under libseccomp no EPERM
    // answer beside argument rules (the export's warning names those calls)
    const kept = format === "systemd" ? { policy: p, dropped: [] } : withoutArgumentFallbacks(p);
    for (const n of kept.dropped)
      assert.ok(said.includes(n), `${format}: the dropped ${n} fallback is named`);
    const engine = seccompPolicyFor(kept.policy, false);
    // the launcher's rules change only the calls its warning names
    if (!options?.log)
      for (const n of differing(engine, ex.policy))
        assert.ok(
          ex.launcherRules.some((r) => r.names.includes(n)) && said.includes(n),
          `${format}: ${n} changed but no launcher warning names it`,
        );
    const text = String(ex.output).split("\n---\n")[0];
    const back = parsePolicy(text, { file: name, arch: p.architectures[0] }).policy;
    for (const n of differing(ex.policy, back))
      assert.ok(
        said.includes(` ${n} `) ||
          said.includes(`${n} is allowed only when`) ||
          said.includes(`for ${n} only when`),
        `${format}${options?.log ? " --log" : ""} ${file}: import(export) decides ${n} differently and no warning names it`,
      );
  }
}

/** Records `argv` under `load` with the strace engine and generates a policy; `stop` ends the daemon. */
async function recordAndGenerate(
  name: string,
  argv: (port: number) => string[],
  load: (port: number) => Promise<string[]>,
  stop: (daemonPid: number, port: number) => Promise<void> | void,
): Promise<string> {
  const profile = join(DIR, `${name}.json`);
  const policy = join(DIR, `${name}.policy.yaml`);
  const port = await freePort();
  await recordUnderLoad({
    label: name,
    profile,
    argv: argv(port),
    port,
    load,
    stop: (pid) => stop(pid, port),
  });
  const gen = spawnSync(process.execPath, [CLI_PATH, "generate", profile, "-o", policy], {
    encoding: "utf8",
  });
  assert.equal(gen.status, 0, gen.stderr);
  GENERATED.push(policy);
  return policy;
}

/** One request line to the probe server: its reply, or "closed" when the connection ended without one. */
function ask(port: number, line: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => s.write(`${line}\n`));
    let data = "";
    s.on("data", (d) => {
      data += d;
      if (data.includes("\n")) {
        s.destroy();
        resolve(data.trim());
      }
    });
    s.on("close", () => resolve(data.trim() || "closed"));
    s.on("error", () => resolve(data.trim() || "closed"));
  });
}

/** Starts `argv(port)` under `d`, waits for the port, runs `drive`, stops it; asserts no kill. */
async function serve(
  d: Deployment,
  argv: (port: number) => string[],
  drive: (port: number, s: Started) => Promise<string[]>,
  stop: (s: Started, port: number) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
): Promise<void> {
  const port = await freePort();
  const s = d.start(argv(port));
  running.push(s);
  const early = s.exited.then((e) => {
    throw new Error(`${d.name}: exited before serving (${e.code ?? e.signal}): ${s.stderr()}`);
  });
  await Promise.race([waitForPort(port, 30000), early]);
  early.catch(() => {});
  const failures = await drive(port, s);
  assert.deepEqual(failures, [], `${d.name}: every request succeeds`);
  const e = await stop(s, port);
  running.splice(running.indexOf(s), 1);
  // 159 = 128 + SIGSYS: runc and bwrap report a killed program as its exit status
  assert.ok(
    e.signal === null && e.code !== 159,
    `${d.name}: not killed (${e.code ?? e.signal}) ${s.stderr()}`,
  );
  assert.equal(e.code, 0, `${d.name}: exit status 0 ${s.stderr()}`);
}

describe("deploy: generated policies under bwrap, runc and the C launchers", { skip: ready }, () => {
  it("a probe server serves, and is denied a user namespace, ptrace and (unless its launcher needs it) exec", async () => {
    const probe = join(DIR, "probe-server");
    execFileSync("gcc", ["-O2", "-o", probe, `${REPO}test/fixtures/probe-server.c`]);
    const pings = async (port: number) => {
      const out: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await ask(port, "ping");
        if (r !== "pong") out.push(`ping: ${r}`);
      }
      return out;
    };
    const policy = await recordAndGenerate(
      "probe",
      (port) => [probe, String(port)],
      pings,
      async (_pid, port) => {
        await ask(port, "quit");
      },
    );
    const { list, warnings } = deployments(policy, DIR, [DIR]);
    for (const f of ["bpf", "oci"]) assert.match(warnings[f], /execve stays allowed for the program too/, f);
    for (const f of ["bpf-c", "libseccomp-c"]) assert.match(warnings[f], /the program still cannot exec/, f);
    for (const d of list) {
      await serve(
        d,
        (port) => [probe, String(port)],
        async (port) => {
          const failures = await pings(port);
          const userns = await ask(port, "userns");
          if (!/^userns denied 1$|^closed$/.test(userns)) failures.push(`unshare(CLONE_NEWUSER): ${userns}`);
          // ESRCH (3) would mean the filter let ptrace through to the kernel
          const ptrace = await ask(port, "ptrace");
          if (!/^ptrace denied 1$|^closed$/.test(ptrace)) failures.push(`ptrace: ${ptrace}`);
          failures.push(...(await pings(port)));
          if (!d.execAllowed) {
            const exec = await ask(port, "exec");
            if (!/^exec denied 1$/.test(exec)) failures.push(`execve: ${exec}`);
            failures.push(...(await pings(port)));
          }
          return failures;
        },
        async (s, port) => {
          await ask(port, "quit");
          return s.exited;
        },
      );
    }
  });

  it("memcached serves a broad load under every engine", async () => {
    const argv = memcachedArgs;
    const policy = await recordAndGenerate(
      "memcached",
      argv,
      async (port) => (await memcacheLoad(port, 6, 40)).failures,
      (pid) => {
        process.kill(pid, "SIGTERM");
      },
    );
    const { list } = deployments(policy, DIR, [DIR]);
    for (const d of list)
      await serve(
        d,
        argv,
        async (port) => [
          ...(await memcacheLoad(port, 8, 30)).failures,
          ...(await memcacheBroadLoad(port, 20)),
        ],
        (s) => s.stop("SIGTERM"),
      );
  });

  it("nginx serves its site under every engine", {
    skip: have("nginx", "-v") ? false : "needs nginx",
  }, async () => {
    const site = nginxSite();
    const policy = await recordAndGenerate("nginx", site, nodeHttpLoad, (pid) => {
      process.kill(pid, "SIGQUIT");
    });
    const { list } = deployments(policy, DIR, [DIR, NGINX_DIR]);
    // served with another client and other requests than the recording's (curl: HEAD, ranges,
    // conditional GETs, HTTP/1.0; a 404 storm)
    for (const d of list)
      await serve(
        d,
        site,
        async (port) => [...(await curlLoad(port)), ...(await storm404(port))],
        (s) => s.stop("SIGQUIT"),
      );
  });
  it("round trips: import(export(P)) of every generated policy decides like P but where a warning says", () => {
    assert.ok(GENERATED.length > 0, "the tests above generated policies");
    for (const file of GENERATED) assertRoundTrips(file);
  });

  it("systemd: every generated policy's drop-in passes systemd-analyze verify; the log-mode one only logs", () => {
    for (const file of GENERATED)
      for (const log of [false, true]) {
        const out = join(DIR, `unit-${log}.conf`);
        exportTo(file, ["--format", "systemd", ...(log ? ["--log"] : []), "-o", out]);
        const dropIn = readFileSync(out, "utf8");
        if (log) {
          assert.match(dropIn, /^SystemCallLog=~\S+/m, "a non-empty SystemCallLog=");
          assert.doesNotMatch(dropIn, /^SystemCallFilter=/m, "no deny filter in log mode");
        } else assert.match(dropIn, /^SystemCallFilter=\S+/m);
        const unit = join(DIR, "sysfence-deploy.service");
        writeFileSync(
          unit,
          `[Unit]\nDescription=deploy test\n[Service]\nExecStart=/bin/true\n${dropIn.split("[Service]\n")[1]}`,
        );
        const r = spawnSync("systemd-analyze", ["verify", "--man=no", unit], { encoding: "utf8" });
        assert.doesNotMatch(
          `${r.stdout}${r.stderr}`,
          /Failed to parse|Unknown|invalid/i,
          `${file} log=${log}`,
        );
      }
  });
});
