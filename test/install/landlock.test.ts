import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadLibc } from "../../src/install/ffi.js";
import { landlockAbi } from "../../src/install/landlock.js";
import { CLI_PATH as CLI } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

// `sysfence run --policy` with a landlock: section, against the real kernel, with busybox-static (one
// static executable: no libraries to list). Each launch is a fresh sysfence process.
const BUSYBOX = "/bin/busybox";
const LDSO = "/lib64/ld-linux-x86-64.so.2";
const abi = process.platform === "linux" ? landlockAbi(loadLibc()).abi : 0;
const skip =
  abi < 6
    ? `needs Landlock ABI 6 (this kernel: ${abi})`
    : !existsSync(BUSYBOX) ||
        spawnSync("file", ["-L", BUSYBOX], { encoding: "utf8" }).stdout?.includes("dynamically")
      ? "needs busybox-static at /bin/busybox"
      : false;

const dir = mkdtempSync(join(tmpdir(), "sysfence-landlock-"));
const readDir = join(dir, "r");
const writeDir = join(dir, "w");
mkdirSync(readDir);
mkdirSync(writeDir);
writeFileSync(join(readDir, "f"), "readable\n");

function policy(name: string, landlock: string, syscalls = "syscalls: []"): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `defaultAction: allow\nlandlock:\n${landlock}\n${syscalls}\n`);
  return file;
}
const BASE = `  read: [${readDir}]\n  write: [${writeDir}]\n  execute: [${BUSYBOX}]\n  devices: [/dev/null]\n  scope: [signal]`;
const run = (file: string, args: string[], flags: string[] = []) =>
  spawnSync(process.execPath, [CLI, "run", ...flags, "--policy", file, "--", ...args], {
    encoding: "utf8",
    timeout: 20000,
  });
const sh = (file: string, script: string, flags: string[] = []) =>
  run(file, [BUSYBOX, "sh", "-c", script], flags);

