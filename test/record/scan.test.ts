import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { nthArg, parseLine } from "../../src/record/engines/strace/parse.js";
import {
  LineScanner,
  RET_ERROR,
  RET_NEVER,
  RET_OK,
  RET_UNKNOWN,
  SCAN_CALL,
  SCAN_RESUME,
  SCAN_SLOW,
  SCAN_UNFINISHED,
} from "../../src/record/engines/strace/scan.js";
import { REPO } from "../helpers/paths.js";

const RETS = { [RET_OK]: "ok", [RET_ERROR]: "error", [RET_NEVER]: "never", [RET_UNKNOWN]: "unknown" };
const KINDS = { [SCAN_CALL]: "call", [SCAN_UNFINISHED]: "unfinished", [SCAN_RESUME]: "resume" };

/** What the adapter reads from a line the general parser understood (undefined: not a call). */
function parsed(line: string): unknown {
  const e = parseLine(line);
  if (!e || (e.kind !== "call" && e.kind !== "resume")) return undefined;
  const ret =
    e.ret === undefined ? "unknown" : e.ret === "?" ? "never" : e.ret === "-1" && e.errno ? "error" : "ok";
  const args = Array.from({ length: 7 }, (_, k) => nthArg(e.argText, k));
  return {
    kind: e.kind === "resume" ? "resume" : e.unfinished ? "unfinished" : "call",
    pid: e.pid,
    time: e.time,
    name: e.name,
    ret,
    errno: e.errno,
    args,
  };
}

const scanner = new LineScanner();
/** The same, read by the byte scanner; "slow" when it leaves the line to the general parser. */
function scanned(line: string): unknown {
  const buf = Buffer.from(`${line}\n`);
  const k = scanner.scan(buf, 0, buf.length - 1);
  if (k === SCAN_SLOW) return "slow";
  const t = scanner.time();
  const args = Array.from({ length: 7 }, (_, i) =>
    scanner.nthArg(buf, i) ? buf.toString("utf8", scanner.spanStart, scanner.spanEnd) : undefined,
  );
  return {
    kind: KINDS[k as 1 | 2 | 3],
    pid: scanner.pid,
    time: Number.isNaN(t) ? undefined : t,
    name: scanner.name.text,
    ret: RETS[scanner.ret as 0 | 1 | 2 | 3],
    errno: scanner.errno?.text,
    args,
  };
}

/** The scanner either leaves a line to the general parser or reads it exactly as that parser does. */
function agree(line: string): void {
  const s = scanned(line);
  if (s !== "slow") assert.deepEqual(s, parsed(line), line);
}

/** A real strace log of a shell script, in the format sysfence records with. */
function straceLog(dir: string, script: string): string {
  const log = join(mkdtempSync(join(tmpdir(), dir)), "log");
  spawnSync("strace", [
    "-f",
    "-ttt",
    "-X",
    "raw",
    "-e",
    "raw=!%file,clone3,connect,bind",
    "-o",
    log,
    "--",
    "sh",
    "-c",
    script,
  ]);
  return log;
}

const LINES = [
  '1234 1795331129.070001 openat(-100, "/etc/passwd", 0x80000) = 3',
  "1234 1795331129.070001 futex(0x7f0, 0x80, 0x2, 0) = -1 EAGAIN (Resource temporarily unavailable)",
  "1234 1795331129.070001 read(0x3, 0x7ffc, 0x340 <unfinished ...>",
  "1234 1795331129.070002 <... read resumed>) = 832",
  "99 exit_group(0)                   = ?",
  "99 +++ exited with 0 +++",
  "99 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---",
  '12 write(1, "a = b)", 5) = 5 <0.000012>',
  "[pid  42] 10:00:00.123 close(3) = 0",
  '7 execve("/bin/sh", ["sh", "-c", "x"], 0x7ffd /* 3 vars */) = 0',
  '7 execve("/bin/sh", ["sh"], 0x7ffd /* 3 vars, 1 cut */, 0x1) = 0',
  "7 clone3({flags=0x3d0f00, exit_signal=0, stack=0x7f}, 88) = 31050",
  "7 mmap(0, 0x1000, 0x3, 0x22, -1, 0) = 0x7f7c796d5000",
  "7 rt_sigreturn({mask=[]}) = 0",
  '7 connect(3, {sa_family=0x2, sin_port="\\x00\\x01"}, 16 <unfinished ...>',
  "strace: Process 7 attached",
  "not strace at all",
];

