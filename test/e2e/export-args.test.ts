// A generated policy's argument rules under the engines its exports feed: runc (the OCI profile, compiled by
// runc's libseccomp) and the libseccomp-c export built with gcc. Values the rules allow work; any other value of
// fcntl, ioctl or socket is answered EPERM and the program goes on — never killed (issue 28 under Docker).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CLI_PATH } from "../helpers/cli.js";
import { exportTo, runcBundle } from "../helpers/deploy.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const have = (cmd: string, arg = "--version") => spawnSync(cmd, [arg]).status === 0;
const ready =
  process.platform === "linux" && process.arch === "x64" && process.getuid?.() === 0
    ? requireOrSkip(
        have("strace", "-V") &&
          have("runc") &&
          have("gcc") &&
          existsSync("/usr/include/seccomp.h") &&
          existsSync(CLI_PATH),
        "root, strace, runc, gcc, libseccomp-dev and a built CLI",
      )
    : "needs root on Linux x86_64";

/** What the recording does: F_GETFL, TCGETS (ENOTTY on a pipe), IPv4 and unix stream sockets. */
const RECORDED = ["fcntl:1:3", "ioctl:1:0x5401", "socket:2:1", "socket:1:1"];
/** Allowed by the generated rules (recorded, ordinary — IPv6 TCP —, or F_GETFL with garbage in the int's upper half). */
const ALLOWED = [...RECORDED, "fcntl:1:0x400000003", "fcntl:1:1", "socket:10:1"];
/** Refused: F_SETOWN, TIOCSTI, raw IPv4, raw unix, packet sockets, UDP over IPv6 (seen-only). */
const REFUSED = ["fcntl:1:8", "ioctl:1:0x5412", "socket:2:3", "socket:1:3", "socket:17:3", "socket:10:2"];

/** Each call's errno (0: it returned), and whether the program got to its end. */
function outcomes(stdout: string): { errno: Record<string, number>; done: boolean } {
  const errno: Record<string, number> = {};
  for (const m of stdout.matchAll(/^(\S+) rc=-?\d+ errno=(\d+)$/gm)) errno[m[1]] = Number(m[2]);
  return { errno, done: /^done$/m.test(stdout) };
}

function assertAnswers(engine: string, r: { status: number | null; stdout: string; stderr: string }): void {
  const o = outcomes(r.stdout);
  assert.ok(
    o.done && r.status === 0,
    `${engine}: ran to its end, exit 0 (${r.status}): ${r.stdout}${r.stderr}`,
  );
  for (const s of ALLOWED) assert.notEqual(o.errno[s], 1, `${engine}: ${s} is allowed`);
  for (const s of REFUSED) assert.equal(o.errno[s], 1, `${engine}: ${s} is answered EPERM`);
}

describe("export: argument fallbacks under runc and the libseccomp-c build", { skip: ready }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-export-args-"));
  chmodSync(dir, 0o755);
  const probe = join(dir, "arg-calls");
  const policy = join(dir, "policy.yaml");

  it("records and generates a policy with argument rules on fcntl, ioctl and socket", () => {
    execFileSync("gcc", ["-O2", "-Wall", "-Werror", "-o", probe, `${REPO}test/fixtures/arg-calls.c`]);
    const profile = join(dir, "profile.json");
    const rec = spawnSync(
      process.execPath,
      [CLI_PATH, "record", "--engine", "strace", "-o", profile, "--", probe, ...RECORDED],
      { encoding: "utf8" },
    );
    assert.equal(rec.status, 0, rec.stderr);
    const gen = spawnSync(process.execPath, [CLI_PATH, "generate", profile, "-o", policy], {
      encoding: "utf8",
    });
    assert.equal(gen.status, 0, gen.stderr);
    const text = readFileSync(policy, "utf8");
    for (const n of ["fcntl", "ioctl", "socket"])
      assert.match(
        text,
        new RegExp(`names: \\[${n}\\]\\n\\s+action: "errno EPERM"\\n\\s+tier: argument-fallback`),
      );
  });

  it("runc (OCI export): allowed values work, other values get EPERM, the program is not killed", () => {
    const oci = join(dir, "policy.oci.json");
    const warned = exportTo(policy, ["--format", "oci", "-o", oci]);
    assert.doesNotMatch(warned, /get the default action/);
    for (const nnp of [true, false]) {
      const bundle = runcBundle(oci, nnp, [dir]);
      const c = JSON.parse(readFileSync(join(bundle, "bundle.template.json"), "utf8"));
      c.process.args = [probe, ...ALLOWED, ...REFUSED];
      writeFileSync(join(bundle, "config.json"), JSON.stringify(c));
      const id = `sysfence-export-args-${process.pid}-${nnp}`;
      const r = spawnSync("runc", ["run", id], { cwd: bundle, encoding: "utf8", timeout: 60_000 });
      spawnSync("runc", ["delete", "-f", id], { stdio: "ignore" });
      assertAnswers(`runc noNewPrivileges ${nnp}`, r);
    }
  });

  it("libseccomp-c export (--launcher exec, gcc): the same answers", () => {
    const src = join(dir, "launch.c");
    const warned = exportTo(policy, ["--format", "libseccomp-c", "--launcher", "exec", "-o", src]);
    assert.doesNotMatch(warned, /get the default action/);
    const bin = join(dir, "launch");
    execFileSync("gcc", ["-O2", "-Wall", "-Werror", "-o", bin, src, "-lseccomp"]);
    const r = spawnSync(bin, [probe, ...ALLOWED, ...REFUSED], { encoding: "utf8", timeout: 60_000 });
    assertAnswers("libseccomp-c", r);
  });
});