describe("sysfence run: the Landlock layer (real kernel)", { skip }, () => {
  const p = policy("base", BASE);
  it("reads beneath a read path; a file not listed is EACCES", () => {
    const ok = run(p, [BUSYBOX, "cat", join(readDir, "f")]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "readable\n");
    const no = run(p, [BUSYBOX, "cat", "/etc/passwd"]);
    assert.notEqual(no.status, 0);
    assert.match(no.stderr, /can't open '\/etc\/passwd': Permission denied/);
  });
  it("writes, creates and removes beneath a write path only; /etc and the rest of /tmp are EACCES", () => {
    const ok = sh(
      p,
      `echo x > ${writeDir}/o && mkdir ${writeDir}/d && mv ${writeDir}/o ${writeDir}/d/o && rm -r ${writeDir}/d && echo done`,
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "done\n");
    for (const target of ["/etc/sysfence-landlock-test", join(dir, "outside")]) {
      const no = sh(p, `echo x > ${target}`);
      assert.notEqual(no.status, 0);
      assert.match(no.stderr, /Permission denied/);
      assert.equal(existsSync(target), false);
    }
    // a device in devices: writable (the shell opens it O_TRUNC; truncate is ignored on devices)
    assert.equal(sh(p, "echo x > /dev/null").status, 0);
  });
  it("stdio redirected to files outside the lists: reopened by name with the descriptor's rights only", () => {
    // a shell's `< in > out` where neither is beneath a listed path; the program opens /dev/stdin and
    // /dev/stdout by name (openssl -in /dev/stdin -out /dev/stdout does): the same files, by their path
    const input = join(dir, "stdin.txt");
    const output = join(dir, "stdout.txt");
    writeFileSync(input, "from stdin\n");
    writeFileSync(output, "");
    const fdIn = openSync(input, "r");
    const fdOut = openSync(output, "w");
    try {
      const r = spawnSync(
        process.execPath,
        [CLI, "run", "--policy", p, "--", BUSYBOX, "sh", "-c", "cat /dev/stdin > /dev/stdout"],
        { stdio: [fdIn, fdOut, "pipe"], encoding: "utf8", timeout: 20000 },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(output, "utf8"), "from stdin\n");
    } finally {
      closeSync(fdIn);
      closeSync(fdOut);
    }
    // stdin is open read-only: writing to it by name stays EACCES, and its file is unchanged
    const fdIn2 = openSync(input, "r");
    try {
      const w = spawnSync(
        process.execPath,
        [CLI, "run", "--policy", p, "--", BUSYBOX, "sh", "-c", "echo x > /proc/self/fd/0"],
        { stdio: [fdIn2, "pipe", "pipe"], encoding: "utf8", timeout: 20000 },
      );
      assert.notEqual(w.status, 0);
      assert.match(w.stderr, /Permission denied/);
      assert.equal(readFileSync(input, "utf8"), "from stdin\n");
    } finally {
      closeSync(fdIn2);
    }
  });
  it("executes only what execute lists: /bin/sh is EACCES", () => {
    const r = sh(p, "/bin/sh -c 'echo ran'; echo status $?");
    assert.match(r.stderr, /\/bin\/sh: Permission denied/);
    assert.equal(r.stdout, "status 126\n");
  });
  it("the dynamic loader: execute covers execve, not ld.so reading a program it may read", () => {
    // ld.so is executable, /bin/sh is not readable: ld.so cannot open it
    const closed = policy("ldso", `  execute: [${BUSYBOX}, ${LDSO}]`);
    const a = sh(closed, `${LDSO} /bin/sh -c 'echo ran'`);
    assert.notEqual(a.status, 0);
    assert.match(a.stderr, /cannot open shared object file: Permission denied/);
    // with /usr readable, ld.so maps and runs dash though it is not in execute: Landlock checks EXECUTE
    // at execve, and an mmap(PROT_EXEC) of a file opened for reading is not checked (documented)
    const readable = policy(
      "ldso-read",
      `  read: [/usr, /etc/ld.so.cache]\n  execute: [${BUSYBOX}, ${LDSO}]`,
    );
    const b = sh(readable, `/bin/sh -c 'echo direct'; ${LDSO} /bin/sh -c 'echo via ld.so'`);
    assert.match(b.stderr, /\/bin\/sh: Permission denied/);
    assert.equal(b.stdout, "via ld.so\n");
  });
  it("scope signal: kill -0 1 is EPERM, its own child can be signalled", () => {
    const r = sh(p, "kill -0 1; echo init $?; sleep 30 & kill $!; wait $!; echo child $?");
    assert.match(r.stderr, /can't kill pid 1: Operation not permitted/);
    assert.equal(r.stdout, "init 1\nchild 143\n");
  });
  it("bindTcp: a port not listed is EACCES", () => {
    const b = policy("bind", `${BASE}\n  bindTcp: [18081]`);
    const r = run(b, [BUSYBOX, "nc", "-l", "-p", "18082"]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /bind: Permission denied/);
    // the listed port binds: nc waits for a client, is killed, and never printed a bind error
    const ok = sh(b, "nc -l -p 18081 2>&1 & sleep 1; kill $!; wait $!; echo status $?");
    assert.equal(ok.stdout, "status 143\n", ok.stderr);
  });
  it("a program outside execute is refused before anything runs, naming it and the fix", () => {
    const r = run(p, ["/bin/true"]);
    assert.equal(r.status, 125, "a failure of run itself, before exec");
    assert.match(
      r.stderr,
      /landlock: the launched program \/bin\/true \(\/usr\/bin\/true\) is not in the policy's landlock\.execute.*add \/usr\/bin\/true/,
    );
    const script = join(dir, "s.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n", { mode: 0o755 });
    const s = policy("script", `  execute: [${script}]`);
    const r2 = run(s, [script]);
    assert.match(r2.stderr, /the interpreter of .*s\.sh \/bin\/sh \(\/usr\/bin\/dash\) is not in/);
  });
  it("a missing path is skipped with a note, never widening", () => {
    const m = policy(
      "missing",
      `${BASE}\n  read: [${readDir}, ${dir}/nowhere]`.replace(`  read: [${readDir}]\n`, ""),
    );
    const r = run(m, [BUSYBOX, "cat", "/etc/passwd"]);
    assert.match(r.stderr, /landlock: read path .*nowhere does not exist \(ENOENT\): skipped/);
    assert.match(r.stderr, /Permission denied/);
    // a note: -q before the command drops it (the program's own stderr stays)
    const q = spawnSync(
      process.execPath,
      [CLI, "-q", "run", "--policy", m, "--", BUSYBOX, "cat", "/etc/passwd"],
      {
        encoding: "utf8",
        timeout: 20000,
      },
    );
    assert.doesNotMatch(q.stderr, /sysfence/);
    assert.match(q.stderr, /Permission denied/);
    const q2 = run(m, [BUSYBOX, "cat", "/etc/passwd"], ["-q"]);
    assert.doesNotMatch(q2.stderr, /sysfence/);
    // many missing paths (a PATH search, probed dotfiles): one line, not one each
    const many = policy(
      "many-missing",
      `${BASE}\n  read: [${readDir}, ${[1, 2, 3, 4, 5, 6].map((i) => `${dir}/nowhere${i}`).join(", ")}]`.replace(
        `  read: [${readDir}]\n`,
        "",
      ),
    );
    const r6 = run(many, [BUSYBOX, "cat", join(readDir, "f")]);
    assert.equal(r6.stdout, "readable\n");
    assert.equal(r6.stderr.split("\n").filter((l) => l.includes("landlock")).length, 1, r6.stderr);
    assert.match(
      r6.stderr,
      /landlock: 6 listed paths do not exist \(ENOENT\), skipped .*nowhere1, .*, and 2 more/,
    );
  });
  it("--no-landlock gives the seccomp-only behaviour, needs: landlock rules dropped", () => {
    // files left to Landlock when it is there; without it, seccomp's stricter fallback refuses openat
    const n = policy(
      "needs",
      BASE,
      "syscalls:\n  - names: [openat]\n    action: allow\n    needs: landlock\n  - names: [openat]\n    action: errno EPERM",
    );
    const on = run(n, [BUSYBOX, "cat", join(readDir, "f")]);
    assert.equal(on.status, 0, on.stderr);
    assert.equal(on.stdout, "readable\n");
    const off = run(n, [BUSYBOX, "cat", join(readDir, "f")], ["--no-landlock"]);
    assert.notEqual(off.status, 0);
    assert.match(
      off.stderr,
      /^sysfence run: note: landlock: disabled by --no-landlock: the Landlock layer .* is not applied.*; 1 call fell back to seccomp-only \(their rules rely on Landlock; .*\): openat$/m,
    );
    assert.equal(off.stderr.split("\n").filter((l) => l.includes("note: landlock")).length, 1, "one line");
    assert.match(off.stderr, /Operation not permitted/);
    // and without the section's rules, what Landlock refused is open again
    const free = run(p, [BUSYBOX, "cat", "/etc/hostname"], ["--no-landlock"]);
    assert.equal(free.status, 0, free.stderr);
    assert.equal(free.stdout, readFileSync("/etc/hostname", "utf8"));
  });
});

describe("install() and lockdown(): the Landlock layer (real kernel)", { skip }, () => {
  const script = (call: string) => `
    import { install, lockdown } from ${JSON.stringify(`${REPO}dist/src/index.js`)};
    import { readFileSync } from "node:fs";
    const p = { defaultAction: "allow", landlock: { read: [${JSON.stringify(readDir)}] }, syscalls: [] };
    // a rule that relies on the file layer: answered by the next rule where the layer is not enforced
    const needs = { ...p, syscalls: [{ names: ["mknodat"], action: "allow", needs: "landlock" }, { names: ["mknodat"], action: "errno EPERM" }] };
    console.log(JSON.stringify(${call}));
    try { readFileSync("/etc/hostname"); console.log("etc readable"); } catch (e) { console.log("etc " + e.code); }`;
  const node = (call: string) => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script(call)], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const [result, etc] = r.stdout.trim().split("\n");
    return { result: JSON.parse(result), etc, stderr: r.stderr };
  };
  it("install() binds the calling thread: enforced", () => {
    const r = node("install(p)");
    assert.deepEqual(r.result, { landlock: "enforced", notes: [] });
    assert.equal(r.etc, "etc EACCES");
  });
  it("lockdown() of a many-threaded Node process below ABI 8 does not claim the other threads", (t) => {
    if (abi >= 8) return t.skip("ABI 8 synchronises every thread");
    const r = node("lockdown(p)");
    assert.equal(r.result.landlock, "calling-thread");
    assert.equal(r.result.notes.length, 1);
    assert.match(
      r.result.notes[0],
      /^landlock: applied to the calling thread only, not to the \d+ other threads: Landlock binds only the calling thread below ABI 8 .* this kernel has \d; rules with needs: landlock were dropped/,
    );
  });
  it("lockdown() names the calls that fell back, in its notes and in one process warning", (t) => {
    if (abi >= 8) return t.skip("ABI 8 synchronises every thread");
    const r = node("lockdown(needs)");
    assert.equal(r.result.landlock, "calling-thread");
    assert.equal(r.result.notes.length, 1);
    assert.match(
      r.result.notes[0],
      /rules with needs: landlock were dropped.*; 1 call fell back to seccomp-only .*: mknodat$/,
    );
    const warnings = r.stderr.split("\n").filter((l) => l.includes("SYSFENCE_LANDLOCK_FALLBACK"));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(
      warnings[0],
      /sysfence lockdown\(\): landlock: applied to the calling thread only.*: mknodat$/,
    );
    // nothing fell back: no warning
    assert.doesNotMatch(node("lockdown(p)").stderr, /SYSFENCE_LANDLOCK_FALLBACK/);
  });
  it("landlock: false applies no Landlock and says so", () => {
    const r = node("lockdown(p, { landlock: false })");
    assert.equal(r.result.landlock, "off");
    assert.match(r.result.notes[0], /^landlock: disabled by lockdown\(\)'s landlock: false: /);
    assert.equal(r.etc, "etc readable");
  });
});
