// Every engine starts the program as `sysfence run` does: argv (argv[0] included), environment, cwd,
// umask, inherited descriptors, stdin, process group, ignored and blocked signals — compared as the
// program itself reports them (test/fixtures/launch-probe.c).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, it } from "node:test";
import { CLI_PATH } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const skip = requireOrSkip(spawnSync("strace", ["-V"]).status === 0, "strace");
const root = process.getuid?.() === 0;

describe("launch fidelity: what the program sees is the same under every engine and under run", {
  skip,
}, () => {
  const dir = mkdtempSync(`${tmpdir()}/sysfence-launch-`);
  const probe = `${dir}/launch-probe`;
  execFileSync("gcc", ["-O2", "-o", probe, `${REPO}test/fixtures/launch-probe.c`]);
  const extra = `${dir}/inherited.txt`;

  /** The probe's report when sysfence starts it with `args` (a shell sets umask and opens fd 5 first). */
  function launch(args: string[]): string {
    // fd 20: Node marks fds 0–15 (and any contiguous run after) close-on-exec at start-up, so a
    // descriptor sysfence itself inherits there is the one thing no Node launcher can pass on
    const cmd = `umask 027; exec 20<"$EXTRA"; exec "$NODE" "$CLI" "$@"`;
    const r = spawnSync("bash", ["-c", cmd, "bash", ...args], {
      cwd: dir,
      input: "the input",
      encoding: "utf8",
      env: {
        PATH: `${dir}:/usr/bin:/bin`,
        EXTRA: extra,
        NODE: process.execPath,
        CLI: CLI_PATH,
        FOO: "bar baz",
        EMPTY: "",
      },
    });
    assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }
  openSync(extra, "w");
  const argv = ["launch-probe", "two words", "", "--flag"];
  const program = () => {
    const ownPgrp = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ")[2];
    return ownPgrp;
  };
  // the names differ by engine; what the program reports must not, except where noted
  const seen = (out: string) => out.replace(/^env (EXTRA|NODE|CLI)=.*\n/gm, "");

  it("run, record --engine strace and record --engine ftrace give the program the same launch", () => {
    const base = launch(["run", "--deny", "reboot", "--", ...argv]);
    assert.match(base, /^argv\[0\]=launch-probe$/m, "argv[0] as given, not the resolved path");
    assert.match(base, /^argv\[2\]=$/m);
    assert.match(base, /^cwd=.*sysfence-launch-/m);
    assert.match(base, /^umask=027$/m);
    assert.match(base, /^env FOO=bar baz$/m);
    // (descriptors the test runner itself inherited may follow; every engine must show the same list)
    assert.match(base, /^fds=0 1 2 20 /m, "inherited fd 20 kept");
    assert.match(base, /^stdin=the input$/m);
    assert.match(base, /^SigIgn:\s+0+$/m, "no signal left ignored (Node ignores SIGPIPE)");
    assert.match(base, /^SigBlk:\s+0+$/m);
    const pgrp = /^pgrp=(\d+)$/m.exec(base)?.[1];
    assert.equal(pgrp, program(), "the process group of whoever started sysfence (job control works)");
    const bpf = existsSync("/sys/kernel/btf/vmlinux");
    const engines = root ? ["strace", "ftrace", ...(bpf ? ["bpf"] : [])] : ["strace"];
    for (const engine of engines) {
      const out = launch(["record", "-q", "--engine", engine, "-o", `${dir}/${engine}.json`, "--", ...argv]);
      assert.equal(seen(out), seen(base), `--engine ${engine} launches differently from run`);
    }
  });
});
