// sysfence analyze against real Debian binaries: every call strace sees under a workload is in the
// static set (misses only of the documented classes), the set is bounded, and aarch64 programs built with
// the cross compiler agree with qemu-user's -strace.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { analyze } from "../../src/analyze/analyze.js";
import { CLI_PATH } from "../helpers/cli.js";
import { memcacheLoad, waitForPort } from "../helpers/memcache-client.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";
import { recordedSyscalls } from "../helpers/strace-names.js";

const linuxX64 = process.platform === "linux" && process.arch === "x64";
const which = (cmd: string) =>
  spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim();
const have = (cmd: string) => which(cmd) !== "";
const haveStrace = linuxX64 && have("strace");
/** Calls the kernel makes on its own or the launcher makes, never in a program's code. */
const DOCUMENTED_MISSES = new Set(["restart_syscall", "execve"]);

function assertCovers(program: string, log: string, staticSet: Set<string>) {
  const rec = recordedSyscalls(log);
  assert.ok(rec.size > 10, `${program}: only ${rec.size} calls recorded`);
  const missed = [...rec].filter((n) => !staticSet.has(n) && !DOCUMENTED_MISSES.has(n));
  assert.deepEqual(missed, [], `${program}: recorded but not in the static set`);
  return rec.size;
}

const freePort = () =>
  new Promise<number>((res) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
  });

