// The bpf engine's path program (src/record/engines/bpf/path-programs.ts): its syscall table and events
// (pure), then against the kernel and strace: the same fixtures recorded by both engines have the same
// pathAccess (every difference a rule named here), a directory too deep to walk is counted as lost, and a
// policy generated from a bpf recording has a Landlock file layer under which a program runs — and another
// use of it (git, a program no test ran before) too, its writes outside its directories denied.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BPF_PROG_TYPE_RAW_TRACEPOINT } from "../../src/abi/ebpf.js";
import { vmlinuxBtf } from "../../src/ebpf/btf.js";
import { EBPF_LICENSE, loadProgram } from "../../src/ebpf/load.js";
import { ebpfSys } from "../../src/ebpf/sys.js";
import { ProfileBuilder } from "../../src/record/builder.js";
import { EbpfTracer } from "../../src/record/engines/bpf/bpf.js";
import { KernelRecorder } from "../../src/record/engines/bpf/kernel.js";
import { layoutFromBtf } from "../../src/record/engines/bpf/kernel-layout.js";
import { eventPath, pathEvent } from "../../src/record/engines/bpf/path-events.js";
import {
  COUNTED,
  DIR,
  PATH_EVENT,
  PATH_HEADER,
  pathLayout,
  USE,
  USE_KIND,
} from "../../src/record/engines/bpf/path-programs.js";
import { loadPathProgram, usesTable } from "../../src/record/engines/bpf/path-setup.js";
import type { MapFds } from "../../src/record/engines/bpf/program-parts.js";
import { sysExit } from "../../src/record/engines/bpf/programs.js";
import { traceLaunch } from "../../src/record/launched.js";
import { Access } from "../../src/record/path-access.js";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH, recordPidLive } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  requireOrSkip(process.getuid?.() === 0, "root") ||
  requireOrSkip(existsSync("/sys/kernel/btf/vmlinux"), "the kernel's BTF") ||
  requireOrSkip(spawnSync("strace", ["-V"]).status === 0, "strace");

/** A PATH_EVENT record: the path bytes, then the names leaf first. */
function record(o: {
  kind?: number;
  dir?: number;
  names?: string[];
  bytes: Buffer;
  access?: number;
}): Buffer {
  const names = Buffer.from((o.names ?? []).map((n) => `${n}\0`).join(""));
  const r = Buffer.alloc(PATH_HEADER + o.bytes.length + names.length);
  r.writeUInt32LE(PATH_EVENT, 0);
  r.writeUInt32LE(42, 4);
  r[24] = o.access ?? Access.read;
  r[25] = o.kind ?? USE_KIND.string;
  r[26] = o.dir ?? (o.names ? DIR.walked : DIR.none);
  r.writeUInt32LE(o.bytes.length, 28);
  o.bytes.copy(r, PATH_HEADER);
  names.copy(r, PATH_HEADER + o.bytes.length);
  return r;
}
const str = (s: string) => Buffer.from(`${s}\0`);

