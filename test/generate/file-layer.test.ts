import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileLayer } from "../../src/generate/file-layer.js";
import type { Profile } from "../../src/record/profile.js";
import { runCli } from "../helpers/cli.js";
import { syntheticProfile } from "../helpers/profiles.js";

const facts = {
  interpreterOf: (p: string) => (p === "/usr/sbin/app" ? "/lib64/ld-linux-x86-64.so.2" : undefined),
};
const withPaths = (pathAccess: Record<string, string>): Profile => ({
  ...syntheticProfile({ read: {} }),
  engine: { name: "strace" },
  paths: Object.fromEntries(Object.keys(pathAccess).map((p) => [p, 1])),
  pathAccess,
});
const paths = (l: { path: string }[] | undefined) => (l ?? []).map((x) => x.path);

describe("the file layer from path uses (pure)", () => {
  const layer = fileLayer(
    [
      withPaths({
        "/usr/sbin/app": "x",
        "/usr/lib/x86_64-linux-gnu/libc.so.6": "r",
        "/etc/app.conf": "r",
        "/etc/passwd": "r",
        "/etc/ssl/certs/ca.pem": "r",
        "/root/.apprc": "r",
        "/srv/data/a": "r",
        "/srv/data/b": "r",
        "/var/lib/app/state.tmp": "cw",
        "/var/lib/app/state": "c",
        "/var/lib/app/db/x": "crw",
        "/var/log/app.log": "w",
        "/home/u/.cache/thing": "m",
        "/bin/sh": "m",
        "/dev/pts/3": "rw",
        "/dev/tty": "rw",
        "/proc/self/status": "r",
        "/newfile": "c",
        "inet:0.0.0.0:8080": "c",
        "inet:127.0.0.1:5432": "r",
      }),
    ],
    facts,
  );
  const s = layer.section;
  it("writes only where it created entries or wrote files; never at /", () => {
    assert.deepEqual(paths(s?.write), ["/var/lib/app", "/var/log/app.log"]);
    assert.ok(
      layer.notes.some((n) => /wrote \/newfile: write access to \/ as a whole is not granted/.test(n)),
    );
  });
  it("reads whole directories under the shared trees and where two files were read; else the file alone", () => {
    const r = paths(s?.read);
    for (const p of [
      "/usr/lib/x86_64-linux-gnu",
      "/srv/data",
      "/etc/app.conf",
      "/etc/passwd",
      "/root/.apprc",
      "/proc",
    ])
      assert.ok(r.includes(p), `${p} in ${r.join(" ")}`);
    assert.ok(!r.includes("/etc") && !r.includes("/root"), "never /etc or a home directory as a whole");
    assert.ok(
      r.includes("/etc/ssl/certs/ca.pem") && !r.includes("/etc/ssl/certs"),
      "one file read in /etc/ssl/certs: that file alone",
    );
  });
  it("leaves out paths whose metadata alone was used; executes the program and its loader only", () => {
    assert.ok(!paths(s?.read).some((p) => p.startsWith("/home") || p === "/bin/sh"));
    assert.deepEqual(paths(s?.execute), ["/lib64/ld-linux-x86-64.so.2", "/usr/sbin/app"]);
    assert.ok(paths(s?.devices).includes("/dev/pts") && paths(s?.devices).includes("/dev/tty"));
  });
  it("binds only the ports it bound; scopes signals and abstract sockets", () => {
    assert.deepEqual(
      s?.bindTcp?.map((p) => p.port),
      [8080],
    );
    assert.deepEqual(s?.scope, ["signal", "abstract-unix-socket"]);
    assert.deepEqual([...layer.layers].sort(), ["ipc", "landlock-fs", "landlock-signal", "landlock-tcp"]);
    const abstract = fileLayer([withPaths({ "/usr/sbin/app": "x", "unix:@dbus": "r" })], facts);
    assert.deepEqual(abstract.section?.scope, ["signal"], "it used an abstract socket: not scoped");
  });
  it("is skipped, with the reason, without path uses, with dropped paths or relative ones", () => {
    const bpf = syntheticProfile({ read: {} });
    assert.match(fileLayer([bpf], facts).notes[0], /no path uses \(engine .*\); record with --engine strace/);
    assert.equal(fileLayer([bpf], facts).section, undefined);
    const rel = fileLayer([withPaths({ "conf/app.conf": "r" })], facts);
    assert.match(
      rel.notes[0],
      /relative \(an imported log without the working directory, e.g\. conf\/app\.conf\)/,
    );
    const omitted = { ...withPaths({ "/a": "r" }), pathsOmitted: 3 };
    assert.match(fileLayer([omitted], facts).notes[0], /kept only part of its paths/);
    assert.equal(
      fileLayer([withPaths({ "/a": "r" }), bpf], facts).section,
      undefined,
      "every recording needs them",
    );
  });
});

