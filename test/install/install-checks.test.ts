// install()/lockdown()/run refuse wrong input before touching the kernel (no_new_privs stays unset), take
// action texts as a policy file would, and prove every install with the canary — a faked seccomp() stops
// the launch. The kernel runs these: an outer filter fakes the install.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { emulate } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import { SysfenceError } from "../../src/errors.js";
import { CANARY_NR, pickCanaryErrno, withCanary } from "../../src/install/canary.js";
import { checkInstallInput, checkOptions } from "../../src/install/install-input.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { CLI_PATH as CLI } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const INDEX = `${REPO}dist/src/index.js`;
const onLinux = process.platform === "linux" ? false : "needs Linux";

/** `sysfence run OUTER -- sysfence run @default @basic-io -- sh -c SCRIPT`. */
const nested = (outer: string[], script: string) =>
  spawnSync(
    process.execPath,
    [
      CLI,
      "run",
      ...outer,
      "--",
      process.execPath,
      CLI,
      "run",
      "@default",
      "@basic-io",
      "--",
      "sh",
      "-c",
      script,
    ],
    { encoding: "utf8", timeout: 20000 },
  );

/** Wrong inputs a JavaScript caller can pass, each with the error code it must get. */
const WRONG: [string, unknown, string][] = [
  ["undefined", undefined, "E_USAGE"],
  ["null", null, "E_USAGE"],
  ["a number", 42, "E_USAGE"],
  ["a path to no file", "/nonexistent/policy.yaml", "E_IO"],
  ["a function", () => 1, "E_USAGE"],
  ["an empty object", {}, "E_POLICY_INVALID"],
  ["rules not an array", { defaultAction: "allow", rules: 5 }, "E_POLICY_INVALID"],
  ["a rule without names", { defaultAction: "allow", rules: [{ action: "allow" }] }, "E_POLICY_INVALID"],
  [
    "a name that is not a string",
    { defaultAction: "allow", rules: [{ names: [7], action: "allow" }] },
    "E_POLICY_INVALID",
  ],
  ["an unknown action text", { defaultAction: "deny-everything" }, "E_POLICY_INVALID"],
  ["an action kind typo", { defaultAction: { kind: "alow" } }, "E_POLICY_INVALID"],
  ["errno without a number", { defaultAction: { kind: "errno" } }, "E_POLICY_INVALID"],
  ["errno above 4095", { defaultAction: { kind: "errno", data: 70000 } }, "E_POLICY_INVALID"],
  ["an unknown architecture", { defaultAction: "allow", architectures: ["vax"] }, "E_POLICY_INVALID"],
  [
    "an argument index 6",
    {
      defaultAction: "allow",
      rules: [{ names: ["write"], action: "allow", conditions: [{ arg: 6, op: "==", value: 1 }] }],
    },
    "E_POLICY_INVALID",
  ],
  [
    "a condition value that is a float",
    {
      defaultAction: "allow",
      rules: [{ names: ["write"], action: "allow", conditions: [{ arg: 0, op: "==", value: 1.5 }] }],
    },
    "E_POLICY_INVALID",
  ],
  ["an unknown field", { defaultAction: "allow", rules: [], bogus: 1 }, "E_POLICY_INVALID"],
  ["a document of no format", { hello: "world" }, "E_POLICY_INVALID"],
  ["an OCI profile with a bad action", { defaultAction: "SCMP_ACT_NOPE", syscalls: [] }, "E_POLICY_INVALID"],
  ["an empty program", [], "E_BPF_INVALID"],
  ["an instruction with a string code", [{ code: "6", jt: 0, jf: 0, k: 0 }], "E_BPF_INVALID"],
  ["a jump past the end", [{ code: 0x15, jt: 9, jf: 9, k: 0 }], "E_BPF_INVALID"],
  [
    "a program of 5000 returns",
    Array.from({ length: 5000 }, () => ({ code: 6, jt: 0, jf: 0, k: 0x7fff0000 })),
    "E_BPF_INVALID",
  ],
  ["k above 32 bits", [{ code: 6, jt: 0, jf: 0, k: 2 ** 40 }], "E_BPF_INVALID"],
];