describe("bpf path program: its table and events (pure)", () => {
  it("has each PATH_USES call's registers: rename's two paths, an *at call's directory fd, connect's address and length", () => {
    const regs = [112, 104, 96, 56, 72, 64]; // x86_64 pt_regs: di, si, dx, r10, r8, r9
    const t = usesTable("x86_64", regs);
    const use = (nr: number, k: number) => t.subarray((nr * 2 + k) * USE.size, (nr * 2 + k + 1) * USE.size);
    const rename = 82;
    assert.deepEqual([use(rename, 0)[USE.arg], use(rename, 1)[USE.arg]], [113, 105], "rename: di, si");
    assert.equal(use(rename, 0)[USE.access], Access.create);
    const renameat2 = 316;
    assert.deepEqual([use(renameat2, 0)[USE.dirfd], use(renameat2, 1)[USE.dirfd]], [113, 97]);
    const openat = 257;
    assert.equal(use(openat, 0)[USE.flags], 97, "openat's flags: dx");
    assert.equal(use(openat, 0)[USE.access], 0, "the access comes from the flags");
    const connect = 42;
    assert.equal(use(connect, 0)[USE.kind], USE_KIND.sockaddr);
    assert.equal(use(connect, 0)[USE.len], 97, "its address length: dx");
    assert.equal(use(59, 0)[USE.kind], USE_KIND.exec, "execve");
    assert.equal(use(437, 0)[USE.kind], USE_KIND.how, "openat2");
    assert.equal(use(39, 0)[USE.arg], 0, "getpid: no path");
  });

  it("makes a relative path absolute from the names walked (leaf first)", () => {
    const e = pathEvent(record({ names: ["src", "project", "home"], bytes: str("../x/./y") }));
    assert.equal(e?.base, "/home/project/src");
    assert.equal(eventPath(e!), "/home/project/x/y");
    const root = pathEvent(record({ dir: DIR.walked, bytes: str("etc/passwd") }));
    assert.equal(eventPath(root!), "/etc/passwd", "no names: the root");
    const abs = pathEvent(record({ bytes: str("/usr//lib/../bin") }));
    assert.equal(eventPath(abs!), "/usr/bin");
    const deep = pathEvent(record({ dir: DIR.deep, bytes: str("x") }));
    assert.deepEqual(eventPath(deep!), { relative: "x" }, "too deep: no directory");
    assert.equal(eventPath(pathEvent(record({ bytes: str("") }))!), undefined, "an empty path names nothing");
    const chdir = (result: number) => {
      const r = record({ kind: USE_KIND.chdir, names: ["sub", "d"], bytes: str("sub") });
      r.writeInt32LE(result, 12);
      return eventPath(pathEvent(r)!);
    };
    assert.equal(
      chdir(0),
      "/d/sub",
      "a chdir that succeeded: the directory walked at its return is the new one",
    );
    assert.equal(chdir(-2), "/d/sub/sub", "one that failed: the directory is still the old one");
    const counted = Buffer.concat([record({ bytes: str("/etc/hosts") }), Buffer.alloc(8)]);
    counted[COUNTED] = 1;
    counted.writeBigUInt64LE(0xfedcba9876543210n, counted.length - 8);
    const c = pathEvent(counted);
    assert.deepEqual(
      [c?.hash, eventPath(c!)],
      [0xfedcba9876543210n, "/etc/hosts"],
      "a counted use: its hash",
    );
  });

  it("names a successful chroot's new root as walked, and puts a process's root in front of its absolute paths", () => {
    const chroot = (result: number, bytes: string, names?: string[]) => {
      const r = record({ kind: USE_KIND.chroot, names, bytes: str(bytes) });
      r.writeInt32LE(result, 12);
      return pathEvent(r)!;
    };
    assert.equal(eventPath(chroot(0, ".", ["inner", "jail", "srv"])), "/srv/jail/inner", 'chroot(".")');
    assert.equal(eventPath(chroot(0, "/inner", ["inner", "jail", "srv"]), "/srv/jail"), "/srv/jail/inner");
    assert.equal(
      eventPath(chroot(-2, "/nowhere"), "/srv/jail"),
      "/srv/jail/nowhere",
      "failed: under the old root",
    );
    const jail = "/srv/jail";
    assert.equal(eventPath(pathEvent(record({ bytes: str("/etc/passwd") }))!, jail), "/srv/jail/etc/passwd");
    assert.equal(eventPath(pathEvent(record({ bytes: str("/../etc/x") }))!, jail), "/srv/jail/etc/x");
    const rel = pathEvent(record({ names: ["jail", "srv"], bytes: str("../../x") }))!;
    assert.equal(eventPath(rel, jail), "/srv/jail/x", "`..` stops at the root");
    assert.equal(eventPath(rel), "/x");
    const un = Buffer.concat([Buffer.from([1, 0]), str("/run/s")]);
    assert.equal(
      eventPath(pathEvent(record({ kind: USE_KIND.sockaddr, bytes: un }))!, jail),
      "unix:/srv/jail/run/s",
    );
  });

  it("reads socket addresses as strace's engine writes them", () => {
    const un = (path: Buffer) => Buffer.concat([Buffer.from([1, 0]), path]);
    const sock = (b: Buffer, names?: string[]) =>
      eventPath(pathEvent(record({ kind: USE_KIND.sockaddr, bytes: b, names }))!);
    assert.equal(sock(un(str("/run/x.sock"))), "unix:/run/x.sock");
    assert.equal(sock(un(str("x.sock")), ["tmp"]), "unix:/tmp/x.sock");
    assert.equal(sock(un(Buffer.from("\0name\0\0\0"))), "unix:@name");
    const in4 = Buffer.from([2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(sock(in4), "inet:127.0.0.1:8080");
    const in6 = Buffer.alloc(28);
    in6.writeUInt16LE(10, 0);
    in6.writeUInt16BE(443, 2);
    in6[23] = 1;
    assert.equal(sock(in6), "inet6:[::1]:443");
    assert.equal(sock(Buffer.from([16, 0, 0, 0])), undefined, "netlink: not a path");
  });
});

describe("bpf path program against the kernel", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-bpf-paths-"));

  it("finds the struct members it walks in the running kernel's BTF", () => {
    const at = (s: string, p: string) => vmlinuxBtf().memberOffset(s, p).byteOffset;
    const l = pathLayout(at, [0], layoutFromBtf("x86_64").syscallNr);
    assert.equal(l.fsPwdDentry - l.fsPwdMnt, at("path", "dentry") - at("path", "mnt"));
    assert.equal(l.mountMnt, at("mount", "mnt"), "struct mount embeds its vfsmount");
    assert.deepEqual(
      layoutFromBtf("x86_64").paths,
      pathLayout(at, layoutFromBtf("x86_64").args, l.syscallNr),
    );
  });

  it("loads as a raw tracepoint too (a kernel that refuses tp_btf), and says why when the kernel refuses it", async () => {
    const rec = new KernelRecorder({ phase: { kind: "none" }, mapKeys: 64 });
    await rec.attach(); // (every map made: sys_exit reads the count maps)
    const fds = (rec as unknown as { fds: MapFds }).fds;
    const layout = layoutFromBtf("x86_64");
    const raw = (code: Buffer, name: string) =>
      loadProgram({ type: BPF_PROG_TYPE_RAW_TRACEPOINT, code, license: EBPF_LICENSE, name });
    const p = loadPathProgram(fds, layout.paths, "x86_64", raw);
    try {
      assert.equal(p.refused, undefined);
      assert.ok(p.progs !== undefined && p.prog !== undefined);
      // sys_exit with the tail call into it loads as well
      ebpfSys().close(raw(sysExit(fds, layout, false, p.progs), "sf_t_exit"));
      const refused = loadPathProgram(fds, layout.paths, "x86_64", () => {
        throw new Error("the verifier said no");
      });
      assert.deepEqual([refused.progs, refused.refused], [undefined, "the verifier said no"]);
    } finally {
      for (const m of p.maps) m.close();
      if (p.prog !== undefined) ebpfSys().close(p.prog);
      rec.close();
    }
  });

  /** Records argv in cwd with an engine: its profile. */
  function recordWith(engine: string, name: string, cwd: string, argv: string[]): Profile {
    const out = join(dir, `${name}.${engine}.json`);
    const r = spawnSync(
      process.execPath,
      [CLI_PATH, "record", "-q", "--engine", engine, "-o", out, "--", ...argv],
      {
        cwd,
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(readFileSync(out, "utf8")) as Profile;
  }

  /** A fixture built and run in a fresh directory per engine: both profiles. */
  function both(fixture: string, args: (work: string) => string[]): Profile[] {
    const bin = join(dir, fixture);
    execFileSync("gcc", ["-O2", "-o", bin, `${REPO}test/fixtures/${fixture}.c`]);
    return ["bpf", "strace"].map((engine) => {
      // the same directory for both (the paths compared are the same), emptied between the runs
      const work = join(dir, `${fixture}-work`);
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work);
      copyFileSync("/bin/true", join(work, "true"));
      return recordWith(engine, fixture, work, [bin, ...args(work)]);
    });
  }

  /** The paths whose letters differ: "path bpf=… strace=…". */
  function differences(bpf: Profile, strace: Profile): string[] {
    const a = bpf.pathAccess ?? {};
    const b = strace.pathAccess ?? {};
    return [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .filter((p) => a[p] !== b[p])
      .map((p) => `${p} bpf=${a[p]} strace=${b[p]}`);
  }

  it("path-uses.c: the same pathAccess as strace's (relative, dirfd, chdir, fchdir, mkdir, rename, link, symlink, unlink)", () => {
    const [bpf, strace] = both("path-uses", () => []);
    assert.equal(bpf.engine.wholePaths, true, bpf.engine.lost);
    assert.equal(bpf.engine.lostEvents, undefined, bpf.engine.lost);
    assert.deepEqual(differences(bpf, strace), []);
    const work = join(dir, "path-uses-work");
    assert.equal(bpf.pathAccess?.[`${work}/d/sub/inner`], "cmrw");
    assert.equal(bpf.pathAccess?.[`${work}/d/renamed`], "cmrw");
  });

  it("bpf-paths.c: the same, across mounts, with sockets, openat2, failed calls and relative execs", () => {
    const shm = mkdtempSync("/dev/shm/sysfence-bpf-paths-");
    try {
      const [bpf, strace] = both("bpf-paths", () => [shm]);
      const work = join(dir, "bpf-paths-work");
      assert.equal(bpf.engine.lostEvents, undefined, bpf.engine.lost);
      // the one rule: a directory fd that is not open names nothing for bpf; strace keeps the name as written
      assert.deepEqual(differences(bpf, strace), ["nofd bpf=undefined strace=r"]);
      const a = bpf.pathAccess ?? {};
      assert.equal(a[`${shm}/m/f`], "crw", "created through a relative path in another mount, then openat2");
      assert.equal(a[`${shm}/m/g`], "cw", "created by openat2");
      assert.equal(a[`unix:${work}/sock`], "cr", "bound and connected by a relative name");
      assert.equal(a["inet:127.0.0.1:0"], "c");
      assert.equal(a[`${work}/absent`], "r", "a failed open: looked for");
      assert.equal(a[`${work}/absent-prog`], "x", "a failed relative exec");
      assert.equal(a[`${work}/true`], "x", "a relative exec");
      assert.equal(a[`${work}/d/c`], "c", "linkat's new name");
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });

  it("path-results.c: O_PATH opens are lookups, and so are creates that failed with EEXIST (both engines)", () => {
    const existing = join(dir, "existing");
    rmSync(existing, { recursive: true, force: true });
    mkdirSync(join(existing, "sub"), { recursive: true });
    writeFileSync(join(existing, "file"), "");
    execFileSync("mkfifo", [join(existing, "fifo")]);
    const [bpf, strace] = both("path-results", () => [existing]);
    assert.equal(bpf.engine.lostEvents, undefined, bpf.engine.lost);
    assert.deepEqual(differences(bpf, strace), []);
    const under = (p: Profile) =>
      Object.entries(p.pathAccess ?? {}).filter(([k]) => k === existing || k.startsWith(`${existing}/`));
    const want = ["", "/fifo", "/file", "/sub"].map((s) => [`${existing}${s}`, "m"]);
    for (const p of [bpf, strace]) assert.deepEqual(under(p).sort(), want, p.engine.name);
  });

  it("excl-retry.c: a create that found its name (EEXIST), then the same create succeeding: both kept (both engines)", () => {
    const [bpf, strace] = both("excl-retry", (work) => {
      mkdirSync(join(work, "real"));
      symlinkSync("real", join(work, "alias"));
      writeFileSync(join(work, "real", "lock"), "");
      return [join(work, "real", "lock"), join(work, "alias", "lock")];
    });
    const lock = join(dir, "excl-retry-work", "real", "lock");
    // bpf counted the second use under the first's hash (same path, flags and call): a lookup alone
    for (const p of [bpf, strace]) assert.equal(p.pathAccess?.[lock], "cmw", p.engine.name);
  });

  it("chroot-open.c: after a chroot, both engines name paths as sysfence sees them (the root in front)", () => {
    const root = join(dir, "chroot-root");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "inside"), "");
    const [bpf, strace] = both("chroot-open", () => [root]);
    assert.equal(bpf.engine.lostEvents, undefined, bpf.engine.lost);
    for (const p of [bpf, strace]) {
      const s = p.pathAccess ?? {};
      assert.deepEqual(
        [s[root], s[`${root}/inside`], s[`${root}/child`], s["/inside"], s["/"]],
        ["mr", "r", "r", undefined, undefined],
        `${p.engine.name}: the root a chroot gave the process (and its child) is in front of its paths`,
      );
    }
    // (bpf's paths were the process's own view — "/inside", "/" — before its events said which call was a
    // chroot and its walk went past the task's root)
    assert.deepEqual(differences(bpf, strace), []);
  });

  it("chroot-nest.c: a relative chroot, a chroot inside a chroot by fchdir and chroot(.), forks and an exec after them, the same absolute path under three roots: the same pathAccess as strace's", () => {
    const bin = join(dir, "chroot-nest");
    execFileSync("gcc", ["-O2", "-static", "-o", bin, `${REPO}test/fixtures/chroot-nest.c`]);
    const work = join(dir, "chroot-nest-work");
    const jail = join(work, "jail");
    const [bpf, strace] = ["bpf", "strace"].map((engine) => {
      rmSync(work, { recursive: true, force: true });
      mkdirSync(join(jail, "inner"), { recursive: true });
      writeFileSync(join(jail, "inside"), "");
      writeFileSync(join(jail, "inner", "inside"), "");
      copyFileSync(bin, join(jail, "prog"));
      return recordWith(engine, "chroot-nest", work, [bin, "jail"]);
    });
    assert.equal(bpf.engine.lostEvents, undefined, bpf.engine.lost);
    // the one rule: a `..` above the root in a path relative to a directory fd strace named (-y: AT_FDCWD's
    // too) is resolved by strace's engine against that name, lexically, not stopping at the root as the
    // kernel does ("../../inside" from the root opened jail/inside)
    assert.deepEqual(differences(bpf, strace), [`${dir}/inside bpf=undefined strace=r`]);
    for (const p of [bpf, strace]) {
      const a = p.pathAccess ?? {};
      const has = (path: string) => a[path];
      assert.deepEqual(
        [
          has("/inside"), // before the chroot: the host's (absent)
          has(`${work}/out`), // relative to the directory kept outside the root
          has(`${jail}/inside`), // "/inside" and "../../inside" in the first root
          has(`${jail}/inner/inside`), // "/inside" in the second
          has(`${jail}/inner/child`), // the forked child's root is its parent's
          has(`${jail}/inner/prog`), // "/../prog", "/prog", "../prog": all in the inner root
          has(`${jail}/prog`), // exec'd after chroot(".") back to the first root
          has(`${jail}/after-exec`), // the exec'd program's: its root kept across the exec
        ],
        ["r", "r", "r", "r", "r", "x", "x", "r"],
        p.engine.name,
      );
      for (const outside of ["/child", "/after-exec", "/prog", `${work}/inside`, `${jail}/inner/inner`])
        assert.equal(a[outside], undefined, `${p.engine.name}: ${outside}`);
    }
    const exes = (p: Profile) => [...new Set(p.processes.map((x) => x.exe))].sort();
    assert.deepEqual(exes(bpf), exes(strace), "the exec'd program is named under its root");
  });

  it("record --pid of a process chroot'ed before the attach: its root is read from /proc, its paths put under it", async () => {
    const jail = join(dir, "pid-jail");
    mkdirSync(jail, { recursive: true });
    writeFileSync(join(jail, "inside"), "");
    const script =
      "import os,sys; os.chroot(sys.argv[1]); os.chdir('/'); print('ready', flush=True); sys.stdin.readline(); open('/inside'); open('inside')";
    const prog = spawn("python3", ["-c", script, jail], { stdio: ["pipe", "pipe", "inherit"] });
    await new Promise((r) => prog.stdout?.once("data", r));
    const out = join(dir, "pid-jail.json");
    const rec = recordPidLive(prog.pid as number, out);
    await rec.liveOrEnded;
    prog.stdin?.end("go\n");
    assert.equal(await rec.ended, 0, rec.stderr());
    const a = (JSON.parse(readFileSync(out, "utf8")) as Profile).pathAccess ?? {};
    assert.deepEqual([a[`${jail}/inside`], a["/inside"]], ["r", undefined]);
  });

  it("rsync's daemon (use chroot = yes) serving a module: the same pathAccess as strace's, its files under the module's path", (t) => {
    if (spawnSync("rsync", ["--version"]).status !== 0) return t.skip("no rsync");
    const rs = join(dir, "rsync");
    const mod = join(rs, "mod");
    mkdirSync(join(mod, "sub"), { recursive: true });
    writeFileSync(join(mod, "a.txt"), "a");
    writeFileSync(join(mod, "sub", "b.txt"), "b");
    const conf = join(rs, "rsyncd.conf");
    writeFileSync(
      conf,
      `use chroot = yes\nlog file = /dev/null\n[mod]\npath = ${mod}\nread only = yes\nuid = root\ngid = root\n`,
    );
    // the daemon over a remote shell (rsync host::mod): this "shell" records it
    const rsh = join(rs, "rsh.sh");
    const record = `exec "${process.execPath}" "${CLI_PATH}" record -q --engine "$ENG" -o "${rs}/$ENG.json"`;
    writeFileSync(rsh, `#!/bin/sh\n${record} -- rsync --server --daemon --config="${conf}" .\n`, {
      mode: 0o755,
    });
    const [bpf, strace] = ["bpf", "strace"].map((engine) => {
      const dst = join(rs, `dst-${engine}`);
      const r = spawnSync("rsync", ["-a", "-e", rsh, "localhost::mod/", `${dst}/`], {
        encoding: "utf8",
        env: { ...process.env, ENG: engine },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(join(dst, "sub", "b.txt"), "utf8"), "b");
      return JSON.parse(readFileSync(join(rs, `${engine}.json`), "utf8")) as Profile;
    });
    assert.equal(bpf.engine.lostEvents, undefined, bpf.engine.lost);
    assert.deepEqual(differences(bpf, strace), []);
    const a = bpf.pathAccess ?? {};
    assert.deepEqual(
      [a[mod], a[`${mod}/a.txt`], a[`${mod}/sub/b.txt`], a["/a.txt"]],
      ["mr", "mr", "mr", undefined],
    );
  });

  it("repeat-open.c: 10,000 opens of one absolute file are counted in the kernel, not sent", async () => {
    const bin = join(dir, "repeat-open");
    execFileSync("gcc", ["-O2", "-o", bin, `${REPO}test/fixtures/repeat-open.c`]);
    const [often, once] = [join(dir, "often"), join(dir, "once")];
    writeFileSync(often, "");
    const argv = [bin, often, once];
    const builder = new ProfileBuilder(argv, { kind: "none" });
    const tracer = new EbpfTracer(builder, { kind: "none" }, bin);
    const { profile, status } = await traceLaunch(argv, {}, builder, tracer);
    assert.equal(status, 0);
    assert.equal(profile.engine.lostEvents, undefined, profile.engine.lost);
    assert.deepEqual([profile.pathAccess?.[often], profile.pathAccess?.[once]], ["r", "cw"]);
    assert.deepEqual([profile.paths[often], profile.paths[once]], [10000, 1]);
    // the first open is an event, the other 9,999 a count (a few more events: another CPU's first)
    assert.ok(tracer.repeatedPaths >= 9990, `${tracer.repeatedPaths} repeats counted`);
    assert.ok(tracer.pathEvents < 1000, `${tracer.pathEvents} path events`);
  });

  it("a directory too deep to walk leaves its relative paths out, counted as lost and said", () => {
    let deep = join(dir, "deep");
    for (let i = 0; i < 140; i++) deep = join(deep, "d");
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, "x"), "");
    const p = recordWith("bpf", "deep", deep, ["/bin/cat", "x"]);
    assert.equal(p.engine.lostEvents, 1, p.engine.lost);
    assert.match(
      p.engine.lost ?? "",
      /1 relative path\(s\) whose directory it could not name \(more than 128/,
    );
    assert.equal(p.pathAccess?.[join(deep, "x")], undefined);
  });
});