describe("generate --writable", () => {
  it("adds a data directory the recording read but never wrote in, and says when one may be missing", () => {
    const p = withPaths({
      "/usr/bin/redis-server": "x",
      "/srv/redis/dump.rdb": "r",
      "/srv/redis/appendonly.aof": "r",
    });
    const without = fileLayer([p], facts);
    assert.ok(
      without.notes.some((n) => /read files in \/srv\/redis but wrote nothing there.*--writable DIR/.test(n)),
    );
    assert.deepEqual(paths(without.section?.write), []);
    const withDir = fileLayer([p], facts, { writable: ["/srv/redis"] });
    assert.deepEqual(paths(withDir.section?.write), ["/srv/redis"]);
    assert.ok(!withDir.notes.some((n) => /--writable/.test(n)));
  });
});

describe("a file read alone in its directory", () => {
  it("is granted by itself, and a note says other files there get EACCES and what to add (apache2 serving index.html, gawk's one input)", () => {
    const one = fileLayer(
      [
        withPaths({
          "/usr/sbin/apache2": "x",
          "/var/www/html/index.html": "r",
          "/var/log/apache2/access.log": "w",
        }),
      ],
      facts,
    );
    assert.ok(paths(one.section?.read).includes("/var/www/html/index.html"));
    assert.ok(!paths(one.section?.read).includes("/var/www/html"));
    const note = one.notes.filter((n) => /the only file it read/.test(n));
    assert.equal(note.length, 1, one.notes.join("\n"));
    assert.match(
      note[0],
      /read \/var\/www\/html\/index\.html, the only file it read in its directory: .*another file there .* gets EACCES.*add --readable DIR/,
    );
    assert.ok(
      !one.notes.some((n) => /read files in \/var\/www\/html/.test(n)),
      "one note for the directory, not two",
    );
    const two = fileLayer(
      [withPaths({ "/usr/sbin/apache2": "x", "/var/www/html/index.html": "r", "/var/www/html/a.css": "r" })],
      facts,
    );
    assert.ok(paths(two.section?.read).includes("/var/www/html"));
    assert.ok(!two.notes.some((n) => /the only file it read/.test(n)));
    // generate --readable: the directory as a whole, and the note has nothing left to say
    const given = fileLayer(
      [withPaths({ "/usr/sbin/apache2": "x", "/var/www/html/index.html": "r" })],
      facts,
      { readable: ["/var/www/html"] },
    );
    assert.ok(paths(given.section?.read).includes("/var/www/html"));
    assert.ok(
      !paths(given.section?.read).includes("/var/www/html/index.html"),
      "inside the directory: not listed again",
    );
    assert.ok(!given.notes.some((n) => /the only file it read/.test(n)), given.notes.join("\n"));
    // a directory read itself (a script's working directory, listed) is granted whole: never "a file alone"
    const cwd = fileLayer(
      [withPaths({ "/usr/bin/python3": "x", "/tmp/job": "r", "/tmp/job/a.csv": "r", "/srv/empty": "r" })],
      { ...facts, isDirectory: (p: string) => p === "/srv/empty" },
    );
    assert.ok(!cwd.notes.some((n) => /the only file it read/.test(n)), cwd.notes.join("\n"));
  });
});

