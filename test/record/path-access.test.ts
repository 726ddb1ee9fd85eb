// How a recording says each path was used (profile.pathAccess) and makes relative paths absolute: the
// access letters of each kind of call, an *at call's directory fd as strace -y prints it, the current
// directory followed through chdir/fchdir, forks and execs; a live recording of test/fixtures/path-uses.c
// and imported logs with and without the directory known.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { interpreterOfFile } from "../../src/analyze/elf.js";
import { mergeProfiles } from "../../src/generate/merge.js";
import { recordAttached } from "../../src/record/attach.js";
import { fdPath } from "../../src/record/engines/strace/decode.js";
import { nthArg } from "../../src/record/engines/strace/parse.js";
import { profileFromLog } from "../../src/record/engines/strace/strace.js";
import { markInterpreters } from "../../src/record/interpreters.js";
import { Access, accessLetters, openAccess, resolvePath } from "../../src/record/path-access.js";
import type { Profile } from "../../src/record/profile.js";
import { parseProfile } from "../../src/record/read-profile.js";
import { CLI_PATH } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-path-access-"));

describe("path access, the pieces", () => {
  it("open flags as -X raw numbers, symbols and openat2's struct", () => {
    const l = (t: string) => accessLetters(openAccess(t));
    assert.equal(l("0x80000"), "r");
    assert.equal(l("0"), "r");
    assert.equal(l("0x241"), "cw"); // O_WRONLY|O_CREAT|O_TRUNC
    assert.equal(l("0x2"), "rw");
    assert.equal(l("O_RDONLY|O_CLOEXEC"), "r");
    assert.equal(l("O_RDWR|O_CREAT|O_CLOEXEC"), "crw");
    assert.equal(l("O_RDONLY|O_TRUNC"), "rw");
    assert.equal(l("{flags=O_WRONLY|O_CLOEXEC, mode=0, resolve=0}"), "w");
    assert.equal(l("{flags=0x42, mode=0644, resolve=0}"), "crw");
    assert.equal(accessLetters(Access.exec | Access.read | Access.create | Access.relative), "crx");
    // O_PATH: a lookup whatever else is set (the kernel ignores the rest; Landlock checks nothing)
    assert.equal(l("O_RDONLY|O_PATH|O_DIRECTORY"), "m");
    assert.equal(l("O_PATH|O_CLOEXEC"), "m");
    assert.equal(l("0x210000"), "m"); // O_PATH|O_DIRECTORY as -X raw
    assert.equal(l("O_WRONLY|O_CREAT|O_PATH"), "m");
    assert.equal(l("{flags=O_PATH|O_CLOEXEC, mode=0, resolve=0}"), "m");
  });
  it("resolves . and .. lexically, never above the root", () => {
    assert.equal(resolvePath("/a/b", "c"), "/a/b/c");
    assert.equal(resolvePath("/a/b", "../c/./d/"), "/a/c/d");
    assert.equal(resolvePath("/", "../../x"), "/x");
    assert.equal(resolvePath("/a", "."), "/a");
    assert.equal(resolvePath("/a", "/etc//x/../y"), "/etc/y");
  });
  it("-y's fd paths: escapes undone, commas and parentheses in them do not split arguments", () => {
    assert.equal(fdPath("3</tmp/d>"), "/tmp/d");
    assert.equal(fdPath('-100</tmp/a,b\\"c(d\\76e>'), '/tmp/a,b"c(d>e');
    assert.equal(fdPath("4<socket:[81]>"), undefined);
    assert.equal(fdPath("3"), undefined);
    const args = '-100</tmp/a,b\\"c(d\\76e>, "x", 0x80000';
    assert.equal(nthArg(args, 1), '"x"');
    assert.equal(nthArg(args, 2), "0x80000");
  });
});

/** A profile from log lines (threads: scanner threads; small slices cut the log everywhere). */
async function fromLog(name: string, lines: string[], threads = 1, unfolded = false): Promise<Profile> {
  const f = join(dir, name);
  writeFileSync(f, `${lines.join("\n")}\n`);
  const { profile } = await profileFromLog(f, { threads, parallelFrom: 0, sliceBytes: 97, unfolded });
  return profile;
}

