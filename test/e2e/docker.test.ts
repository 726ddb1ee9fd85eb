// Docker's own engine runs sysfence's exports: a dockerd of Debian's docker.io, started here on private
// sockets and a private data root (no registry: the image is `docker import` of a busybox rootfs), given the
// exported profiles with `docker run --security-opt seccomp=FILE`. The flags and why: docs/deploy.md#docker.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { spawnCli } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const root = process.getuid?.() === 0;
const installed = has("dockerd") && has("docker");
const dir = mkdtempSync(join(tmpdir(), "sysfence-docker-"));
const sock = join(dir, "docker.sock");
const image = `sysfence-busybox:${process.pid}`;
/** The containers' cgroup parent (absolute: under each hierarchy's root), removed at the end. */
const cgroupParent = `sysfence-docker-${process.pid}`;
/**
 * dockerd on this machine, changing nothing outside `dir`: private API socket, data root, exec root and pid
 * file, and an empty daemon.json instead of /etc/docker's (so a system dockerd and its settings are never
 * touched, and dockerd starts its own containerd under the exec root);
 * no docker0 bridge and no iptables/ip6tables rules (the host's network stays as it was; containers run with
 * --network none); vfs storage (no overlay mounts that a crash could leave behind); cgroupfs (no systemd
 * here) under a cgroup parent of this run's own.
 */
const DOCKERD = [
  "--config-file",
  join(dir, "daemon.json"),
  "--data-root",
  join(dir, "data"),
  "--exec-root",
  join(dir, "exec"),
  "--pidfile",
  join(dir, "dockerd.pid"),
  "-H",
  `unix://${sock}`,
  "--bridge=none",
  "--iptables=false",
  "--ip6tables=false",
  "--storage-driver=vfs",
  "--exec-opt",
  "native.cgroupdriver=cgroupfs",
  "--cgroup-parent",
  `/${cgroupParent}`,
];

const docker = (...args: string[]) =>
  spawnSync("docker", ["-H", `unix://${sock}`, ...args], { encoding: "utf8", timeout: 60000 });
/** `docker run --rm --network none` of the imported image with a seccomp profile (a file or "unconfined"). */
const run = (seccomp: string, extra: string[], ...cmd: string[]) =>
  docker("run", "--rm", "--network", "none", ...extra, "--security-opt", `seccomp=${seccomp}`, image, ...cmd);

let daemon: ChildProcess | undefined;
/** Why the tests cannot run (set when dockerd is missing or did not start). */
let unavailable: string | false = !root ? "needs root (dockerd)" : requireOrSkip(installed, "docker.io");

/** The last lines dockerd logged: the reason it stopped. */
const logTail = () =>
  readFileSync(join(dir, "dockerd.log"), "utf8").trimEnd().split("\n").slice(-3).join("\n");

async function startDockerd(): Promise<string | false> {
  writeFileSync(join(dir, "daemon.json"), "{}\n");
  const log = openSync(join(dir, "dockerd.log"), "w");
  const d = spawn("dockerd", DOCKERD, { stdio: ["ignore", log, log] });
  daemon = d;
  let exited = false;
  d.once("exit", () => {
    exited = true;
  });
  // dockerd answers on its socket once containerd is up and the daemon has initialised (a few seconds)
  for (let i = 0; i < 300 && !exited; i++) {
    if (existsSync(sock) && docker("version", "--format", "{{.Server.Version}}").status === 0) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return `dockerd did not start: ${logTail()}`;
}

async function stopDockerd() {
  if (!daemon || daemon.exitCode !== null || daemon.signalCode !== null) return;
  const d = daemon;
  const ended = new Promise((r) => d.once("exit", r));
  d.kill("SIGTERM"); // dockerd stops the containerd it started, then exits
  const late = setTimeout(() => d.kill("SIGKILL"), 20000);
  await ended;
  clearTimeout(late);
}

/** The cgroup directories made for this run's containers (empty once they ended). */
function removeCgroups() {
  if (!existsSync("/sys/fs/cgroup")) return;
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const d = join("/sys/fs/cgroup", h, cgroupParent);
    if (existsSync(d)) rmdirSync(d);
  }
}