describe("TCP ports", () => {
  it("several ports bound: a note says only those may be bound and names --any-bind-port (vsftpd's passive data port)", () => {
    const ftp = withPaths({
      "/usr/sbin/vsftpd": "x",
      "inet:127.0.0.1:2121": "c",
      "inet:127.0.0.1:30003": "c",
    });
    const l = fileLayer([ftp], facts);
    assert.deepEqual(
      l.section?.bindTcp?.map((b) => b.port),
      [2121, 30003],
    );
    assert.ok(
      l.notes.some((n) => /bound TCP ports 2121, 30003: only these .* --any-bind-port/.test(n)),
      l.notes.join("\n"),
    );
    assert.ok(!fileLayer([ftp], facts, { anyBindPort: true }).notes.some((n) => /bound TCP ports/.test(n)));
    const one = withPaths({ "/usr/sbin/vsftpd": "x", "inet:127.0.0.1:2121": "c" });
    assert.ok(
      !fileLayer([one], facts).notes.some((n) => /bound TCP ports/.test(n)),
      "one port: the daemon's own",
    );
  });
});

describe("symlinks", () => {
  it("a path read through a symlink grants the file it reaches (Landlock judges that inode)", () => {
    const linked = {
      ...facts,
      realpath: (p: string) => (p === "/usr/lib/ssl/openssl.cnf" ? "/etc/ssl/openssl.cnf" : p),
    };
    const l = fileLayer([withPaths({ "/usr/bin/curl": "x", "/usr/lib/ssl/openssl.cnf": "r" })], linked);
    assert.ok(paths(l.section?.read).includes("/etc/ssl/openssl.cnf"));
    assert.ok(
      paths(l.section?.read).includes("/etc/locale.alias"),
      "glibc's locale.alias (a symlink target)",
    );
  });
});

describe("engines that see no strings", () => {
  it("a bpf profile whose path program recorded every path use (engine.wholePaths) gives a file layer", () => {
    const uses = { "/usr/bin/memcached": "x", "/etc/memcached.conf": "r", "/var/lib/mc/db": "crw" };
    const p = { ...withPaths(uses), engine: { name: "bpf" as const, wholePaths: true } };
    const l = fileLayer([p], facts);
    assert.ok(l.section, l.notes.join("; "));
    assert.deepEqual(paths(l.section.write), ["/var/lib/mc"]);
  });

  it("bpf (without its path program) and ftrace profiles give no file layer, whatever their pathAccess says", () => {
    for (const name of ["bpf", "ftrace"] as const) {
      const p = { ...withPaths({ "/usr/bin/memcached": "x" }), engine: { name } };
      const l = fileLayer([p], facts);
      assert.equal(l.section, undefined, name);
      assert.match(
        l.notes[0],
        name === "bpf"
          ? /engine bpf without its path program: the files opened and executed, relative ones without their directory/
          : /engine ftrace: executed files only/,
      );
    }
  });
});

describe("merged recordings", () => {
  it("a merge whose path uses are executed files only (bpf/ftrace parts) gives no file layer", () => {
    const merged = { ...withPaths({ "/usr/bin/memcached": "x" }), engine: { name: "merge" as const } };
    assert.match(fileLayer([merged], facts).notes[0], /hold no file read or written/);
    const empty = { ...withPaths({}), engine: { name: "merge" as const } };
    assert.equal(fileLayer([empty], facts).section, undefined);
  });
});

describe("/proc", () => {
  it("reads /proc as a whole, writes only the files written (a recorded pid as /proc/self), never /proc/sys whole", () => {
    const l = fileLayer(
      [
        withPaths({
          "/usr/sbin/app": "x",
          "/proc/4242/oom_score_adj": "w",
          "/proc/self/comm": "rw",
          "/etc/app.conf": "cr",
        }),
      ],
      facts,
    );
    assert.deepEqual(paths(l.section?.write), ["/proc/self/comm", "/proc/self/oom_score_adj"]);
    assert.ok(paths(l.section?.read).includes("/proc"));
    assert.ok(
      paths(l.section?.read).includes("/etc/app.conf"),
      "created in /etc (not granted): still readable",
    );
  });
});

