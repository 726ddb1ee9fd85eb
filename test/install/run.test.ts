import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CLI_PATH as CLI } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const onLinux = process.platform === "linux" ? false : "needs Linux";
const sysfence = (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
  spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    input: opts.input ?? "",
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    timeout: 20000,
  });

describe("sysfence run (real kernel)", { skip: onLinux }, () => {
  it("runs ls under @default @basic-io @file-system getdents64", () => {
    const r = sysfence(["run", "@default", "@basic-io", "@file-system", "getdents64", "--", "ls", "/"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^usr$/m);
  });
  it("passes stdin, environment, working directory and exit status through", () => {
    const r = sysfence(
      ["run", "@system-service", "--", "sh", "-c", 'pwd; echo "$SYSFENCE_TEST"; cat; exit 7'],
      { input: "from stdin\n", env: { ...process.env, SYSFENCE_TEST: "env ok" }, cwd: "/tmp" },
    );
    assert.equal(r.status, 7, r.stderr);
    assert.equal(r.stdout, "/tmp\nenv ok\nfrom stdin\n");
  });
  it("a call outside the allow-list gets ENOSYS by default and SIGSYS with --default-action kill-process", () => {
    const soft = sysfence(["run", "@basic-io", "--", "uname"]);
    assert.notEqual(soft.status, 0);
    assert.match(soft.stderr, /Function not implemented|cannot get system name/);
    const hard = sysfence(["run", "--default-action", "kill-process", "@basic-io", "--", "uname"]);
    assert.equal(hard.signal, "SIGSYS");
    const shell = spawnSync(
      "sh",
      [
        "-c",
        `"${process.execPath}" "${CLI}" run --default-action kill-process @basic-io -- uname; echo "status $?"`,
      ],
      { encoding: "utf8" },
    );
    assert.match(shell.stdout, /status 159/);
  });
  it("--errno NAME answers with that errno", () => {
    const r = sysfence(["run", "--errno", "EACCES", "@basic-io", "--", "uname"]);
    assert.match(r.stderr, /Permission denied/);
  });
  it("--deny turns the spec into a deny-list over default allow", () => {
    const r = sysfence(["run", "--deny", "uname", "--", "uname"]);
    assert.match(r.stderr, /Operation not permitted/);
    assert.equal(
      sysfence(["run", "--deny", "@obsolete", "@debug", "@reboot", "@swap", "@resources", "--", "uname"])
        .status,
      0,
    );
  });
  it("--preset no-user-namespaces: unshare -U fails, everything else runs", (t) => {
    if (spawnSync("unshare", ["-U", "true"]).status !== 0)
      return t.skip("user namespaces are unavailable here anyway");
    const r = sysfence(["run", "--preset", "no-user-namespaces", "--", "unshare", "-U", "true"]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Operation not permitted/);
    assert.equal(sysfence(["run", "--preset", "no-user-namespaces", "--", "sh", "-c", "true"]).status, 0);
  });
  it("--log blocks nothing and the kernel logs what would have been denied", (t) => {
    const r = sysfence(["run", "--log", "@basic-io", "--", "uname", "-s"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "Linux");
    let log = "";
    try {
      log = execFileSync("dmesg", { encoding: "utf8" });
    } catch {
      return t.skip("the kernel log is not readable here");
    }
    assert.match(log, /type=1326 .*comm="uname".*syscall=63 .*code=0x7ffc0000/);
  });
  it("a missing command, a bad spec or a bad policy never runs anything", () => {
    const missing = sysfence(["run", "@default", "--", "no-such-command-xyz"]);
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /not found in PATH; nothing was run/);
    const bad = sysfence(["run", "@defualt", "getdentz", "--", "true"]);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /unknown group '@defualt'/);
    assert.match(bad.stderr, /did you mean 'getdents'/);
    const nocmd = sysfence(["run", "@default"]);
    assert.equal(nocmd.status, 125);
  });
  it("runs under a policy file (Docker's default profile)", () => {
    const r = sysfence([
      "run",
      "--policy",
      `${REPO}examples/docker-default.json`,
      "--",
      "sh",
      "-c",
      "echo docker-profile",
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "docker-profile\n");
  });
  it("a policy file that denies execve: the launch runs, every later exec gets the policy's answer (kernel)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-guard-"));
    const eperm = join(dir, "noexec.yaml");
    writeFileSync(
      eperm,
      "defaultAction: allow\nsyscalls:\n  - names: [execve, execveat]\n    action: errno EPERM\n",
    );
    const r = sysfence(["run", "--policy", eperm, "--", "sh", "-c", "/bin/true; echo status $?"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "status 126\n", "sh ran; its own exec of /bin/true was refused");
    assert.match(r.stderr, /Operation not permitted/);
    const kill = join(dir, "killexec.yaml");
    writeFileSync(kill, "defaultAction: allow\nsyscalls:\n  - names: [execve]\n    action: kill-process\n");
    const k = sysfence(["run", "--policy", kill, "--", "sh", "-c", "/bin/true; echo status $?"]);
    assert.equal(k.stdout, "status 159\n", "the child that tried to exec was killed (SIGSYS)");
    // the cached program carries the guard too
    const again = sysfence([
      "run",
      "--policy",
      eperm,
      "--",
      "sh",
      "-c",
      "/bin/true 2>/dev/null; echo status $?",
    ]);
    assert.equal(again.stdout, "status 126\n");
  });
});