describe("imported logs", () => {
  const plain = [
    '10 execve("./app", ["./app"], 0x7ffd /* 5 vars */) = 0',
    '10 openat(AT_FDCWD, "conf/app.conf", O_RDONLY|O_CLOEXEC) = 3',
    '10 openat(AT_FDCWD, "/var/log/app.log", O_WRONLY|O_CREAT|O_APPEND, 0644) = 4',
    '10 mkdir("cache", 0755) = 0',
    '10 rename("cache/a.tmp", "cache/a") = 0',
    '10 openat(5, "x", O_RDONLY) = 6',
    '10 newfstatat(AT_FDCWD, "/etc/passwd", {st_mode=S_IFREG|0644, st_size=1}, 0) = 0',
    '10 connect(7, {sa_family=AF_UNIX, sun_path="run/s.sock"}, 110) = 0',
    '10 unlink("/tmp/gone") = -1 ENOENT (No such file or directory)',
    '10 mkdir("/root", 0700) = -1 EEXIST (File exists)',
    '10 openat(AT_FDCWD, "/etc", O_RDONLY|O_PATH|O_DIRECTORY) = 8',
    // openat2's struct as a pointer (-X raw): an address with O_PATH's bit set is no lookup, nor a write
    '10 openat2(AT_FDCWD, "/srv/data", 0x7ffcd3296030, 24) = 9',
    "10 exit_group(0) = ?",
    "10 +++ exited with 0 +++",
  ];
  it("without the current directory, relative paths are kept as written, with their access", async () => {
    const p = await fromLog("plain.log", plain);
    assert.deepEqual(p.pathAccess, {
      "./app": "x",
      "conf/app.conf": "r",
      "/var/log/app.log": "cw",
      cache: "c",
      "cache/a.tmp": "c",
      "cache/a": "c",
      x: "r",
      "/etc/passwd": "m", // stat: metadata only
      "unix:run/s.sock": "r",
      "/tmp/gone": "c",
      "/root": "m", // a mkdir that failed with EEXIST created nothing: a lookup
      "/etc": "m", // O_PATH: a lookup
      "/srv/data": "r", // openat2 whose flags strace did not show: read
    });
    assert.deepEqual(Object.keys(p.paths).sort(), Object.keys(p.pathAccess ?? {}).sort());
  });
  const known = [
    // -y: AT_FDCWD and directory fds carry their paths
    '20 openat(-100</srv/app>, "conf/app.conf", O_RDONLY) = 3</srv/app/conf/app.conf>',
    '20 openat(-100</srv/app>, "data", O_RDONLY|O_DIRECTORY) = 4</srv/app/data>',
    '20 mkdirat(4</srv/app/data>, "new", 0755) = 0',
    '20 unlinkat(4</srv/app/data>, "../old", 0) = 0',
    '20 renameat2(4</srv/app/data>, "a", -100</srv/app>, "b", RENAME_NOREPLACE) = 0',
    '20 linkat(4</srv/app/data>, "b", 4</srv/app/data>, "c", 0) = 0',
    '20 symlinkat("target", 4</srv/app/data>, "s") = 0',
    // calls without a directory fd: relative to the current directory, known once chdir says it
    '20 mkdir("before", 0755) = 0',
    '20 chdir("/srv/app") = 0',
    '20 mkdir("logs", 0755) = 0',
    '20 chdir("logs/../data") = 0',
    '20 creat("c.txt", 0644) = 5</srv/app/data/c.txt>',
    '20 chdir("nowhere") = -1 ENOENT (No such file or directory)',
    '20 truncate("c.txt", 0) = 0',
    "20 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 21",
    '21 chdir("/") = 0',
    "21 fchdir(4</srv/app/data>) = 0",
    '21 chdir("new") = 0',
    '21 bind(3<socket:[9]>, {sa_family=AF_UNIX, sun_path="s.sock"}, 110) = 0',
    '21 execve("../../bin/tool", ["tool"], 0x7ffd /* 5 vars */) = 0',
    '21 access("here", R_OK) = 0',
    "21 exit_group(0) = ?",
    "21 +++ exited with 0 +++",
    '20 utimensat(AT_FDCWD, "c.txt", NULL, 0) = 0',
    "20 exit_group(0) = ?",
    "20 +++ exited with 0 +++",
  ];
  const want = {
    "/srv/app/conf/app.conf": "r",
    "/srv/app/data": "mr", // opened as a directory; chdir into it (fchdir's fd)
    "/srv/app/data/new": "cm",
    "/srv/app/old": "c",
    "/srv/app/data/a": "c",
    "/srv/app/b": "c",
    "/srv/app/data/b": "r",
    "/srv/app/data/c": "c",
    "/srv/app/data/s": "c",
    before: "c",
    "/srv/app": "m",
    "/srv/app/logs": "c",
    "/srv/app/data/c.txt": "cmw", // creat; truncate; utimensat (metadata)
    "/srv/app/data/nowhere": "m",
    "unix:/srv/app/data/new/s.sock": "c",
    "/": "m",
    "/srv/app/bin/tool": "x",
    "/srv/app/data/new/here": "m",
  };
  it("directory fds, chdir, fchdir, forks and execs make them absolute", async () => {
    const p = await fromLog("known.log", known);
    assert.deepEqual(p.pathAccess, want);
  });
  it("a chroot moves a process's root: its absolute paths (and its children's) are under it", async () => {
    const p = await fromLog("chroot.log", [
      '40 chdir("/srv") = 0',
      '40 chroot("jail") = 0',
      '40 chdir("/") = 0',
      '40 openat(AT_FDCWD, ".", O_RDONLY|O_DIRECTORY) = 3',
      '40 openat(AT_FDCWD</srv/jail>, "lib", O_RDONLY) = 4</srv/jail/lib>',
      '40 open("/etc/passwd", O_RDONLY) = 5',
      '40 open("/../../etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)',
      '40 stat("../../y", 0x7ffd) = -1 ENOENT (No such file or directory)',
      '40 chroot("/nowhere") = -1 ENOENT (No such file or directory)',
      "40 clone(child_stack=NULL, flags=SIGCHLD, child_tidptr=0x7f) = 41",
      '41 chroot("/mod") = 0',
      '41 connect(3, {sa_family=AF_UNIX, sun_path="/run/s"}, 110) = 0',
      '41 stat("/", {st_mode=S_IFDIR|0755, st_size=1}) = 0',
      "41 exit_group(0) = ?",
      "41 +++ exited with 0 +++",
      '40 stat("/x", {st_mode=S_IFREG|0644, st_size=1}) = 0',
      "40 exit_group(0) = ?",
      "40 +++ exited with 0 +++",
    ]);
    assert.deepEqual(p.pathAccess, {
      "/srv": "m",
      "/srv/jail": "mr", // chroot, chdir("/"); "." opened
      "/srv/jail/lib": "r", // -y named the directory fd as sysfence sees it
      "/srv/jail/etc/passwd": "r",
      "/srv/jail/etc/shadow": "r", // `..` stops at the root, as in the kernel …
      "/srv/jail/y": "m", // … in a path relative to the current directory too
      "/srv/jail/nowhere": "m",
      "/srv/jail/mod": "m", // a child's chroot is relative to the root it inherited …
      "unix:/srv/jail/mod/run/s": "r",
      "/srv/jail/x": "m", // … and moves its own root alone
    });
  });
  it("the same with 1 or 4 scanner threads, slices cut anywhere, and nothing folded", async () => {
    const one = await fromLog("known-1.log", [...known, ...plain]);
    assert.deepEqual(await fromLog("known-4.log", [...known, ...plain], 4), one);
    assert.deepEqual(await fromLog("known-u.log", [...known, ...plain], 1, true), one);
  });
  it("an executed file's ELF interpreter is marked executed (with the uses of the files naming it)", () => {
    const p = {
      paths: { "/bin/a": 2, "/bin/b": 1, "/lib/ld.so": 1, rel: 1 },
      pathAccess: { "/bin/a": "rx", "/bin/b": "x", "/lib/ld.so": "r", rel: "x" },
    } as unknown as Profile;
    const seen: string[] = [];
    markInterpreters(p, (f) => {
      seen.push(f);
      return f === "/bin/a" ? "/lib/./ld.so" : f === "/bin/b" ? "/lib/ld.so" : undefined;
    });
    assert.deepEqual(seen, ["/bin/a", "/bin/b"], "absolute executed files only");
    assert.equal(p.pathAccess?.["/lib/ld.so"], "rx");
    assert.equal(p.paths["/lib/ld.so"], 4);
  });
  it("is read back, checked and merged (letters unioned)", async () => {
    const p = await fromLog("merge.log", plain);
    const text = JSON.stringify(p);
    const back = parseProfile(text, "p.json");
    const other = structuredClone(back);
    other.pathAccess = { "conf/app.conf": "w", "/new": "x" };
    const m = mergeProfiles([back, other]);
    assert.equal(m.pathAccess?.["conf/app.conf"], "rw");
    assert.equal(m.pathAccess?.["/new"], "x");
    assert.equal(m.pathAccess?.cache, "c");
    for (const bad of ['"wr"', '""', '"q"', "3"])
      assert.throws(
        () => parseProfile(text.replace('"conf/app.conf":"r"', `"conf/app.conf":${bad}`), "p.json"),
        /p\.json: not a sysfence profile \(pathAccess\["conf\/app\.conf"\] is .* not access letters/,
      );
  });
});

const skip = requireOrSkip(spawnSync("strace", ["-V"]).status === 0, "strace");
describe("sysfence record --engine strace (test/fixtures/path-uses.c)", { skip }, () => {
  const program = join(dir, "path-uses");
  /** The paths the fixture names (in directory cwd), with their letters, as it names them. */
  const expected = (cwd: string) => ({
    [`${cwd}/d`]: "cmr", // mkdir, open as a directory, chdir (metadata), fchdir's fd
    [`${cwd}/gone`]: "c", // mkdir, rmdir
    [`${cwd}/d/written`]: "crw", // O_WRONLY|O_CREAT|O_TRUNC, O_RDONLY
    [`${cwd}/d/made`]: "cw", // openat(dfd, …, O_WRONLY|O_CREAT), rename's old path
    [`${cwd}/d/renamed`]: "cmrw", // rename's new path, link's old path, stat and chmod (metadata), truncate
    [`${cwd}/d/linked`]: "c", // link's new path, unlink
    [`${cwd}/d/sym`]: "c", // symlink's path, unlinkat(dfd, …)
    [`${cwd}/d/sub`]: "cm", // mkdir("../d/sub") after chdir("d"), chdir("sub") (metadata)
    [`${cwd}/d/sub/inner`]: "cmrw", // O_RDWR|O_CREAT, access (metadata)
    "/bin/true": "x",
  });
  const mine = (p: Profile, cwd: string) =>
    Object.fromEntries(
      Object.entries(p.pathAccess ?? {}).filter(
        ([k]) => k.startsWith(`${cwd}/`) || k === program || k === "/bin/true",
      ),
    );
  const runDir = (name: string) => {
    const cwd = join(dir, name);
    mkdirSync(cwd);
    return cwd;
  };

  it("records every path absolute, with how it was used", () => {
    execFileSync("gcc", ["-O2", "-Wall", "-Werror", "-o", program, `${REPO}test/fixtures/path-uses.c`]);
    const cwd = runDir("run");
    const out = join(dir, "live.json");
    const r = spawnSync(
      process.execPath,
      [CLI_PATH, "record", "-q", "--engine", "strace", "-o", out, "--", program],
      { cwd, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.deepEqual(mine(p, cwd), { ...expected(cwd), [program]: "x" });
    // the dynamic loader the kernel ran inside each execve: executed too
    const loader = interpreterOfFile("/bin/true");
    assert.ok(loader?.startsWith("/"), "/bin/true is dynamically linked");
    assert.match(p.pathAccess?.[loader ?? ""] ?? "", /x/);
    // every path the program named is absolute (the dynamic loader's too)
    assert.deepEqual(
      Object.keys(p.paths).filter((k) => !k.startsWith("/")),
      [],
    );
  });

  it("record --pid: relative paths against the directory the process was in when attached", async () => {
    const cwd = runDir("attached");
    const child = spawn(program, ["2"], { cwd, stdio: "ignore" });
    const exited = new Promise((res) => child.once("exit", res));
    const { profile } = await recordAttached(child.pid ?? 0, { engine: "strace", durationSeconds: 20 });
    await exited;
    assert.deepEqual(mine(profile, cwd), expected(cwd));
  });
});