function straced(argv: string[], log: string): ChildProcess {
  return spawn("strace", ["-f", "-qq", "-o", log, ...argv], { stdio: ["ignore", "ignore", "pipe"] });
}
const exited = (c: ChildProcess) => new Promise((res) => c.on("exit", res));
/** Stops a program traced by strace: strace -o holds fatal signals itself (strace(1), -I), so signal the program. */
function stopTraced(c: ChildProcess): void {
  let kids: string[] = [];
  try {
    kids = readFileSync(`/proc/${c.pid}/task/${c.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    // strace already gone
  }
  for (const k of kids) process.kill(Number(k), "SIGTERM");
}

describe("analyze: real programs under real workloads (x86_64)", {
  skip: linuxX64 ? requireOrSkip(haveStrace, "strace") : "needs Linux x86_64",
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-analyze-"));
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill("SIGKILL");
  });
  const staticSet = (path: string, opts = {}) => new Set(Object.keys(analyze(path, opts).syscalls));

  it("ls: every recorded call is in the static set", () => {
    const log = join(dir, "ls.log");
    spawnSync("strace", [
      "-f",
      "-qq",
      "-o",
      log,
      "ls",
      "-laR",
      "/usr/share/doc/strace",
      "/nonexistent",
      "/proc/self",
    ]);
    assertCovers("ls", log, staticSet(which("ls")));
  });

  it("curl: http and https to a closed port, a file URL", () => {
    const log = join(dir, "curl.log");
    const out = join(dir, "curl-all.log");
    let all = "";
    for (const url of ["http://127.0.0.1:9/", "https://localhost:9/", "file:///etc/hostname"]) {
      spawnSync("strace", ["-f", "-qq", "-o", log, "curl", "-s", "-o", "/dev/null", url]);
      all += readFileSync(log, "utf8");
    }
    writeFileSync(out, all);
    assertCovers("curl", out, staticSet(which("curl")));
  });

  it("memcached under a client load (set/get/incr/delete/stats): covered and ≤ 150 calls", {
    skip: requireOrSkip(have("memcached"), "memcached"),
  }, async () => {
    const port = await freePort();
    const log = join(dir, "memcached.log");
    const d = straced(
      ["memcached", "-u", "root", "-p", String(port), "-U", "0", "-t", "4", "-l", "127.0.0.1"],
      log,
    );
    children.push(d);
    await waitForPort(port, 10000);
    const load = await memcacheLoad(port, 6, 30);
    assert.deepEqual(load.failures, []);
    stopTraced(d);
    await exited(d);
    const set = staticSet(which("memcached"));
    assert.ok(set.size <= 150, `memcached: ${set.size} static calls`);
    assertCovers("memcached", log, set);
  });

  it("nginx serving files, autoindex and 404s, then a reload and a graceful stop: covered and ≤ 160 calls", {
    skip: requireOrSkip(have("nginx"), "nginx"),
  }, async () => {
    const port = await freePort();
    const prefix = join(dir, "nginx");
    mkdirSync(join(prefix, "logs"), { recursive: true });
    const conf = join(prefix, "nginx.conf");
    writeFileSync(
      conf,
      `worker_processes 2; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log; daemon off;
events { worker_connections 64; }
http { access_log ${prefix}/access.log; server { listen 127.0.0.1:${port}; root /usr/share/doc; location / { autoindex on; } } }
`,
    );
    const log = join(dir, "nginx.log");
    const d = straced(["nginx", "-p", prefix, "-c", conf], log);
    children.push(d);
    await waitForPort(port, 10000);
    const get = (path: string) =>
      spawnSync("curl", ["-s", "-o", "/dev/null", `http://127.0.0.1:${port}${path}`]);
    for (let i = 0; i < 3; i++) for (const p of ["/", "/nginx-light/copyright", "/nope", "/strace/"]) get(p);
    spawnSync("nginx", ["-p", prefix, "-c", conf, "-s", "reload"]);
    await new Promise((r) => setTimeout(r, 500));
    get("/");
    spawnSync("nginx", ["-p", prefix, "-c", conf, "-s", "quit"]);
    await exited(d);
    const set = staticSet(which("nginx"));
    assert.ok(set.size <= 160, `nginx: ${set.size} static calls`);
    assertCovers("nginx", log, set);
  });

  it("python3 with the libraries its recording saw dlopened (--profile)", () => {
    const log = join(dir, "python.log");
    const script =
      "import json, socket, ssl, hashlib, threading, subprocess, ctypes, sqlite3\nt = threading.Thread(target=print); t.start(); t.join()\nsocket.getaddrinfo('localhost', 80)\nsqlite3.connect(':memory:').execute('select 1')\nprint(hashlib.sha256(b'x').hexdigest())";
    spawnSync("strace", ["-f", "-qq", "-o", log, "/usr/bin/python3", "-c", script]);
    // the recording's opened shared objects are the dlopened modules
    const opened = [
      ...readFileSync(log, "utf8").matchAll(/openat\(AT_FDCWD, "([^"]+\.so(?:\.[0-9.]+)?)", [^)]*\) = \d+/g),
    ].map((m) => m[1]);
    assert.ok(
      opened.some((p) => p.includes("lib-dynload")),
      "python loaded extension modules",
    );
    // python runs `true` as a child: that is another program's code; leave its image out
    const set = staticSet("/usr/bin/python3", { dlopened: opened });
    const withoutChild = join(dir, "python-only.log");
    const pids = new Set<string>();
    const text = readFileSync(log, "utf8");
    for (const m of text.matchAll(/^(\d+)\s+execve\("(?!\/usr\/bin\/python3)[^"]*"/gm)) pids.add(m[1]);
    writeFileSync(
      withoutChild,
      text
        .split("\n")
        .filter((l) => !pids.has(l.split(/\s/)[0]))
        .join("\n"),
    );
    assertCovers("python3", withoutChild, set);
  });

  it("the CLI: --profile of a sysfence recording adds the modules it saw dlopened; --json has the documented shape", () => {
    const profile = join(dir, "py.json");
    const rec = spawnSync(
      process.execPath,
      [
        CLI_PATH,
        "record",
        "-q",
        "--engine",
        "strace",
        "-o",
        profile,
        "--",
        "/usr/bin/python3",
        "-c",
        "import json, _ssl, sqlite3",
      ],
      { encoding: "utf8" },
    );
    assert.equal(rec.status, 0, rec.stderr);
    const out = spawnSync(
      process.execPath,
      [CLI_PATH, "analyze", "--json", "--profile", profile, "/usr/bin/python3"],
      { encoding: "utf8" },
    );
    assert.equal(out.status, 0, out.stderr);
    const r = JSON.parse(out.stdout);
    assert.equal(r.program, "/usr/bin/python3");
    assert.equal(r.arch, "x86_64");
    assert.equal(typeof r.unresolved, "number");
    assert.ok(Array.isArray(r.syscalls.openat.via) && r.syscalls.openat.via.length > 0);
    const dl = r.libraries
      .filter((l: { dlopened?: boolean }) => l.dlopened)
      .map((l: { path: string }) => l.path);
    assert.ok(
      dl.some((p: string) => /_ssl|_sqlite3/.test(p)),
      `dlopened: ${dl.join(" ")}`,
    );
  });

  it("a program calling syscall(2) with constants: the numbers are found at its call sites", () => {
    const src = join(dir, "wrap.c");
    writeFileSync(
      src,
      "#include <unistd.h>\n#include <sys/syscall.h>\nint main(void) { syscall(SYS_getppid); syscall(SYS_membarrier, 0, 0); return (int)syscall(SYS_personality, 0xffffffff) < 0; }\n",
    );
    const bin = join(dir, "wrap");
    spawnSync("gcc", ["-O2", "-o", bin, src]);
    const r = analyze(bin, { cache: false });
    for (const n of ["getppid", "membarrier", "personality"]) assert.ok(n in r.syscalls, `${n} found`);
    assert.ok(r.syscalls.membarrier.via.includes("syscall"), "reached through the import syscall");
  });

  it("a Go binary (runc, cgo): the numbers its callers pass through syscall.Syscall are found", {
    skip: requireOrSkip(have("runc"), "runc"),
  }, () => {
    const work = mkdtempSync(join(tmpdir(), "sysfence-runc-"));
    const log = join(dir, "runc.log");
    let all = "";
    for (const args of [["spec"], ["list"], ["--root", join(work, "root"), "state", "nothing"]]) {
      spawnSync("strace", ["-f", "-qq", "-o", log, "runc", ...args], { cwd: work });
      all += readFileSync(log, "utf8");
    }
    writeFileSync(log, all);
    const r = analyze(which("runc"), { cache: false });
    const n = assertCovers("runc", log, new Set(Object.keys(r.syscalls)));
    assert.ok(n >= 30);
  });

  it("a static binary (busybox): its direct sites cover what it does", {
    skip: requireOrSkip(existsSync("/bin/busybox"), "busybox-static"),
  }, () => {
    const log = join(dir, "busybox.log");
    spawnSync("strace", [
      "-f",
      "-qq",
      "-o",
      log,
      "/bin/busybox",
      "sh",
      "-c",
      "ls -la /usr/share/doc/strace >/dev/null; cat /etc/hostname; sleep 0.01",
    ]);
    const r = analyze("/bin/busybox", { cache: false });
    assert.equal(r.libraries.length, 1, "no libraries");
    assertCovers("busybox", log, new Set(Object.keys(r.syscalls)));
  });
});

describe("analyze: an aarch64 program against qemu-user's -strace", {
  skip:
    process.platform !== "linux"
      ? "needs Linux"
      : requireOrSkip(
          have("aarch64-linux-gnu-gcc") &&
            have("qemu-aarch64") &&
            existsSync("/usr/aarch64-linux-gnu/lib/libc.so.6"),
          "gcc-aarch64-linux-gnu, qemu-user and libc6-arm64-cross",
        ),
}, () => {
  it("every call qemu logs is in the static set (--arch aarch64 --sysroot)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-arm-"));
    const bin = join(dir, "probe");
    const build = spawnSync(
      "aarch64-linux-gnu-gcc",
      ["-O2", "-pthread", "-o", bin, `${REPO}test/fixtures/arm-probe.c`],
      {
        encoding: "utf8",
      },
    );
    assert.equal(build.status, 0, build.stderr);
    const log = join(dir, "qemu.log");
    const run = spawnSync(
      "qemu-aarch64",
      ["-L", "/usr/aarch64-linux-gnu", "-strace", "-D", log, bin, "/etc/hostname"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(run.status, 0, run.stderr);
    const r = analyze(bin, { arch: "aarch64", sysroot: "/usr/aarch64-linux-gnu", cache: false });
    assert.equal(r.arch, "aarch64");
    assert.ok(
      r.libraries.some((l) => l.path === "/lib/libc.so.6"),
      "libc found inside the sysroot",
    );
    const n = assertCovers("aarch64 probe", log, new Set(Object.keys(r.syscalls)));
    assert.ok(n >= 20);
  });
});

