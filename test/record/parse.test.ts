import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { makesThread } from "../../src/record/engines/strace/decode.js";
import { type CallEvent, nthArg, parseLine, splitArgs } from "../../src/record/engines/strace/parse.js";
import { profileFromLog } from "../../src/record/engines/strace/strace.js";

describe("strace line parser", () => {
  it("reads calls with and without -f, with -t/-tt/-ttt, -T, -y and -X", () => {
    assert.deepEqual(parseLine('openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3'), {
      kind: "call",
      pid: 0,
      time: undefined,
      name: "openat",
      argText: 'AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC',
      ret: "3",
      errno: undefined,
      unfinished: false,
    });
    const f = parseLine(
      '123   1700000000.123456 read(3</etc/passwd>, "root:x:0:0:root:/root:/bin/bash\\n"..., 4096) = 4096 <0.000012>',
    );
    assert.ok(f?.kind === "call");
    assert.equal(f.pid, 123);
    assert.equal(f.time, 1700000000.123456);
    assert.deepEqual(splitArgs(f.argText), [
      "3</etc/passwd>",
      '"root:x:0:0:root:/root:/bin/bash\\n"...',
      "4096",
    ]);
    const tt = parseLine("[pid  77] 12:34:56.500000 ioctl(1, TCGETS, {c_iflag=ICRNL|IXON, c_oflag=NL0}) = 0");
    assert.ok(tt?.kind === "call");
    assert.equal(tt.pid, 77);
    assert.equal(tt.time, 12 * 3600 + 34 * 60 + 56.5);
    assert.deepEqual(splitArgs(tt.argText), ["1", "TCGETS", "{c_iflag=ICRNL|IXON, c_oflag=NL0}"]);
    const raw = parseLine("9 ioctl(0x1, 0x5401, 0x7ffd) = -1 ENOTTY (Inappropriate ioctl for device)");
    assert.ok(raw?.kind === "call");
    assert.equal(raw.ret, "-1");
    assert.equal(raw.errno, "ENOTTY");
  });
  it("pairs unfinished and resumed halves; reads signals, exits and interrupted calls", () => {
    assert.deepEqual(parseLine("5 wait4(-1,  <unfinished ...>"), {
      kind: "call",
      pid: 5,
      time: undefined,
      name: "wait4",
      argText: "-1",
      unfinished: true,
    });
    assert.deepEqual(
      parseLine("5 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 6"),
      {
        kind: "resume",
        pid: 5,
        time: undefined,
        name: "wait4",
        argText: "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL",
        ret: "6",
        errno: undefined,
      },
    );
    assert.deepEqual(parseLine("5 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=6} ---"), {
      kind: "signal",
      pid: 5,
      time: undefined,
      signal: "SIGCHLD",
    });
    assert.deepEqual(parseLine("6 +++ exited with 3 +++"), {
      kind: "exit",
      pid: 6,
      time: undefined,
      status: 3,
      signal: undefined,
    });
    assert.deepEqual(parseLine("6 +++ killed by SIGKILL +++"), {
      kind: "exit",
      pid: 6,
      time: undefined,
      status: undefined,
      signal: "SIGKILL",
    });
    const padded = parseLine("8 close(0x3)      = 0 <0.000012>");
    assert.ok(padded?.kind === "call" && padded.ret === "0" && padded.argText === "0x3");
    const tricky = parseLine('8 write(1, "a) = 5 b", 8) = 8');
    assert.ok(tricky?.kind === "call" && tricky.ret === "8" && tricky.argText === '1, "a) = 5 b", 8');
    const r = parseLine("7 read(0, 0x7ffc, 10) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)");
    assert.ok(r?.kind === "call");
    assert.equal(r.ret, "?");
    assert.equal(r.errno, "ERESTARTSYS");
    assert.equal(parseLine("7 exit_group(0)                     = ?")?.kind, "call");
  });
  it("keeps strings with commas, brackets and comments whole", () => {
    assert.deepEqual(splitArgs('"a, b", [1, 2], {x=1, y=[3]}, 0x7fff /* 35 vars */'), [
      '"a, b"',
      "[1, 2]",
      "{x=1, y=[3]}",
      "0x7fff /* 35 vars */",
    ]);
    // one splitter: the n-th argument is splitArgs' n-th, a comment with a comma included
    const text = '0x7fff /* 2 vars, 1 cut */, "x, y", [a, b]';
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => nthArg(text, i)),
      [...splitArgs(text), undefined],
    );
  });
  it("decodes whether clone flags make a thread (the call row's aux), in every spelling strace has", () => {
    assert.equal(makesThread("CLONE_VM|CLONE_FS|CLONE_THREAD|CLONE_SYSVSEM"), true);
    assert.equal(makesThread("CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"), false);
    assert.equal(makesThread(String(0x3d0f00)), true);
    assert.equal(makesThread(String(0x1200011)), false);
    assert.equal(makesThread("0x10000"), true);
  });

  it("rejects lines that are not strace output", () => {
    assert.equal(parseLine("hello world"), null);
    assert.equal(parseLine("GET / HTTP/1.1"), null);
  });
});