describe("the byte-level scanner agrees with the general parser", () => {
  it("on typical lines of every kind", () => {
    for (const l of LINES) agree(l);
    // the common shapes take the fast path
    for (const l of LINES.slice(0, 4)) assert.notEqual(scanned(l), "slow", l);
  });
  it("on every line of a real multi-process log", (t) => {
    if (spawnSync("strace", ["-V"]).status !== 0) return t.skip("strace is not installed");
    const log = straceLog(
      "sysfence-scan-",
      "ls -la /usr/bin | head -3; python3 -c 'import threading; t=threading.Thread(target=print); t.start(); t.join()'",
    );
    const lines = readFileSync(log, "utf8").split("\n").filter(Boolean);
    assert.ok(lines.length > 200);
    for (const l of lines) agree(l);
    assert.ok(lines.filter((l) => scanned(l) !== "slow").length > lines.length * 0.9, "most lines are fast");
  });
  it("on mutated and truncated lines (no crash, same answer)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...LINES), fc.nat(200), fc.string({ maxLength: 6 }), (line, cut, noise) => {
        const l = line.slice(0, cut % (line.length + 1)) + noise;
        agree(l);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("scanning a log with several threads", () => {
  it("gives the same profile as one thread, whatever the slice boundaries cut", async (t) => {
    if (spawnSync("strace", ["-V"]).status !== 0) return t.skip("strace is not installed");
    const { profileFromLog } = await import("../../src/record/engines/strace/strace.js");
    const { parsePhase } = await import("../../src/record/builder.js");
    const log = straceLog(
      "sysfence-par-",
      "ls -la /usr/bin >/dev/null; python3 -c 'import threading, socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(); t=threading.Thread(target=print); t.start(); t.join()'; cat /etc/hostname >/dev/null",
    );
    // a bad line in the middle, as a damaged log may have: both ways tolerate it and mark the profile
    const lines = readFileSync(log, "utf8").split("\n");
    lines.splice(lines.length >> 1, 0, "this line is not strace output");
    const text = lines.join("\n");
    writeFileSync(log, text);
    for (const phase of ["listen", "accept", "first:bind", "delay:0.02", undefined]) {
      const one = await profileFromLog(log, { threads: 1, phase: parsePhase(phase), phaseText: phase });
      for (const slice of [997, 4096, 65536]) {
        const many = await profileFromLog(log, {
          threads: 2,
          parallelFrom: 0,
          sliceBytes: slice,
          phase: parsePhase(phase),
          phaseText: phase,
        });
        assert.deepEqual(many.profile, one.profile, `slices of ${slice} bytes, phase ${phase}`);
      }
      assert.equal(one.profile.complete, false, "the bad line marks the profile incomplete");
    }
    assert.ok(text.length > 20000);
  });
});

describe("a log with more distinct paths than a profile keeps", () => {
  it("keeps every count, the first paths, and says how many uses it left out (no crash, no rescan)", async () => {
    const { profileFromLog } = await import("../../src/record/engines/strace/strace.js");
    // 48 MB of lines with distinct paths: a 35 MB log of a Python program once crashed the 48 MB worker heap
    const dir = mkdtempSync(join(tmpdir(), "sysfence-heap-"));
    const log = join(dir, "paths.log");
    const chunks: string[] = ['1000  execve("/usr/bin/python3", ["python3"], 0x7ffd /* 20 vars */) = 0\n'];
    let size = 0;
    let n = 0;
    while (size < 48 << 20) {
      const line = `1000  openat(AT_FDCWD, "/usr/lib/python3/${n.toString(36).padStart(8, "0")}${"x".repeat(110)}.py", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)\n`;
      chunks.push(line);
      size += line.length;
      n++;
    }
    chunks.push("1000  exit_group(0)                   = ?\n1000  +++ exited with 0 +++\n");
    writeFileSync(log, chunks.join(""));
    let note = "";
    for (const threads of [2, 1]) {
      const { profile } = await profileFromLog(log, {
        threads,
        onDegrade: (why) => {
          note = why;
        },
      });
      assert.equal(note, "", "no scanner ran out of memory");
      assert.equal(profile.syscalls.openat.setup + profile.syscalls.openat.work, n);
      assert.equal(profile.syscalls.openat.errors, n);
      assert.equal(profile.complete, true);
      const kept = Object.entries(profile.paths).filter(([p]) => p.endsWith(".py"));
      assert.equal(Object.keys(profile.paths).length, 20000, "the first 20000 distinct paths are kept");
      assert.ok(kept.length >= 19999);
      assert.equal(
        kept.reduce((a, [, c]) => a + c, 0) + (profile.pathsOmitted ?? 0),
        n,
        "every use is kept or counted",
      );
    }
  });
});

describe("folding ordinary call lines into tallies", () => {
  it("keeps every count, argument value, path, error and pending call of a multi-threaded server's log", async (t) => {
    if (spawnSync("strace", ["-V"]).status !== 0) return t.skip("strace is not installed");
    const { profileFromLog } = await import("../../src/record/engines/strace/strace.js");
    const { parsePhase } = await import("../../src/record/builder.js");
    // Node's worker threads leave most calls unfinished and resumed in the log: pairs cut by slice ends
    const log = straceLog(
      "sysfence-fold-",
      `${process.execPath} ${REPO}test/fixtures/mt-server.mjs; cat /etc/hostname`,
    );
    const text = readFileSync(log, "utf8");
    assert.ok((text.match(/resumed>/g) ?? []).length > 1000, "the log has many unfinished/resumed pairs");
    // logs cut in the middle of a line, as an interrupted recording leaves them (the last slice is read into
    // a buffer that held an earlier slice: nothing after the cut may be read)
    const cuts = [0.3, 0.5, 0.7].map((f, i) => {
      const cut = join(mkdtempSync(join(tmpdir(), "sysfence-fold-")), "log");
      writeFileSync(cut, text.slice(0, Math.floor(text.length * f) + 17 * i));
      return cut;
    });
    const cases: [string, string | undefined, { only?: string[]; exclude?: string[] } | undefined][] = [
      [log, undefined, undefined],
      [log, "accept", undefined],
      [log, "marker:ok", undefined],
      [log, "first:epoll_pwait", { exclude: ["cat"] }],
      [log, undefined, { only: ["cat"] }],
      ...cuts.map((cut) => [cut, "listen", undefined] as (typeof cases)[number]),
    ];
    for (const [file, phase, focus] of cases) {
      const opts = { phase: parsePhase(phase), phaseText: phase, focus };
      const one = await profileFromLog(file, { ...opts, threads: 1 });
      // the reference: every call an event of its own, nothing folded
      const ref = await profileFromLog(file, { ...opts, threads: 1, unfolded: true });
      assert.deepEqual(one.profile, ref.profile, `folded vs not, phase ${phase}`);
      assert.deepEqual(one.builder.neverReturned(), ref.builder.neverReturned());
      for (const slice of [1499, 65536]) {
        const many = await profileFromLog(file, { ...opts, threads: 2, parallelFrom: 0, sliceBytes: slice });
        const what = `slices of ${slice} bytes, phase ${phase}, focus ${JSON.stringify(focus)}`;
        assert.deepEqual(many.profile, one.profile, what);
        assert.deepEqual(many.builder.neverReturned(), one.builder.neverReturned(), what);
      }
    }
  });
});

describe("random logs, folded or not, in one thread or several", () => {
  it("give the same profile and never throw anything but 'not strace output'", async () => {
    const { profileFromLog } = await import("../../src/record/engines/strace/strace.js");
    const { parsePhase } = await import("../../src/record/builder.js");
    const dir = mkdtempSync(join(tmpdir(), "sysfence-rand-"));
    // lines of every kind, for a few threads, some mutated; pids vary so threads, clones and execs mix
    const line = fc
      .tuple(
        fc.constantFrom(...LINES),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(8),
        fc.string({ maxLength: 3 }),
      )
      .map(([l, pid, cut, noise]) => {
        const withPid = l.replace(/^\d+/, String(pid));
        return cut === 0 ? withPid.slice(0, Math.max(1, withPid.length - noise.length - 3)) + noise : withPid;
      });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 120 }),
        fc.constantFrom("listen", "first:read", "delay:0.000001", undefined),
        async (lines, phase) => {
          const file = join(dir, `log-${n++}`);
          writeFileSync(file, `${lines.join("\n")}\n`);
          const opts = { phase: parsePhase(phase), phaseText: phase };
          const read = async (o: object) => {
            try {
              const r = await profileFromLog(file, { ...opts, ...o });
              return { profile: r.profile, never: [...r.builder.neverReturned()] };
            } catch (e) {
              assert.match(String(e), /not strace output|is empty/);
              return { error: String(e) };
            }
          };
          const one = await read({ threads: 1 });
          assert.deepEqual(await read({ threads: 1, unfolded: true }), one);
          assert.deepEqual(await read({ threads: 2, parallelFrom: 0, sliceBytes: 173 }), one);
        },
      ),
      {
        numRuns: 100,
        examples: [
          // calls left pending in two threads, met in a different order folded and unfolded (CI, seed -1846505182)
          [
            [
              "3 clone3({flags=0x3d0f00, exit_signal=0, stack=0x7f}, 88) = 31",
              '3 connect(3, {sa_family=0x2, sin_port="\\x00\\x01"}, 16 <unfinished ...>',
              "1 1795331129.070001 read(0x3, 0x7ffc, 0x340 <unfinished ...>",
              '1 execve("/bin/sh", ["sh"], 0x7ffd /* 3 vars, 1 cut */, 0x1) = 0',
            ],
            "listen",
          ],
        ],
      },
    );
  });
});