describe("generated policies under Docker (dockerd of docker.io, runc)", () => {
  const rootfs = join(dir, "rootfs");
  const recording = join(dir, "recording.json");

  before(async () => {
    if (unavailable) return;
    const started = await startDockerd();
    if (started && (process.env.CI === "true" || process.env.SYSFENCE_REQUIRE_REAL === "1"))
      throw new Error(`${started}\n(docker.io is required in CI)`);
    unavailable = started;
    if (unavailable) return;
    mkdirSync(join(rootfs, "bin"), { recursive: true });
    copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
    chmodSync(join(rootfs, "bin", "busybox"), 0o755);
    const tar = join(dir, "rootfs.tar");
    assert.equal(spawnSync("tar", ["-C", rootfs, "-cf", tar, "."]).status, 0);
    const imported = docker("import", tar, image);
    assert.equal(imported.status, 0, imported.stderr);
    const r = spawnCli([
      "record",
      "-q",
      "--engine",
      "strace",
      "-o",
      recording,
      "--",
      "/bin/busybox",
      "ls",
      "/",
    ]);
    assert.equal(r.status, 0, r.stderr);
  });

  after(async () => {
    try {
      await stopDockerd();
      removeCgroups();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** generate (with extra options) and export --format oci (launcher runc): the profile's path. */
  const exported = (name: string, ...generate: string[]) => {
    const policy = join(dir, `${name}.yaml`);
    const g = spawnCli(["generate", recording, ...generate, "-o", policy]);
    assert.equal(g.status, 0, g.stderr);
    const profile = join(dir, `${name}-oci.json`);
    const e = spawnCli(["export", policy, "--format", "oci", "-o", profile]);
    assert.equal(e.status, 0, e.stderr);
    return profile;
  };

  it("runs the exported profile: the recorded use works, an unrecorded mkdir gets the policy's EPERM", (t) => {
    if (unavailable) return t.skip(unavailable);
    const profile = exported("ls");
    const p = JSON.parse(readFileSync(profile, "utf8"));
    assert.ok(
      p.syscalls.some(
        (s: { names: string[]; action: string; errnoRet?: number }) =>
          s.names.includes("mkdir") && s.action === "SCMP_ACT_ERRNO" && s.errnoRet === 1,
      ),
      "the policy answers mkdir with EPERM",
    );
    assert.ok(
      p.syscalls.some((s: { comment?: string }) => s.comment?.startsWith("launcher:")),
      "rules carry moby's comment key (runc's launcher set)",
    );
    const ls = run(profile, [], "/bin/busybox", "ls", "/");
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /bin/);
    const control = run("unconfined", [], "/bin/busybox", "mkdir", "/made");
    assert.equal(control.status, 0, `without the profile mkdir works: ${control.stderr}`);
    const denied = run(profile, [], "/bin/busybox", "mkdir", "/made");
    assert.equal(denied.status, 1, denied.stderr);
    assert.match(denied.stderr, /mkdir: can't create directory '\/made': Operation not permitted/);
  });

  it("a call the policy leaves to its default action kills the process (SIGSYS: status 128+31)", (t) => {
    if (unavailable) return t.skip(unavailable);
    const profile = exported("ls-recorded-only", "--static", "off");
    const p = JSON.parse(readFileSync(profile, "utf8"));
    assert.equal(p.defaultAction, "SCMP_ACT_KILL_PROCESS");
    assert.ok(!p.syscalls.some((s: { names: string[] }) => s.names.includes("mkdir")), "mkdir not listed");
    const ls = run(profile, [], "/bin/busybox", "ls", "/");
    assert.equal(ls.status, 0, ls.stderr);
    const killed = run(profile, [], "/bin/busybox", "mkdir", "/made");
    assert.equal(killed.status, 159, `killed by SIGSYS: ${killed.stderr}`);
  });

  it("record --container --runtime docker records a running container; its policy runs the same work under Docker", (t) => {
    if (unavailable) return t.skip(unavailable);
    const name = `sysfence-rec-${process.pid}`;
    const work = "/bin/busybox mkdir -p /tmp/d && /bin/busybox ls / >/dev/null";
    const loop = `while true; do ${work}; /bin/busybox sleep 0.2; done`;
    const started = docker(
      "run",
      "-d",
      "--name",
      name,
      "--network",
      "none",
      image,
      "/bin/busybox",
      "sh",
      "-c",
      loop,
    );
    assert.equal(started.status, 0, started.stderr);
    const out = join(dir, "container.json");
    try {
      // the default engine (bpf as root): --duration counts from its attachment (test/record/attach-window)
      const r = spawnCli(
        ["record", "--container", name, "--runtime", "docker", "--duration", "2", "-o", out],
        { env: { DOCKER_HOST: `unix://${sock}` } },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`container ${name} \\(docker\\): its init is pid \\d+`));
    } finally {
      docker("rm", "-f", name);
    }
    const p = JSON.parse(readFileSync(out, "utf8"));
    for (const call of ["getdents64", "mkdir", "wait4"]) assert.ok(p.syscalls[call], `${call} recorded`);
    // only what the recording saw (no static analysis): the same work in a new container, nothing killed
    const policy = join(dir, "container.yaml");
    const g = spawnCli(["generate", out, "--static", "off", "-o", policy]);
    assert.equal(g.status, 0, g.stderr);
    const profile = join(dir, "container-oci.json");
    const e = spawnCli(["export", policy, "--format", "oci", "-o", profile]);
    assert.equal(e.status, 0, e.stderr);
    const again = run(profile, [], "/bin/busybox", "sh", "-c", work);
    assert.equal(again.status, 0, `the recorded work under its policy: ${again.stderr}`);
  });

  it("reads a moby profile sysfence patched (archMap, includes/excludes, minKernel kept) and enforces the added call", (t) => {
    if (unavailable) return t.skip(unavailable);
    // Docker's default profile: the added entry must be read beside every moby-only key Docker resolves
    const moby = join(dir, "docker-default.json");
    writeFileSync(moby, readFileSync(`${REPO}examples/docker-default.json`, "utf8"));
    const m = JSON.parse(readFileSync(moby, "utf8"));
    assert.ok(
      m.archMap && m.syscalls.some((s: { includes?: { minKernel?: string } }) => s.includes?.minKernel),
    );
    assert.ok(m.syscalls.some((s: { excludes?: { caps?: string[] } }) => s.excludes?.caps));
    assert.ok(
      !m.syscalls.some((s: { names: string[] }) => s.names.includes("swapoff")),
      "swapoff not listed",
    );
    // the record a log-mode trial gives for swapoff (168 on x86_64), which the profile answers EPERM
    const records = join(dir, "swapoff.log");
    writeFileSync(
      records,
      'audit: type=1326 audit(1795328380.495:39): auid=0 uid=0 gid=0 ses=1 pid=100 comm="busybox" exe="/bin/busybox" sig=0 arch=c000003e syscall=168 compat=0 ip=0x1 code=0x7ffc0000\n',
    );
    const patched = join(dir, "docker-default-patched.json");
    const a = spawnCli(["audit", records, "--patch", moby, "--exe", "/bin/busybox", "-o", patched]);
    assert.equal(a.status, 1, a.stderr); // records found
    assert.match(a.stdout + a.stderr, /1 call\(s\) allowed \(swapoff\)/);
    const p = JSON.parse(readFileSync(patched, "utf8"));
    assert.deepEqual(p.archMap, m.archMap, "archMap kept");
    assert.deepEqual(p.syscalls.slice(0, -1), m.syscalls, "every entry kept, includes/excludes too");
    // CAP_SYS_ADMIN lets the kernel run swapoff (a missing file: ENOENT), so only seccomp can say EPERM
    const admin = ["--cap-add", "SYS_ADMIN"];
    const denied = run(moby, admin, "/bin/busybox", "swapoff", "/no-such-swap");
    assert.match(denied.stderr, /swapoff: \/no-such-swap: Operation not permitted/);
    const afterPatch = run(patched, admin, "/bin/busybox", "swapoff", "/no-such-swap");
    assert.match(afterPatch.stderr, /swapoff: \/no-such-swap: No such file or directory/);
  });
});