describe("install input checks (pure)", () => {
  for (const [what, input, code] of WRONG) {
    it(`refuses ${what} with ${code}`, () => {
      assert.throws(
        () => checkInstallInput(input, "lockdown"),
        (e: unknown) => e instanceof SysfenceError && e.code === code && /^lockdown\(\)/.test(e.message),
      );
    });
  }
  it("refuses bad options: not an object, unknown keys, non-boolean values", () => {
    for (const o of [5, "tsync", { tsync: "yes" }, { log: 1 }, { tsynk: true }])
      assert.throws(() => checkOptions(o, ["tsync", "log"], "install"), /install\(\) options/);
    assert.deepEqual(checkOptions({ log: true }, ["tsync", "log"], "install"), { log: true });
  });
  it("takes action texts and condition texts as a policy file would", () => {
    const p = checkInstallInput(
      {
        defaultAction: "errno EPERM",
        rules: [{ names: ["write"], action: "allow", conditions: ["arg0 == 1"] }],
      },
      "install",
    );
    assert.ok(!Array.isArray(p));
    assert.deepEqual(p.defaultAction, { kind: "errno", data: 1 });
    assert.deepEqual(p.rules[0].action, { kind: "allow" });
    assert.equal(p.rules[0].conditions[0].value, 1n);
    assert.deepEqual(p.badArchAction, { kind: "kill-process" });
  });
  it("passes parsePolicy's output through unchanged in meaning", () => {
    const { policy } = parsePolicy(
      "defaultAction: kill-process\nsyscalls:\n  - names: [write]\n    action: allow\n    args: [arg0 == 1]\n",
      { file: "p.yaml" },
    );
    const checked = checkInstallInput(policy, "lockdown");
    assert.deepEqual(compile(checked as typeof policy).program, compile(policy).program);
  });
});

describe("the canary (emulated)", () => {
  const { policy } = parsePolicy(
    "defaultAction: kill-process\narchitectures: [x86_64, i386]\nsyscalls:\n  - names: [read, write, exit_group]\n    action: allow\n",
    { file: "p.yaml" },
  );
  const program = compile(policy).program;
  const audit = ARCHES.x86_64.audit;
  const armed = withCanary(program, audit, 3333);
  it("answers the reserved number with the chosen errno on the native arch", () => {
    assert.equal(emulate(armed, { nr: CANARY_NR, arch: audit }).value, 0x00050000 | 3333);
    assert.equal(emulate(program, { nr: CANARY_NR, arch: audit }).value, 0x80000000, "kill without it");
  });
  it("changes no other decision (every number 0..1100, both arches, odd numbers)", () => {
    for (const arch of [audit, ARCHES.i386.audit, ARCHES.aarch64.audit])
      for (const nr of [
        ...Array.from({ length: 1101 }, (_, i) => i),
        0x40000000,
        0xffffffff,
        CANARY_NR + 1,
      ]) {
        if (arch === audit && nr === CANARY_NR) continue;
        const q = { nr, arch, args: [1n, 2n, 0n, 0n, 0n, 0n] };
        assert.equal(emulate(armed, q).value, emulate(program, q).value, `arch ${arch} nr ${nr}`);
      }
    // i386's number CANARY_NR keeps the program's answer: only the native arch is armed
    assert.equal(emulate(armed, { nr: CANARY_NR, arch: ARCHES.i386.audit }).value, 0x80000000);
  });
  it("picks an errno that differs from what the number answers already", () => {
    const always = () => 0.5;
    const e = pickCanaryErrno(0, always);
    assert.ok(e >= 3000 && e <= 4095);
    let n = 0;
    const seq = () => [0.5, 0.5, 0.1][n++ % 3];
    assert.notEqual(pickCanaryErrno(e, seq), e);
  });
});