describe("profiles from existing logs", () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-log-"));
  it("a file that is not strace output gets one error naming file and line", async () => {
    const f = join(dir, "notes.txt");
    writeFileSync(f, "# my notes\nnothing here\n");
    await assert.rejects(profileFromLog(f), /notes\.txt:1: this is not strace output: '# my notes'/);
  });
  it("a truncated log is read and marked incomplete", async () => {
    const f = join(dir, "cut.log");
    writeFileSync(f, '1 openat(AT_FDCWD, "/etc/hosts", O_RDONLY) = 3\n1 read(3, "127.0.0.1 loc');
    const { profile } = await profileFromLog(f);
    assert.equal(profile.complete, false);
    assert.equal(profile.syscalls.openat.setup, 1);
    assert.equal(profile.paths["/etc/hosts"], 1);
  });
  it("socket addresses become paths, in strace's decoded and -X raw forms", async () => {
    const f = join(dir, "net.log");
    writeFileSync(
      f,
      [
        '1 connect(3, {sa_family=AF_INET, sin_port=htons(11211), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '1 connect(4, {sa_family=0x2, sin_port="\\x00\\x50", sin_addr="\\x0a\\x00\\x00\\x01"}, 16) = 0',
        '1 bind(5, {sa_family=0xa, sin6_port="\\x1f\\x90", sin6_flowinfo=0, sin6_addr="\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01", sin6_scope_id=0}, 28) = 0',
        '1 connect(6, {sa_family=AF_UNIX, sun_path="/run/x.sock"}, 110) = 0',
      ].join("\n"),
    );
    const { profile } = await profileFromLog(f);
    assert.deepEqual(Object.keys(profile.paths).sort(), [
      "inet6:[::1]:8080",
      "inet:10.0.0.1:80",
      "inet:127.0.0.1:11211",
      "unix:/run/x.sock",
    ]);
  });
  it("syscall names and values are data: __proto__ and constructor are ordinary keys", async () => {
    const f = join(dir, "hostile.log");
    writeFileSync(f, "1 __proto__(1) = 0\n1 constructor(2) = 0\n1 ioctl(3, __proto__) = 0\n");
    const { profile } = await profileFromLog(f);
    assert.equal(Object.hasOwn(profile.syscalls, "__proto__"), true);
    const proto = "__proto__";
    assert.equal(profile.syscalls[proto].setup, 1);
    assert.equal(profile.syscalls["constructor" as string].setup, 1);
    assert.equal(profile.processes[0].threads[0].syscalls[proto].setup, 1);
    assert.equal(JSON.stringify(profile.syscalls.ioctl.args), '{"1":{"__proto__":1}}');
    assert.equal(Object.getPrototypeOf({}).setup, undefined, "nothing leaked into Object.prototype");
  });
  it("a log of invented syscall names stays small: past 64 unknown names their lines are not strace output", async () => {
    const f = join(dir, "invented.log");
    const lines = [
      '1 openat(AT_FDCWD, "/etc/hosts", O_RDONLY) = 3',
      "1 syscall_0x1ff(0x1) = -1 ENOSYS (Function not implemented)",
    ];
    for (let i = 0; i < 5000; i++) lines.push(`1 invented${i}(1) = 0`);
    writeFileSync(f, `${lines.join("\n")}\n`);
    const { profile } = await profileFromLog(f);
    assert.equal(profile.syscalls.openat.setup, 1);
    assert.equal(
      profile.syscalls.syscall_0x1ff.errors,
      1,
      "strace's name for a number it has no name for is a syscall",
    );
    assert.equal(Object.keys(profile.syscalls).filter((n) => n.startsWith("invented")).length, 64);
    assert.equal(profile.complete, false, "the rest are marked as lines that are not strace output");
  });
  it("a pid the kernel reuses after its process exited is another process image", async () => {
    const f = join(dir, "reuse.log");
    writeFileSync(
      f,
      [
        '5 execve("/bin/true", ["true"], 0x7ffd /* 3 vars */) = 0',
        "5 getpid() = 5",
        "5 exit_group(0) = ?",
        "5 +++ exited with 0 +++",
        // the same pid, later, without an exec of its own in the log (a recording that started mid-way)
        "5 getuid() = 0",
        "5 read(0, 0x7ffd, 1) = -1 EBADF (Bad file descriptor)",
        "5 +++ exited with 1 +++",
        "",
      ].join("\n"),
    );
    const { profile, builder } = await profileFromLog(f);
    const images = profile.processes.map((p) => [p.exe, p.exitStatus, Object.keys(p.threads[0].syscalls)]);
    assert.deepEqual(images, [
      ["?", undefined, ["execve"]],
      ["/bin/true", 0, ["exit_group", "getpid"]],
      // (its exec is not in the log: the program is unknown)
      ["?", 1, ["getuid", "read"]],
    ]);
    assert.equal(profile.syscalls.read.errors, 1);
    assert.deepEqual([...builder.neverReturned()], [["exit_group", 1]]);
  });
  it("past 100000 distinct argument values, new ones are one 'not kept' value (memory bounded, generate allows any)", async () => {
    const { VALUES_OMITTED } = await import("../../src/record/profile.js");
    const { tighten } = await import("../../src/generate/tighten.js");
    const f = join(dir, "values.log");
    const lines: string[] = [];
    for (let i = 0; i < 120000; i++)
      lines.push(`1 ioctl(3, ${0x10000000 + i}, 0x7ffd) = -1 ENOTTY (Inappropriate ioctl for device)`);
    writeFileSync(f, `${lines.join("\n")}\n`);
    const { profile } = await profileFromLog(f, { threads: 1 });
    const values = profile.syscalls.ioctl.args?.["1"] ?? {};
    assert.equal(Object.keys(values).length, 100001);
    assert.equal(values[VALUES_OMITTED], 20000);
    assert.equal(profile.syscalls.ioctl.setup, 120000);
    const t = tighten({ name: "ioctl", args: profile.syscalls.ioctl.args ?? {} } as never, "strict");
    assert.deepEqual(t.alternatives, []);
    assert.match(
      t.warning ?? "",
      /more distinct values than the recording keeps; the call is allowed with any arguments/,
    );
  });
  it("clone printed decoded (child_stack=…, flags=…) gives its flags, and a thread clone makes a thread", async () => {
    const f = join(dir, "clone.log");
    writeFileSync(
      f,
      [
        "7 clone(child_stack=0x7f5c, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[8], tls=0x7f5c, child_tidptr=0x7f5c) = 8",
        "8 futex(0x7f5c, FUTEX_WAKE_PRIVATE, 1) = 0",
        "7 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f5c) = 9",
        "9 exit_group(0) = ?",
        "9 +++ exited with 0 +++",
        // -e raw=clone (what sysfence's own strace engine asks for): the kernel's order, flags first
        "7 clone(0x3d0f00, 0x7f5c, 0x7f5c, 0x7f5c, 0x7f5c) = 10",
        "10 futex(0x7f5c, 0x81, 1) = 0",
        "",
      ].join("\n"),
    );
    const { profile } = await profileFromLog(f, { threads: 1 });
    assert.deepEqual(
      { ...profile.syscalls.clone.args?.["0"] },
      {
        "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID": 1,
        "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD": 1,
        [String(0x3d0f00)]: 1,
      },
      "the flags, never child_stack's value",
    );
    assert.deepEqual(
      profile.processes.map((p) => [p.pid, p.threads.map((t) => t.tid)]),
      [
        [9, [9]],
        [7, [7, 8, 10]],
      ],
      "8 and 10 are threads of 7; 9 is a process",
    );
  });
  it("an exec by a second thread ('superseded by execve'): the new program under the leader's tid; forged lines change nothing", async () => {
    const f = join(dir, "superseded.log");
    writeFileSync(
      f,
      [
        '20 execve("./app", ["./app"], 0x7ffd /* 3 vars */) = 0',
        "20 clone(0x3d0f00, 0x7f5c, 0x7f5c, 0x7f5c, 0x7f5c) = 21",
        "20 pause( <unfinished ...>",
        '21 execve("/bin/cat", ["cat"], 0x7ffd /* 3 vars */ <unfinished ...>',
        // forged or damaged: a thread superseding itself, and an unknown thread: nothing happens
        "20 +++ superseded by execve in pid 20 +++",
        "20 +++ superseded by execve in pid 99999999999999999999 +++",
        "20 +++ superseded by execve in pid 21 +++",
        "20 <... execve resumed>) = 0",
        '20 read(0, "", 131072) = 0',
        "20 exit_group(0) = ?",
        "20 +++ exited with 0 +++",
        "",
      ].join("\n"),
    );
    for (const threads of [1, 4]) {
      const { profile, builder } = await profileFromLog(f, { threads });
      assert.deepEqual(
        profile.processes.map((p) => [p.exe, p.threads.map((t) => [t.tid, Object.keys(t.syscalls)])]),
        [
          // (the log's first exec: what ran before it is unknown)
          ["?", [[20, ["execve"]]]],
          [
            "./app",
            [
              [20, ["clone", "pause"]],
              [21, ["execve"]],
            ],
          ],
          ["/bin/cat", [[20, ["read", "exit_group"]]]],
        ].map(([exe, ts]) => [
          exe,
          (ts as [number, string[]][]).map(([t, n]) => [t, [...n].sort()]),
        ]) as never,
        `${threads} scanner thread(s)`,
      );
      assert.equal(profile.processes[2].exitStatus, 0);
      // the leader's pause never returned; the exec did
      assert.deepEqual([...builder.neverReturned()].sort(), [
        ["exit_group", 1],
        ["pause", 1],
      ]);
    }
  });
  it("a missing file is a clear error", async () => {
    await assert.rejects(profileFromLog(join(dir, "nope.log")), /cannot read .*nope\.log: ENOENT/);
  });
});

describe("strace line parser: result edge cases", () => {
  it("finds the result after padding and ignores ' = ' inside strings", () => {
    const padded = parseLine("8 close(0x3)      = 0 <0.000012>");
    assert.ok(padded?.kind === "call" && padded.ret === "0" && padded.argText === "0x3");
    const tricky = parseLine('8 write(1, "a) = 5 b", 8) = 8');
    assert.ok(tricky?.kind === "call" && tricky.ret === "8");
    assert.deepEqual(splitArgs((tricky as CallEvent).argText), ["1", '"a) = 5 b"', "8"]);
  });
});