describe("/proc thread names", () => {
  it("a thread's own entries (pthread_setname_np) grant the process's task directory", () => {
    const l = fileLayer(
      [withPaths({ "/usr/sbin/app": "x", "/proc/self/task/4243/comm": "rw", "/a": "r" })],
      facts,
    );
    assert.deepEqual(paths(l.section?.write), ["/proc/self/task"]);
  });
});

describe("a directory read itself", () => {
  it("/, a top-level directory or one granted file by file is never granted whole (O_PATH walks, chroot views)", () => {
    // rsync's daemon walks to its module with O_PATH opens of / and /tmp, and its chrooted child lists its
    // new root as "/": granted, read /etc/shadow; an O_PATH open of /etc is recorded as a read too
    const layer = fileLayer(
      [
        {
          ...withPaths({
            "/": "mr",
            "/tmp": "mr",
            "/etc": "r",
            "/usr/bin": "r",
            "/usr": "r",
            "/srv/mod": "mr",
            "/srv/mod/a.txt": "r",
          }),
          syscalls: { chroot: { setup: 0, work: 1, errors: 0 } },
        },
      ],
      facts,
    );
    const r = paths(layer.section?.read);
    for (const p of ["/", "/tmp", "/etc", "/usr/bin"]) assert.ok(!r.includes(p), `${p} not whole: ${r}`);
    assert.ok(r.includes("/srv/mod") && r.includes("/usr"), "a data directory and a shared tree still are");
    const note = layer.notes.find((n) => n.includes("itself"));
    assert.match(note ?? "", /read the directories \/, \/tmp, \/etc, \/usr\/bin itself/);
    assert.match(note ?? "", /the recording called chroot/);
  });
});

describe("/proc/self written by a recording of several processes", () => {
  it("says that only the launched process's own entry is granted (a forked child's gets EACCES)", () => {
    const base = withPaths({ "/proc/self/loginuid": "rw", "/usr/sbin/app": "x" });
    const proc = (pid: number) => ({ pid, exe: "/usr/sbin/app", threads: [] });
    const several = fileLayer([{ ...base, processes: [proc(1), proc(2)] }], facts);
    assert.deepEqual(paths(several.section?.write), ["/proc/self/loginuid"]);
    assert.ok(
      several.notes.some((n) =>
        /wrote \/proc\/self\/loginuid and has several processes: .*forked process/.test(n),
      ),
      several.notes.join("\n"),
    );
    const one = fileLayer([{ ...base, processes: [proc(1)] }], facts);
    assert.ok(!one.notes.some((n) => n.includes("several processes")));
  });
});

describe("generate --readable (the command)", () => {
  it("lists the directory in landlock.read, validates it, and the one-file note goes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-readable-"));
    const profile = join(dir, "p.json");
    writeFileSync(
      profile,
      JSON.stringify(withPaths({ "/usr/sbin/apache2": "x", "/var/www/html/index.html": "r" })),
    );
    const without = await runCli("generate", "--static", "off", profile, "-o", join(dir, "a.yaml"));
    assert.equal(without.code, 0, without.stderr);
    assert.match(without.stderr, /the only file it read in its directory.*add --readable DIR/);
    const gen = await runCli(
      "generate",
      "--static",
      "off",
      "--readable",
      "/var/www/html/",
      profile,
      "-o",
      join(dir, "b.yaml"),
    );
    assert.equal(gen.code, 0, gen.stderr);
    assert.doesNotMatch(gen.stderr, /the only file it read/);
    assert.match(readFileSync(join(dir, "b.yaml"), "utf8"), /^ {2}read: \[.*\/var\/www\/html[,\]]/m);
    const bad = await runCli("generate", "--readable", "www", profile);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--readable 'www': give an absolute directory/);
  });
});
