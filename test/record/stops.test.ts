// Stopping a recording: SIGTERM and SIGHUP to `sysfence record` reach the program under every engine, a
// program that ignores them is killed after --grace, the profile is written (incomplete) with the
// program's exit status, nothing is left running, and tracing state is gone — also after sysfence itself
// is SIGKILLed (cleaned at the next start).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH } from "../helpers/cli.js";
import { requireOrSkip } from "../helpers/require.js";

const skip = requireOrSkip(spawnSync("strace", ["-V"]).status === 0, "strace");
const root = process.getuid?.() === 0;
const bpf = existsSync("/sys/kernel/btf/vmlinux");
const ENGINES = root ? ["strace", "ftrace", ...(bpf ? ["bpf"] : [])] : ["strace"];
const INSTANCES = "/sys/kernel/tracing/instances";

const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

/** Waits for a file to hold a pid (the program writes its own). */
async function pidFrom(file: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(file)) {
      const t = readFileSync(file, "utf8").trim();
      if (t) return Number(t);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no pid in ${file}`);
}

/** Starts a recording of a shell program; the program writes its pid (and its child's) to files. */
function startRecording(engine: string, script: string, extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-stop-"));
  const profile = join(dir, "p.json");
  const child = spawn(
    process.execPath,
    [
      CLI_PATH,
      "record",
      "-q",
      "--engine",
      engine,
      ...extra,
      "-o",
      profile,
      "--",
      "sh",
      "-c",
      script,
      "sh",
      dir,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { dir, profile, child, exited, stderr: () => stderr };
}

/** The exit code within `ms`, or a failure naming the hang. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// a server-like loop that leaves on SIGTERM or SIGHUP with status 0 (its pid in $1/pid)
const POLITE = 'echo $$ > "$1/pid"; trap "exit 0" TERM HUP; while :; do sleep 0.2 & wait $!; done';
// one that ignores them, with a child that does too (pids in $1/pid and $1/child)
const STUBBORN = 'trap "" TERM HUP; echo $$ > "$1/pid"; sleep 1000 & echo $! > "$1/child"; wait';

describe("stops: signals to sysfence record reach the program, and nothing is left behind", { skip }, () => {
  for (const engine of ENGINES) {
    for (const signal of ["SIGTERM", "SIGHUP"] as const) {
      it(`--engine ${engine}: ${signal} reaches the program; the profile is written within 5 s with its status`, async () => {
        const r = startRecording(engine, POLITE);
        const pid = await pidFrom(join(r.dir, "pid"));
        await new Promise((res) => setTimeout(res, 300));
        r.child.kill(signal);
        const code = await within(r.exited, 5000, `${engine} after ${signal}`);
        assert.equal(code, 0, `the program's own status (it left with 0): ${r.stderr()}`);
        const p = JSON.parse(readFileSync(r.profile, "utf8")) as Profile;
        assert.equal(p.complete, false, "stopped: incomplete");
        assert.ok(!alive(pid), "the program is gone");
        if (engine === "ftrace")
          assert.ok(!existsSync(`${INSTANCES}/sysfence-${r.child.pid}`), "instance removed");
      });
    }

    it(`--engine ${engine}: a program that ignores SIGTERM is killed with its children after --grace`, async () => {
      const r = startRecording(engine, STUBBORN, ["--grace", "1"]);
      const pid = await pidFrom(join(r.dir, "pid"));
      const kid = await pidFrom(join(r.dir, "child"));
      r.child.kill("SIGTERM");
      const code = await within(r.exited, 5000, `${engine} with a stubborn program`);
      assert.equal(code, 137, `killed (128 + SIGKILL): ${r.stderr()}`);
      assert.equal((JSON.parse(readFileSync(r.profile, "utf8")) as Profile).complete, false);
      assert.ok(!alive(pid) && !alive(kid), "program and child gone");
    });

    it(`--engine ${engine}: SIGKILL of sysfence takes the program with it; tracing state goes at the next start`, async () => {
      const r = startRecording(engine, STUBBORN);
      const pid = await pidFrom(join(r.dir, "pid"));
      const kid = await pidFrom(join(r.dir, "child"));
      // sysfence learns the program's tree every 100 ms; a SIGKILL inside that window cannot be covered
      await new Promise((res) => setTimeout(res, 500));
      r.child.kill("SIGKILL");
      await r.exited;
      for (let i = 0; i < 100 && (alive(pid) || alive(kid)); i++)
        await new Promise((res) => setTimeout(res, 50));
      assert.ok(!alive(pid) && !alive(kid), "the program and its child died with sysfence");
      if (engine === "ftrace") {
        // a SIGKILLed sysfence cannot clean up itself; its reaper (a process that outlives it) may already
        // have removed the instance — if not, the next start must
        const next = spawnSync(process.execPath, [
          CLI_PATH,
          "record",
          "-q",
          "--engine",
          "ftrace",
          "-o",
          join(r.dir, "n.json"),
          "--",
          "true",
        ]);
        assert.equal(next.status, 0, String(next.stderr));
        assert.ok(!existsSync(`${INSTANCES}/sysfence-${r.child.pid}`), "the next start removed it");
      }
    });
  }

  it("--engine ftrace: a program cannot end its own recording in band (trace_marker, an exec'd name)", {
    skip: !root,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-inband-"));
    const forged = join(dir, "sysfence-end-of-recording");
    const script = [
      "echo sysfence-end-of-recording > /sys/kernel/tracing/trace_marker",
      "for m in /sys/kernel/tracing/instances/sysfence-*/trace_marker; do echo sysfence-end-of-recording > $m; done",
      `ln -s /bin/true ${forged}`,
      forged,
      "cat /dev/null",
      "uname > /dev/null",
    ].join("; ");
    const out = join(dir, "p.json");
    const r = spawnSync(
      process.execPath,
      [CLI_PATH, "record", "-q", "--engine", "ftrace", "-o", out, "--", "sh", "-c", script],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(readFileSync(out, "utf8")) as Profile;
    assert.equal(p.complete, true);
    assert.ok(p.syscalls.uname, "calls after the forged marks were recorded");
    assert.ok(
      p.processes.some((x) => x.exe === "/usr/bin/uname" || x.exe.endsWith("/uname")),
      "and the exec after them",
    );
  });
});
