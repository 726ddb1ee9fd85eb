// A policy for other architectures is refused by run, install() and lockdown(): they used to add the native
// arch and enforce it, so an aarch64-only policy that `emu` says kills every x86_64 call let programs run.
// compile and emu keep answering the native ABI with badArchAction. The kernel runs the install paths.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { emulate } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import { SysfenceError } from "../../src/errors.js";
import { checkNativeListed, programOf } from "../../src/install/install.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { ARCHES, nativeArch } from "../../src/syscalls/arches.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { CLI_PATH as CLI } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const INDEX = `${REPO}dist/src/index.js`;
const BUSYBOX = "/bin/busybox";
const skip =
  process.platform !== "linux" || nativeArch() !== "x86_64"
    ? "needs Linux on x86_64"
    : !existsSync(BUSYBOX)
      ? "needs /bin/busybox (busybox-static)"
      : false;

const policyText = (arches: string) =>
  `defaultAction: allow\n${arches}syscalls:\n  - names: [reboot]\n    action: errno EPERM\n`;

describe("a policy for foreign architectures (pure)", () => {
  it("is refused naming what it lists, the machine's arch and the fix; none listed means this machine", () => {
    const only = parsePolicy(policyText("architectures: [aarch64]\n"), { file: "arm.yaml" }).policy;
    assert.throws(
      () => checkNativeListed(only, "run", "x86_64"),
      (e: unknown) =>
        e instanceof SysfenceError &&
        e.code === "E_POLICY_INVALID" &&
        /^arm\.yaml: the policy lists the architectures aarch64 but not x86_64/.test(e.message) &&
        /badArchAction \(kill-process\)/.test(e.message) &&
        /Add x86_64 to its architectures/.test(e.message) &&
        /Nothing was run\.$/.test(e.message),
    );
    const x32 = { ...only, architectures: ["x32" as const] };
    assert.throws(() => checkNativeListed(x32, "installed", "x86_64"), /x32 is a separate ABI/);
    checkNativeListed({ ...only, architectures: ["aarch64", "x86_64"] }, "run", "x86_64");
    checkNativeListed({ ...only, architectures: [] }, "run", "x86_64");
    // the format's default (no key) is the machine's: programOf compiles it
    const none = parsePolicy(policyText(""), { file: "none.yaml" }).policy;
    assert.deepEqual(none.architectures, [nativeArch()]);
    assert.ok(programOf(none).length > 0);
    assert.ok(programOf({ ...none, architectures: [] }).length > 0);
  });
  it("compile still answers the native ABI with badArchAction (as emu shows)", () => {
    const only = parsePolicy(policyText("architectures: [aarch64]\n"), { file: "arm.yaml" }).policy;
    const { program } = compile(only, { stats: false });
    const nr = syscallNumber("x86_64", "getpid") ?? 39;
    assert.equal(emulate(program, { nr, arch: ARCHES.x86_64.audit }).value, 0x80000000);
  });
});

describe("a policy for foreign architectures on the real kernel", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-arch-"));
  const file = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  for (const arch of ["aarch64", "x32"]) {
    it(`run --policy refuses an ${arch}-only policy; busybox touch never runs`, () => {
      const policy = file(`${arch}.yaml`, policyText(`architectures: [${arch}]\n`));
      const target = join(dir, `touched-${arch}`);
      const env = { ...process.env, XDG_CACHE_HOME: join(dir, `cache-${arch}`) };
      for (const attempt of ["first", "second (after a cache would have been filled)"]) {
        const r = spawnSync(
          process.execPath,
          [CLI, "run", "--policy", policy, "--", BUSYBOX, "touch", target],
          {
            encoding: "utf8",
            env,
            timeout: 20000,
          },
        );
        assert.equal(r.status, 125, `${attempt}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`lists the architectures ${arch} but not x86_64`));
        assert.match(r.stderr, /Nothing was run\./);
        assert.equal(existsSync(target), false, `${attempt}: busybox touch ran`);
      }
    });
  }

  it("run --policy with x86_64 listed (or no architectures key) runs busybox touch", () => {
    for (const [name, arches] of [
      ["both", "architectures: [aarch64, x86_64]\n"],
      ["none", ""],
    ]) {
      const target = join(dir, `touched-${name}`);
      const r = spawnSync(
        process.execPath,
        [CLI, "run", "--policy", file(`${name}.yaml`, policyText(arches)), "--", BUSYBOX, "touch", target],
        { encoding: "utf8", env: { ...process.env, XDG_CACHE_HOME: join(dir, "cache-ok") }, timeout: 20000 },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(existsSync(target), true, name);
    }
  });

  for (const fn of ["install", "lockdown"]) {
    it(`${fn}() refuses an aarch64-only policy before touching the kernel; busybox touch is not reached`, () => {
      const target = join(dir, `touched-${fn}`);
      const script = file(
        `${fn}.mjs`,
        `import * as sf from ${JSON.stringify(INDEX)};
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
const status = () => readFileSync("/proc/self/status", "utf8");
try {
  sf.${fn}({ defaultAction: "allow", architectures: ["aarch64"], rules: [{ names: ["reboot"], action: "errno EPERM" }] });
} catch (e) {
  console.log(e.code, "nnp=" + status().match(/NoNewPrivs:\\s*(\\d)/)[1], "seccomp=" + status().match(/Seccomp:\\s*(\\d)/)[1]);
  console.log(e.message);
  process.exit(3);
}
execFileSync(${JSON.stringify(BUSYBOX)}, ["touch", ${JSON.stringify(target)}]);
`,
      );
      const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 20000 });
      assert.equal(r.status, 3, r.stdout + r.stderr);
      const [first, message] = r.stdout.split("\n");
      assert.equal(first, "E_POLICY_INVALID nnp=0 seccomp=0");
      assert.match(message, /lists the architectures aarch64 but not x86_64.*Nothing was installed\./);
      assert.equal(existsSync(target), false);
    });
  }
});
