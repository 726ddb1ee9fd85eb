// export --format bwrap against the real bubblewrap (0.8.0 here), with a program no other test uses: xz,
// recorded compressing one file (strace engine: it records paths), generated with the defaults. The
// exported script runs the recorded work and other ordinary uses inside the sandbox; the file layer is
// carried by the mounts (a write outside the write list fails, a file outside the read list does not
// exist); the seccomp answers still hold (EPERM for a call that relies on Landlock, kill without analysis).
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CLI_PATH } from "../helpers/cli.js";
import { requireOrSkip } from "../helpers/require.js";

const have = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
const skip =
  process.arch !== "x64"
    ? "needs x86_64"
    : process.getuid?.() !== 0
      ? "needs root (bwrap without user namespaces)"
      : requireOrSkip(
          have("strace", "-V") && have("bwrap", "--version") && have("xz", "--version"),
          "strace, bwrap and xz",
        );

describe("export --format bwrap: xz under bubblewrap with its file layer as mounts", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-bwrap-export-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const data = join(dir, "data");
  const other = join(dir, "other");
  mkdirSync(data);
  mkdirSync(other);
  const scratch = join(dir, "tmp"); // where the script decodes its filter (TMPDIR)
  mkdirSync(scratch);
  const text = `${Array.from({ length: 3000 }, (_, i) => i + 1).join("\n")}\n`;
  writeFileSync(join(data, "in.txt"), text);
  writeFileSync(join(other, "secret.txt"), "not for xz\n");
  const sysfence = (...args: string[]) =>
    spawnSync(process.execPath, [CLI_PATH, ...args], { cwd: dir, encoding: "utf8", timeout: 120000 });
  // the script runs from the directory the recording ran in: the relative data/ path is the same
  const sandboxed = (script: string, ...cmd: string[]) =>
    spawnSync("sh", [script, ...cmd], {
      cwd: dir,
      encoding: "utf8",
      timeout: 60000,
      env: { ...process.env, TMPDIR: scratch },
    });
  const rec = sysfence(
    "record",
    "-q",
    "--engine",
    "strace",
    "-o",
    "xz.json",
    "--",
    "/usr/bin/xz",
    "-k",
    "data/in.txt",
  );
  const gen = sysfence("generate", "xz.json", "-o", "policy.yaml");
  const exp = sysfence("export", "--format", "bwrap", "policy.yaml", "-o", "run-under-bwrap.sh");
  const script = join(dir, "run-under-bwrap.sh");

  it("exports a script whose mounts are the policy's lists, saying what bwrap cannot hold", () => {
    assert.equal(rec.status, 0, rec.stderr);
    assert.equal(gen.status, 0, gen.stderr);
    assert.equal(exp.status, 0, exp.stderr);
    const s = readFileSync(script, "utf8");
    assert.match(s, new RegExp(`--bind-try ${data} ${data} \\\\\n`), "the write list, writable");
    assert.match(s, /--ro-bind-try \/usr\/bin\/xz \/usr\/bin\/xz \\\n/, "the executable, read-only");
    assert.match(s, /--unshare-pid \\\n/, "scope signal");
    assert.match(exp.stderr, /bwrap: landlock\.execute has no bwrap equivalent/);
  });

  it("xz does its recorded work and other ordinary uses inside the sandbox", () => {
    rmSync(join(data, "in.txt.xz"), { force: true });
    const c = sandboxed(script, "xz", "-k", "data/in.txt");
    assert.equal(c.status, 0, c.stderr);
    assert.equal(execFileSync("xz", ["-dc", join(data, "in.txt.xz")], { encoding: "utf8" }), text);
    const d = sandboxed(script, "xz", "-dc", "data/in.txt.xz");
    assert.equal(d.status, 0, d.stderr);
    assert.equal(d.stdout, text, "decompressed to stdout");
    const t = sandboxed(script, "xz", "-t", "data/in.txt.xz");
    assert.equal(t.status, 0, t.stderr);
    const l = sandboxed(script, "xz", "-l", "data/in.txt.xz");
    assert.equal(l.status, 0, l.stderr);
    assert.match(l.stdout, /data\/in\.txt\.xz/);
    // xz from its full path; the script's temp file (the decoded filter) is removed before bwrap starts
    assert.equal(sandboxed(script, "/usr/bin/xz", "-t", "data/in.txt.xz").status, 0);
    assert.deepEqual(readdirSync(scratch), []);
  });

  it("runs unprivileged too (bwrap makes a user namespace): as nobody, xz decompresses inside the sandbox", (t) => {
    if (spawnSync("setpriv", ["--version"]).status !== 0) return t.skip("setpriv is not installed");
    for (const d of [dir, data, scratch]) chmodSync(d, d === scratch ? 0o1777 : 0o755);
    chmodSync(join(data, "in.txt.xz"), 0o644);
    const r = spawnSync(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", "sh", script, "xz", "-dc", "data/in.txt.xz"],
      { cwd: dir, encoding: "utf8", timeout: 60000, env: { ...process.env, TMPDIR: scratch } },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, text);
  });

  it("a write outside the write list fails; a file outside the read list does not exist inside", () => {
    const w = sandboxed(script, "xz", "-k", "/usr/bin/xz");
    assert.notEqual(w.status, 0);
    assert.match(w.stderr, /\/usr\/bin\/xz\.xz: Read-only file system/);
    assert.ok(!existsSync("/usr/bin/xz.xz"));
    const hidden = sandboxed(script, "xz", "-k", "other/secret.txt");
    assert.notEqual(hidden.status, 0);
    assert.match(
      hidden.stderr,
      /other\/secret\.txt: No such file or directory/,
      "readable on the host, not inside",
    );
    assert.ok(!existsSync(join(other, "secret.txt.xz")));
    const shadow = sandboxed(script, "xz", "-c", "/etc/shadow");
    assert.match(shadow.stderr, /\/etc\/shadow: No such file or directory/);
    const shell = sandboxed(script, "sh", "-c", "true");
    assert.notEqual(shell.status, 0, "no shell in the sandbox");
    assert.match(shell.stderr, /execvp sh: No such file or directory/);
  });

  it("the seccomp answers hold: EPERM where the rule relies on Landlock, kill for an unseen call without analysis", () => {
    // -f removes the existing output first: unlink is allowed where Landlock confines it (sysfence run),
    // answered EPERM without the layer (its seccomp-only fallback), which bwrap's mounts do not change
    assert.ok(existsSync(join(data, "in.txt.xz")));
    const f = sandboxed(script, "xz", "-kf", "data/in.txt");
    assert.equal(f.status, 1);
    assert.match(f.stderr, /data\/in\.txt\.xz: Cannot remove: Operation not permitted/);
    const run = sysfence("run", "--policy", "policy.yaml", "--", "/usr/bin/xz", "-kf", "data/in.txt");
    assert.equal(run.status, 0, `with Landlock, sysfence run allows it: ${run.stderr}`);
    const g = sysfence("generate", "xz.json", "--static", "off", "-o", "seen-only.yaml");
    assert.equal(g.status, 0, g.stderr);
    const e = sysfence("export", "--format", "bwrap", "seen-only.yaml", "-o", "seen-only.sh");
    assert.equal(e.status, 0, e.stderr);
    const k = sandboxed(join(dir, "seen-only.sh"), "xz", "-kf", "data/in.txt");
    assert.equal(k.status, 159, `128 + SIGSYS: killed by the filter (${k.stderr})`);
    const ok = sandboxed(join(dir, "seen-only.sh"), "xz", "-dc", "data/in.txt.xz");
    assert.equal(ok.stdout, text, "and the seen-only policy still runs the ordinary use");
  });
});