describe("analyze: a recording's paths for a dlopened library include the loader's search", {
  skip: linuxX64
    ? requireOrSkip(existsSync("/lib/x86_64-linux-gnu/libc.so.6"), "Debian's libc path")
    : "needs Linux x86_64",
}, () => {
  it("one note for a library not installed, whatever number of directories were probed; none for one found elsewhere", () => {
    // nsd's recording: glibc looked for libnss_db.so.2 (nsswitch.conf: 'protocols: db files') in 36
    // directories, and generate printed 36 notes
    const probes = ["tls/x86_64/", "x86_64/", "glibc-hwcaps/x86-64-v3/", ""].flatMap((sub) => [
      `/lib/x86_64-linux-gnu/${sub}libnss_nosuch.so.2`,
      `/usr/lib/${sub}libnss_nosuch.so.2`,
    ]);
    const notes: string[] = [];
    analyze("/usr/bin/true", {
      dlopened: [...probes, "/lib/x86_64-linux-gnu/tls/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"],
      onNote: (n) => notes.push(n),
    });
    const missing = notes.filter((n) => /recorded library/.test(n));
    assert.equal(missing.length, 1, missing.join("\n"));
    assert.match(
      missing[0],
      /libnss_nosuch\.so\.2 \(8 paths the recording looked for it at, e\.g\. \/lib\/x86_64-linux-gnu\/tls\/x86_64\/libnss_nosuch\.so\.2\) was not found/,
    );
  });
});