describe("install checks on the real kernel", { skip: onLinux }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-install-"));
  const script = (body: string) => {
    const f = join(dir, `s${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(
      f,
      `import * as sf from ${JSON.stringify(INDEX)};\nimport { readFileSync } from "node:fs";\n${body}`,
    );
    return f;
  };
  const nnp = 'readFileSync("/proc/self/status","utf8").match(/NoNewPrivs:\\s*(\\d)/)[1]';

  it("a refused lockdown() leaves no_new_privs unset and no filter", () => {
    const f = script(`
const inputs = [undefined, null, 42, {}, { defaultAction: "allow", rules: 5 }, [], [{ code: "6" }],
  { defaultAction: { kind: "alow" } }, { defaultAction: "allow", rules: [{ names: ["nosuchcall"], action: "allow" }] }];
const out = [];
for (const i of inputs) {
  try { sf.lockdown(i); out.push("installed"); } catch (e) { out.push(e instanceof sf.SysfenceError ? e.code : "raw " + e.name); }
}
try { sf.lockdown({ defaultAction: "allow" }, { tsync: true }); } catch (e) { out.push(e.code); }
out.push("nnp=" + ${nnp});
out.push("seccomp=" + readFileSync("/proc/self/status","utf8").match(/Seccomp:\\s*(\\d)/)[1]);
console.log(out.join(" "));
`);
    const r = spawnSync(process.execPath, [f], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      "E_USAGE E_USAGE E_USAGE E_POLICY_INVALID E_POLICY_INVALID E_BPF_INVALID E_BPF_INVALID E_POLICY_INVALID E_UNKNOWN_SYSCALL E_USAGE nnp=0 seccomp=0",
    );
  });

  it("a policy object with action texts is enforced as written (not as kill-thread)", () => {
    const f = script(`
import { mkdirSync } from "node:fs";
sf.lockdown({ defaultAction: "allow", rules: [{ names: ["mkdir", "mkdirat"], action: "errno EACCES" }] });
try { mkdirSync(${JSON.stringify(join(dir, "nope"))}); console.log("made"); } catch (e) { console.log(e.code); }
console.log("nnp=" + ${nnp});
`);
    const r = spawnSync(process.execPath, [f], { encoding: "utf8", timeout: 20000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "EACCES\nnnp=1\n");
  });

  it("a faked seccomp() (an outer filter answering it with 0) is caught by the canary", () => {
    // the outer filter lets the availability probe (a NULL program) fail with EFAULT as a real kernel
    // does, and answers every real install "success" without installing anything
    const fake = join(dir, "fake.yaml");
    writeFileSync(
      fake,
      "defaultAction: allow\nsyscalls:\n  - names: [seccomp]\n    action: errno EFAULT\n    args: [arg2 == 0]\n  - names: [seccomp]\n    action: errno 0\n    args: [arg2 != 0]\n",
    );
    const inner = script(`
try { sf.lockdown({ defaultAction: "allow", rules: [{ names: ["mkdir", "mkdirat"], action: "errno EACCES" }] }); console.log("went on"); }
catch (e) { console.log(e.code + ": " + e.message); }
`);
    const r = spawnSync(process.execPath, [CLI, "run", "--policy", fake, "--", process.execPath, inner], {
      encoding: "utf8",
      timeout: 20000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^E_INSTALL_FAILED: seccomp\(\) reported success but the filter is not in force: the canary syscall 65520 answered errno \d+, not \d+/,
    );
    // sysfence run under the same outer filter refuses to exec the command
    const run = nested(["--policy", fake], "echo RAN");
    assert.notEqual(run.status, 0);
    assert.doesNotMatch(run.stdout, /RAN/);
    assert.match(run.stderr, /the filter is not in force/);
  });

  it("a real install answers the canary; nested sysfence launches each prove their own filter", () => {
    const r = nested(["@default", "@system-service", "seccomp"], "echo nested");
    assert.equal(r.stdout, "nested\n", r.stderr);
  });
});