describe("export --format bwrap: a daemon's user and signals", { skip }, () => {
  // bwrap makes the directories above its mounts mode 0700: a daemon that drops to its own user (dnsmasq,
  // a web server's workers) could open nothing below them — the export makes them 0755
  it("as root, setpriv to nobody inside the sandbox, then cat a listed file under /tmp", (t) => {
    if (spawnSync("setpriv", ["--version"]).status !== 0) return t.skip("setpriv is not installed");
    const dir = mkdtempSync(join(tmpdir(), "sysfence-bwrap-perms-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "hosts.txt"), "10.1.1.1 web.lan\n", { mode: 0o644 });
    const policy = join(dir, "p.yaml");
    const bins = ["/usr/bin/setpriv", "/usr/bin/cat"];
    writeFileSync(
      policy,
      `version: 1\ndefaultAction: allow\nlandlock:\n  read: [/lib, /lib64, /usr/lib, ${join(dir, "hosts.txt")}]\n  write: []\n  execute: [${bins.join(", ")}]\n  devices: [/dev/null]\n  scope: [signal]\nsyscalls: []\n`,
    );
    const script = join(dir, "run.sh");
    const e = spawnSync(process.execPath, [CLI_PATH, "export", "--format", "bwrap", policy, "-o", script], {
      encoding: "utf8",
    });
    assert.equal(e.status, 0, e.stderr);
    const r = spawnSync(
      "sh",
      [script, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", join(dir, "hosts.txt")],
      { encoding: "utf8", timeout: 60000, env: { ...process.env, TMPDIR: dir } },
    );
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "10.1.1.1 web.lan\n");
    assert.equal(r.status, 0);
  });

  it("the caller's descriptors pass through (fd 3: systemd's first socket), stdin too, and a closed stdin is no error", (t) => {
    // (the script kept stdin on fd 3 for its background job: a caller's fd 3 was lost, a closed stdin fatal)
    const dir = mkdtempSync(join(tmpdir(), "sysfence-bwrap-fds-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const policy = join(dir, "p.yaml");
    writeFileSync(
      policy,
      `version: 1\ndefaultAction: allow\nlandlock:\n  read: [/lib, /lib64, /usr/lib, ${dir}]\n  write: []\n  execute: [/usr/bin/dash]\n  devices: [/dev/null]\nsyscalls: []\n`,
    );
    writeFileSync(join(dir, "three"), "on fd 3\n");
    const script = join(dir, "run.sh");
    const e = spawnSync(process.execPath, [CLI_PATH, "export", "--format", "bwrap", policy, "-o", script], {
      encoding: "utf8",
    });
    assert.equal(e.status, 0, e.stderr);
    const body = 'read a; read b <&3; echo "$a / $b"';
    const r = spawnSync("sh", ["-c", `sh "$0" dash -c '${body}' 3<"$1"`, script, join(dir, "three")], {
      input: "from stdin\n",
      encoding: "utf8",
      env: { ...process.env, TMPDIR: dir },
    });
    assert.equal(r.stdout, "from stdin / on fd 3\n", r.stderr);
    const closed = spawnSync("sh", ["-c", `sh "$0" dash -c 'echo ran' <&-`, script], {
      encoding: "utf8",
      env: { ...process.env, TMPDIR: dir },
    });
    assert.equal(closed.status, 0, closed.stderr);
    assert.equal(closed.stdout, "ran\n");
  });

  it("a SIGTERM to the script reaches the program, which stops cleanly; the script exits with its status", async (t) => {
    // bwrap forwards no signal: with `exec bwrap` a stop killed bwrap alone and left the program running
    const dir = mkdtempSync(join(tmpdir(), "sysfence-bwrap-signal-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const policy = join(dir, "p.yaml");
    writeFileSync(
      policy,
      "version: 1\ndefaultAction: allow\nlandlock:\n  read: [/lib, /lib64, /usr/lib]\n  write: []\n  execute: [/usr/bin/dash]\n  devices: [/dev/null]\n  scope: [signal]\nsyscalls: []\n",
    );
    const script = join(dir, "run.sh");
    const e = spawnSync(process.execPath, [CLI_PATH, "export", "--format", "bwrap", policy, "-o", script], {
      encoding: "utf8",
    });
    assert.equal(e.status, 0, e.stderr);
    const body =
      'trap "echo stopped cleanly; exit 0" TERM; trap "echo reloaded" HUP; echo ready; while :; do read x; done';
    const child = spawn("sh", [script, "dash", "-c", body], { env: { ...process.env, TMPDIR: dir } });
    t.after(() => child.kill("SIGKILL")); // the sandbox dies with it (--die-with-parent)
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    const said = (text: string) =>
      new Promise<void>((resolve) => {
        const look = () => (out.includes(text) ? resolve() : setTimeout(look, 20));
        look();
      });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await said("ready");
    child.kill("SIGHUP");
    await said("reloaded");
    child.kill("SIGTERM");
    assert.equal(await exited, 0, `the program's own exit status: ${out}`);
    assert.equal(out, "ready\nreloaded\nstopped cleanly\n");
    child.stdin.end();
  });
});
