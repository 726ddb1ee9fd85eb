// A logging install writes nothing to the kernel log on sysfence's own account: no canary record
// (syscall 65520) and no record for an answer the policy gives on purpose (clone3 ENOSYS: one per new
// thread), while its other errno answers are still logged (the positive control). The filters are proven
// by the thread's Seccomp_filters count, which a faked seccomp() cannot move.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { emulate } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import { CANARY_NR } from "../../src/install/canary.js";
import { filterCountOf } from "../../src/install/proof.js";
import { deliberateRules, splitProgram } from "../../src/install/quiet.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { syscallNumber, syscallTable } from "../../src/syscalls/table.js";
import { CLI_PATH as CLI } from "../helpers/cli.js";
import { countedRecords } from "../helpers/klog.js";
import { REPO } from "../helpers/paths.js";

const INDEX = `${REPO}dist/src/index.js`;
const root =
  process.platform === "linux" && process.getuid?.() === 0 ? false : "needs Linux and root (dmesg)";
const NR = { clone3: 435, getppid: 110 };

const POLICY = `defaultAction: allow
flags: [log]
syscalls:
  - names: [clone3]
    action: errno ENOSYS
  - names: [io_uring_setup, io_uring_enter]
    action: errno ENOSYS
  - names: [getppid]
    action: errno EPERM
    args: [arg0 == 0]
`;

describe("the quiet filter (pure)", () => {
  it("takes the unconditional errno answers given on purpose, not the unseen-call or argument ones", () => {
    const { policy } = parsePolicy(
      `defaultAction: kill-process
syscalls:
  - names: [clone3]
    action: errno ENOSYS
  - names: [setuid]
    action: errno EPERM
    tier: static-high
  - names: [getppid, getpid]
    action: errno EPERM
  - names: [getpid]
    action: allow
    args: [arg0 == 1]
  - names: ["@debug"]
    action: errno EPERM
  - names: [write]
    action: allow
`,
      { file: "p.yaml" },
    );
    assert.deepEqual(
      deliberateRules(policy).map((r) => r.names),
      [["clone3"], ["getppid"]],
    );
    const x86 = { ...policy, architectures: ["x86_64" as const] };
    const split = splitProgram(x86, { stats: false });
    assert.ok(split);
    const whole = compile(x86, { stats: false }).program;
    const arch = ARCHES.x86_64.audit;
    const run = (p: readonly (typeof whole)[number][], nr: number, a0 = 0n) =>
      emulate(p, { nr, arch, args: [a0, 0n, 0n, 0n, 0n, 0n] }).value >>> 0;
    const answer = (name: string) => run(split.quiet, syscallNumber("x86_64", name) as number);
    assert.equal(answer("clone3"), 0x00050000 | 38);
    assert.equal(answer("getppid"), 0x00050000 | 1);
    for (const n of ["setuid", "getpid", "ptrace", "write", "read"]) assert.equal(answer(n), 0x7fff0000, n);
    // the kernel's choice over both (quiet installed first): the most restrictive action, the newer
    // (loud) filter on a tie — the policy's own answer for every call, the deliberate ones from quiet
    const action = (v: number) => (v & 0xffff0000) | 0;
    for (const nr of [...Object.values(syscallTable("x86_64")), 0xfff0, 999])
      for (const a0 of [0n, 1n]) {
        const q = run(split.quiet, nr, a0);
        const l = run(split.loud, nr, a0);
        const kernel = action(q) < action(l) ? q : l;
        assert.equal(kernel, run(whole, nr, a0), `nr ${nr} arg0 ${a0}`);
        assert.equal(action(q) < action(l), action(q) === 0x00050000 && [435, 110].includes(nr), `nr ${nr}`);
      }
  });
  it("reads the filter count from a status file", () => {
    assert.equal(filterCountOf("Seccomp:\t2\nSeccomp_filters:\t3\nSpeculation_Store_Bypass:\tx\n"), 3);
    assert.equal(filterCountOf("Seccomp:\t0\n"), undefined);
  });
});

describe("a logging run on the real kernel", { skip: root }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-quiet-"));
  const bin = join(dir, "threads-log");
  execFileSync("gcc", [
    "-O2",
    "-Wall",
    "-Werror",
    "-pthread",
    "-o",
    bin,
    `${REPO}test/fixtures/threads-log.c`,
  ]);
  const policy = join(dir, "p.yaml");
  writeFileSync(policy, POLICY);

  // with a Landlock layer too: it is applied before the filters, and /proc is outside its paths
  const landlocked = join(dir, "landlock.yaml");
  writeFileSync(
    landlocked,
    POLICY.replace(
      "syscalls:",
      "landlock:\n  read: [/usr, /lib, /lib64, /etc, /tmp]\n  execute: [/usr, /lib, /lib64, /tmp]\nsyscalls:",
    ),
  );
  for (const [what, file] of [
    ["", policy],
    [" (with a Landlock layer that does not reach /proc)", landlocked],
  ] as const)
    it(`logs the policy's other answers but no canary and no clone3 ENOSYS for its threads${what}`, async () => {
      let out = "";
      const nrs = await countedRecords(() => {
        const r = spawnSync(process.execPath, [CLI, "run", "--policy", file, "--", bin, "3"], {
          encoding: "utf8",
        });
        assert.equal(r.status, 0, r.stderr);
        out = r.stdout;
        return r.pid as number;
      }, NR.getppid);
      assert.equal(
        out,
        "threads 3 getppid EPERM\n",
        "clone3 still answered ENOSYS (libc fell back to clone)",
      );
      assert.deepEqual(
        nrs.filter((n) => n === CANARY_NR),
        [],
        "no canary record",
      );
      assert.deepEqual(
        nrs.filter((n) => n === NR.clone3),
        [],
        "no record for the deliberate clone3 answer",
      );
      assert.deepEqual(nrs, [NR.getppid], "the conditional errno answer is logged once");
    });

  it("a faked logging install (the outer filter fakes only seccomp() calls with the log flag) is caught", () => {
    const fake = join(dir, "fake.yaml");
    writeFileSync(
      fake,
      "defaultAction: allow\nsyscalls:\n  - names: [seccomp]\n    action: errno EFAULT\n    args: [arg2 == 0]\n  - names: [seccomp]\n    action: errno 0\n    args: [arg1 & 2 == 2]\n",
    );
    const inner = join(dir, "inner.mjs");
    writeFileSync(
      inner,
      `import * as sf from ${JSON.stringify(INDEX)};
try { sf.lockdown({ defaultAction: "allow", flags: ["log"], rules: [{ names: ["clone3"], action: "errno ENOSYS" }] }); console.log("went on"); }
catch (e) { console.log(e.code + ": " + e.message); }
`,
    );
    const r = spawnSync(process.execPath, [CLI, "run", "--policy", fake, "--", process.execPath, inner], {
      encoding: "utf8",
      timeout: 20000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^E_INSTALL_FAILED: seccomp\(\) reported success but the filters are not in force: Seccomp_filters in \/proc\/thread-self\/status is \d+ after 2 install\(s\), not \d+/,
    );
    // the same policy, really installed, goes on
    const ok = spawnSync(process.execPath, [inner], { encoding: "utf8", timeout: 20000 });
    assert.equal(ok.stdout, "went on\n", ok.stderr);
  });
});
