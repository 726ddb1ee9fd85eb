// Generated policies in the container engines people run: written into a runc bundle's config.json
// (export --into, every other byte kept) and given to podman (--security-opt seccomp=FILE, run by runc).
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { outputOf, parseState } from "../../src/cli/commands/hook.js";
import { seccompInto } from "../../src/export/oci-into.js";
import { CLI_PATH, spawnCli } from "../helpers/cli.js";
import { requireOrSkip } from "../helpers/require.js";

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "sysfence-containers-"));
const rootfs = join(dir, "rootfs");
const policy = join(dir, "ls.yaml");
/**
 * podman's options in every run here: runc (crun refuses this machine's hybrid cgroups), no network, and
 * rlimits within root's hard limits (root lacks CAP_SYS_RESOURCE here; podman's default 1048576 fails).
 */
const PODMAN = [
  "--runtime",
  "runc",
  "--network",
  "none",
  "--ulimit",
  "nofile=1024:1024",
  "--ulimit",
  "nproc=1024:1024",
];

describe("export --into a bundle's config.json", () => {
  const CONFIG =
    '{\n\t"ociVersion": "1.0.2",\n\t"process": {"args": ["sh"]},\n\t"linux": {\n\t\t"namespaces": [ {"type": "pid"} ]\n\t}\n}\n';
  const PROFILE =
    '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}';

  it("adds linux.seccomp leaving every other byte as it was", () => {
    const out = seccompInto(CONFIG, "config.json", PROFILE);
    const cut = CONFIG.lastIndexOf("]") + 1;
    assert.ok(out.startsWith(CONFIG.slice(0, cut)), "the bytes before it");
    assert.ok(out.endsWith(CONFIG.slice(cut)), "the bytes after it");
    const parsed = JSON.parse(out);
    assert.deepEqual(parsed.linux.seccomp, JSON.parse(PROFILE));
    assert.match(out, /\n\t\t"seccomp": \{\n\t\t\t"defaultAction"/, "indented as the file is (tabs)");
  });

  it("replaces an existing linux.seccomp (also null) and only it; running it twice changes nothing", () => {
    const withNull = CONFIG.replace('"namespaces"', '"seccomp": null,\n\t\t"namespaces"');
    const once = seccompInto(withNull, "c.json", PROFILE);
    assert.deepEqual(JSON.parse(once).linux.seccomp, JSON.parse(PROFILE));
    assert.equal(seccompInto(once, "c.json", PROFILE), once);
    const other = '{"defaultAction": "SCMP_ACT_ALLOW"}';
    const replaced = seccompInto(once, "c.json", other);
    const [a, b] = [once.indexOf('"seccomp"'), replaced.indexOf('"seccomp"')];
    assert.equal(replaced.slice(0, b), once.slice(0, a));
    assert.ok(replaced.endsWith(once.slice(once.indexOf('"namespaces"') - 4)));
  });

  it("adds a linux object when the config has none; refuses what is not an OCI config", () => {
    const out = seccompInto('{"ociVersion": "1.0.2", "process": {}}', "c.json", PROFILE);
    assert.deepEqual(JSON.parse(out).linux.seccomp, JSON.parse(PROFILE));
    assert.throws(() => seccompInto('{"names": []}', "p.json", PROFILE), /not an OCI runtime config/);
    assert.throws(() => seccompInto("{oops", "p.json", PROFILE), /p\.json is not valid JSON/);
  });
});

describe("generated policies in runc and podman", { skip: !root && "needs root (containers)" }, () => {
  before(() => {
    mkdirSync(join(rootfs, "bin"), { recursive: true });
    copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
    chmodSync(join(rootfs, "bin", "busybox"), 0o755);
    const r = spawnCli([
      "record",
      "-q",
      "--engine",
      "strace",
      "-o",
      join(dir, "ls.json"),
      "--",
      "/bin/busybox",
      "ls",
      "/",
    ]);
    assert.equal(r.status, 0, r.stderr);
    const g = spawnCli(["generate", join(dir, "ls.json"), "-o", policy]);
    assert.equal(g.status, 0, g.stderr);
  });

  it("runc runs a bundle whose config export --into wrote; a call the recording never made is refused", {
    skip: requireOrSkip(has("runc"), "runc"),
  }, () => {
    const bundle = join(dir, "bundle");
    mkdirSync(bundle);
    execFileSync("runc", ["spec"], { cwd: bundle });
    const c = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
    c.root = { path: rootfs, readonly: false };
    c.process.terminal = false;
    c.process.args = ["/bin/busybox", "sh", "-c", "/bin/busybox ls / && /bin/busybox mkdir /made"];
    writeFileSync(join(bundle, "config.json"), JSON.stringify(c, null, "\t"));
    const before = readFileSync(join(bundle, "config.json"), "utf8");
    const e = spawnCli([
      "export",
      policy,
      "--format",
      "oci",
      "--launcher",
      "runc",
      "--into",
      join(bundle, "config.json"),
    ]);
    assert.equal(e.status, 0, e.stderr);
    const after = readFileSync(join(bundle, "config.json"), "utf8");
    const parsed = JSON.parse(after);
    delete parsed.linux.seccomp;
    assert.equal(JSON.stringify(parsed, null, "\t"), before.trimEnd(), "nothing but linux.seccomp changed");
    const id = `sysfence-into-${process.pid}`;
    const run = spawnSync("runc", ["run", id], { cwd: bundle, encoding: "utf8", timeout: 30000 });
    spawnSync("runc", ["delete", "-f", id]);
    assert.match(run.stdout, /bin/, `ls ran: ${run.stderr}`);
    assert.match(run.stderr, /mkdir: can't create directory '\/made': Operation not permitted/);
    assert.notEqual(run.status, 0);
  });

  it("podman (runc) runs the exported profile: the recorded use works, an unrecorded one gets EPERM", {
    skip: requireOrSkip(has("podman"), "podman"),
  }, () => {
    const profile = join(dir, "ls-oci.json");
    const e = spawnCli(["export", policy, "--format", "oci", "--launcher", "runc", "-o", profile]);
    assert.equal(e.status, 0, e.stderr);
    const podman = (seccomp: string, ...cmd: string[]) =>
      spawnSync(
        "podman",
        ["run", "--rm", ...PODMAN, "--security-opt", `seccomp=${seccomp}`, "--rootfs", rootfs, ...cmd],
        { encoding: "utf8", timeout: 60000 },
      );
    const ls = podman(profile, "/bin/busybox", "ls", "/");
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /bin/);
    const control = podman("unconfined", "/bin/busybox", "mkdir", `/control-${process.pid}`);
    assert.equal(control.status, 0, `without the profile mkdir works: ${control.stderr}`);
    const denied = podman(profile, "/bin/busybox", "mkdir", `/denied-${process.pid}`);
    assert.notEqual(denied.status, 0);
    assert.match(denied.stderr, /Operation not permitted/);
  });

  it("record --container finds a running podman container's init and records its processes", {
    skip: requireOrSkip(has("podman"), "podman"),
  }, () => {
    const name = `sysfence-rec-${process.pid}`;
    const loop =
      "while true; do /bin/busybox ls / >/dev/null; /bin/busybox mkdir -p /tmp/d; /bin/busybox sleep 0.2; done";
    const started = spawnSync(
      "podman",
      ["run", "-d", "--name", name, ...PODMAN, "--rootfs", rootfs, "/bin/busybox", "sh", "-c", loop],
      { encoding: "utf8", timeout: 60000 },
    );
    assert.equal(started.status, 0, started.stderr);
    try {
      const out = join(dir, "container.json");
      const r = spawnCli([
        "record",
        "--container",
        name,
        "--runtime",
        "podman",
        "--duration",
        "5",
        "-o",
        out,
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`container ${name} \\(podman\\): its init is pid \\d+`));
      assert.match(r.stderr, new RegExp(`recording container ${name} \\(pid \\d+, live\\)`));
      const p = JSON.parse(readFileSync(out, "utf8"));
      for (const call of ["getdents64", "mkdir", "wait4"])
        assert.ok(p.syscalls[call], `${call} recorded: ${r.stderr}`);
      assert.ok(p.processes.some((x: { exe: string }) => x.exe.endsWith("busybox")));
    } finally {
      spawnSync("podman", ["rm", "-f", "-t", "0", name]);
    }
    const none = spawnCli([
      "record",
      "--container",
      `no-such-${process.pid}`,
      "--runtime",
      "podman",
      "-o",
      join(dir, "n.json"),
    ]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no running container/);
  });

  it("record --cgroup of a podman container's cgroup v2 records a process `podman exec` starts, none of runc init's calls", {
    skip:
      requireOrSkip(has("podman"), "podman") ||
      requireOrSkip(
        existsSync("/sys/fs/cgroup/unified/cgroup.procs"),
        "a cgroup2 mount at /sys/fs/cgroup/unified",
      ),
  }, async () => {
    const name = `sysfence-cg-${process.pid}`;
    const started = spawnSync(
      "podman",
      [
        "run",
        "-d",
        "--name",
        name,
        ...PODMAN,
        "--rootfs",
        rootfs,
        "/bin/busybox",
        "sh",
        "-c",
        "while true; do /bin/busybox sleep 0.3; done",
      ],
      { encoding: "utf8", timeout: 60000 },
    );
    assert.equal(started.status, 0, started.stderr);
    try {
      const pid = spawnSync("podman", ["inspect", "--format", "{{.State.Pid}}", name], {
        encoding: "utf8",
      }).stdout.trim();
      const v2 = /^0::(\/.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1];
      assert.ok(v2, "the container's cgroup v2");
      const cg = `/sys/fs/cgroup/unified${v2}`;
      const out = join(dir, "cgroup.json");
      const rec = spawn(
        process.execPath,
        [CLI_PATH, "record", "--cgroup", cg, "--duration", "6", "-o", out],
        {
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let stderr = "";
      const ended = new Promise((r) => rec.on("exit", r));
      await Promise.race([
        new Promise<void>((resolve) =>
          rec.stderr.on("data", (d) => {
            stderr += d;
            if (/\(live, \d+ processes\)/.test(stderr)) resolve();
          }),
        ),
        ended,
      ]);
      assert.match(stderr, /recording cgroup .* \(live, [1-9]\d* processes\)/);
      const ex = spawnSync("podman", ["exec", name, "/bin/busybox", "mkdir", "-p", "/tmp/joined"], {
        encoding: "utf8",
        timeout: 60000,
      });
      assert.equal(ex.status, 0, ex.stderr);
      assert.equal(await ended, 0, stderr);
      const p = JSON.parse(readFileSync(out, "utf8"));
      assert.ok(
        p.syscalls.mkdir || p.syscalls.mkdirat,
        `the exec'd mkdir: ${Object.keys(p.syscalls).join(" ")}`,
      );
      assert.ok(p.syscalls.clock_nanosleep || p.syscalls.nanosleep, "the container's loop");
      for (const call of ["setgroups", "capset", "capget"])
        assert.ok(!p.syscalls[call], `${call} (runc init's) not recorded`);
      assert.ok(
        !Object.keys(p.syscalls.prctl?.args?.["0"] ?? {}).includes("38"),
        "no prctl(PR_SET_NO_NEW_PRIVS)",
      );
      assert.ok(
        p.processes.every((x: { exe: string }) => x.exe.endsWith("busybox")),
        "only the container's program",
      );
    } finally {
      spawnSync("podman", ["rm", "-f", "-t", "0", name]);
    }
  });

  /** What a recording from the hook must show: the program's calls, none of runc init's own. */
  const checkHookProfile = (file: string) => {
    const p = JSON.parse(readFileSync(file, "utf8"));
    assert.equal(p.complete, true);
    for (const call of ["mkdir", "getdents64"])
      assert.ok(p.syscalls[call], `${call} (the program's) recorded`);
    for (const call of ["setgroups", "capset", "capget"])
      assert.ok(!p.syscalls[call], `${call} (runc init's) not recorded`);
    const prctl = Object.keys(p.syscalls.prctl?.args?.["0"] ?? {});
    assert.ok(!prctl.includes("38"), "no prctl(PR_SET_NO_NEW_PRIVS): runc init's, before the exec");
    assert.ok(
      p.processes.every((x: { exe: string }) => x.exe.endsWith("busybox")),
      "only the container's program",
    );
  };
  const waitFor = async (file: string) => {
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(file), `${file} written once the container ended`);
  };
  const HOOK = (out: string) => [process.execPath, CLI_PATH, "hook", "oci", "--output-dir", out];
  /** A podman hooks.d directory whose one hook records into a fresh output directory (prestart). */
  const hooksDir = (name: string) => {
    const hooks = join(dir, `${name}-hooks.d`);
    const out = join(dir, `${name}-out`);
    mkdirSync(hooks);
    mkdirSync(out);
    const [path, ...args] = HOOK(out);
    writeFileSync(
      join(hooks, "sysfence-record.json"),
      JSON.stringify({
        version: "1.0.0",
        hook: { path, args: ["node", ...args] },
        when: { annotations: { "^io\\.sysfence\\.record$": ".+" } },
        stages: ["prestart"],
      }),
    );
    return { hooks, out };
  };
  const WORK = "/bin/busybox mkdir -p /made && /bin/busybox ls / >/dev/null";

  it("hook oci in a runc bundle records the container from its program's first call, none of runc init's", {
    skip: requireOrSkip(has("runc"), "runc"),
  }, async () => {
    const bundle = join(dir, "hooked");
    const out = join(dir, "hook-out");
    mkdirSync(bundle);
    mkdirSync(out);
    execFileSync("runc", ["spec"], { cwd: bundle });
    const c = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
    c.root = { path: rootfs, readonly: false };
    c.process.terminal = false;
    c.process.args = ["/bin/busybox", "sh", "-c", WORK];
    c.annotations = { "io.sysfence.record": "runc.json" };
    const [path, ...args] = HOOK(out);
    c.hooks = { createRuntime: [{ path, args: ["node", ...args] }] };
    writeFileSync(join(bundle, "config.json"), JSON.stringify(c, null, 2));
    const id = `sysfence-hook-${process.pid}`;
    const run = spawnSync("runc", ["run", id], { cwd: bundle, encoding: "utf8", timeout: 60000 });
    spawnSync("runc", ["delete", "-f", id]);
    assert.equal(run.status, 0, run.stderr);
    await waitFor(join(out, "runc.json"));
    checkHookProfile(join(out, "runc.json"));
  });

  it("hook oci through podman's hooks.d: the annotation's file appears, with the program's calls", {
    skip: requireOrSkip(has("podman"), "podman"),
  }, async () => {
    const { hooks, out } = hooksDir("podman");
    const run = spawnSync(
      "podman",
      [
        "run",
        "--rm",
        "--runtime",
        "runc",
        "--hooks-dir",
        hooks,
        "--annotation",
        "io.sysfence.record=podman.json",
        "--network",
        "none",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
        "--rootfs",
        rootfs,
        "/bin/busybox",
        "sh",
        "-c",
        WORK,
      ],
      { encoding: "utf8", timeout: 60000 },
    );
    assert.equal(run.status, 0, run.stderr);
    await waitFor(join(out, "podman.json"));
    checkHookProfile(join(out, "podman.json"));
  });

  it("a web server recorded by the hook under one load, generated and exported, serves another load under podman and runc with no kill", {
    skip: requireOrSkip(has("podman") && has("runc") && has("curl"), "podman, runc and curl"),
  }, async () => {
    mkdirSync(join(rootfs, "www"), { recursive: true });
    writeFileSync(join(rootfs, "www", "index.html"), "hello\n");
    writeFileSync(join(rootfs, "www", "other.html"), "other\n");
    const { hooks, out } = hooksDir("web");
    const port = 21000 + (process.pid % 10000);
    const host = ["--runtime", "runc", "--network", "host", ...PODMAN.slice(4)];
    const httpd = (p: number) => ["/bin/busybox", "httpd", "-f", "-p", `127.0.0.1:${p}`, "-h", "/www"];
    const status = (p: number, file: string, head = false) =>
      spawnSync(
        "curl",
        [
          "-s",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          ...(head ? ["-I"] : []),
          `http://127.0.0.1:${p}/${file}`,
        ],
        { encoding: "utf8" },
      ).stdout;
    const waitUp = async (p: number) => {
      for (let i = 0; i < 50 && status(p, "") !== "200"; i++) await new Promise((r) => setTimeout(r, 100));
    };
    // 1. recorded from its first call under one load: the index and a missing page
    const rec = `sysfence-web-rec-${process.pid}`;
    const r = spawnSync(
      "podman",
      [
        "run",
        "-d",
        "--name",
        rec,
        ...host,
        "--hooks-dir",
        hooks,
        "--annotation",
        "io.sysfence.record=web.json",
        "--rootfs",
        rootfs,
        ...httpd(port),
      ],
      { encoding: "utf8", timeout: 60000 },
    );
    assert.equal(r.status, 0, r.stderr);
    await waitUp(port);
    for (let i = 0; i < 3; i++) {
      assert.equal(status(port, ""), "200");
      assert.equal(status(port, "missing"), "404");
    }
    spawnSync("podman", ["rm", "-f", "-t", "1", rec]);
    await waitFor(join(out, "web.json"));
    // 2. generated and exported (runc's launcher set)
    const webPolicy = join(dir, "web.yaml");
    const g = spawnCli(["generate", join(out, "web.json"), "-o", webPolicy]);
    assert.equal(g.status, 0, g.stderr);
    const profile = join(dir, "web-oci.json");
    assert.equal(spawnCli(["export", webPolicy, "--format", "oci", "-o", profile]).status, 0);
    // 3. another load under the policy: another page, HEAD, many missing pages at once
    const load = async (p: number) => {
      await waitUp(p);
      assert.equal(status(p, "other.html"), "200");
      assert.equal(status(p, "", true), "200");
      const many = await Promise.all(
        Array.from(
          { length: 12 },
          (_, i) =>
            new Promise<string>((resolve) => {
              const c = spawn("curl", [
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                `http://127.0.0.1:${p}/x${i}`,
              ]);
              let o = "";
              c.stdout.on("data", (d) => {
                o += d;
              });
              c.once("close", () => resolve(o)); // (after its output: "exit" may come first)
            }),
        ),
      );
      assert.deepEqual(new Set(many), new Set(["404"]));
    };
    const run = `sysfence-web-run-${process.pid}`;
    const started = spawnSync(
      "podman",
      [
        "run",
        "-d",
        "--name",
        run,
        ...host,
        "--security-opt",
        `seccomp=${profile}`,
        "--rootfs",
        rootfs,
        ...httpd(port + 1),
      ],
      { encoding: "utf8", timeout: 60000 },
    );
    assert.equal(started.status, 0, started.stderr);
    try {
      await load(port + 1);
      const state = spawnSync("podman", ["inspect", run, "--format", "{{.State.Running}}"], {
        encoding: "utf8",
      }).stdout.trim();
      assert.equal(state, "true", "podman: still serving, nothing killed");
    } finally {
      spawnSync("podman", ["rm", "-f", "-t", "0", run]);
    }
    // the same under runc, the profile written into the bundle by export --into
    const bundle = join(dir, "web-bundle");
    mkdirSync(bundle);
    execFileSync("runc", ["spec"], { cwd: bundle });
    const c = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
    c.root = { path: rootfs, readonly: false };
    c.process.terminal = false;
    c.process.args = httpd(port + 2);
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== "network");
    writeFileSync(join(bundle, "config.json"), JSON.stringify(c, null, "\t"));
    assert.equal(
      spawnCli(["export", webPolicy, "--format", "oci", "--into", join(bundle, "config.json")]).status,
      0,
    );
    const id = `sysfence-web-${process.pid}`;
    const server = spawn("runc", ["run", id], { cwd: bundle, stdio: "ignore" });
    let ended: number | null | undefined;
    server.once("exit", (code) => {
      ended = code;
    });
    try {
      await load(port + 2);
      assert.equal(ended, undefined, "runc: still serving, nothing killed");
    } finally {
      spawnSync("runc", ["kill", id, "KILL"]);
      spawnSync("runc", ["delete", "-f", id]);
    }
  });
});

describe("hook oci's annotation", () => {
  it("names a file in the output directory only", () => {
    assert.equal(
      outputOf({ annotations: { "io.sysfence.record": "web.json" } }, "/var/lib/sysfence"),
      "/var/lib/sysfence/web.json",
    );
    assert.equal(outputOf({ annotations: {} }, "/d"), undefined, "not asked: nothing to do");
    for (const bad of ["../etc/passwd", "a/b.json", "..", ".hidden", "", "x\ny"])
      assert.throws(
        () => outputOf({ annotations: { "io.sysfence.record": bad } }, "/d"),
        /plain file name/,
        bad,
      );
    assert.throws(() => parseState("not json"), /not JSON/);
  });
});
