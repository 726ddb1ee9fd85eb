// export --format bwrap: the file layer as bwrap's mounts (bwrapLayout) and the script that carries them
// with the seccomp filter (bwrapScript). The script runs against the real bwrap in test/e2e/bwrap.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { exportBpf } from "../../src/export/bpf.js";
import { bwrapLayout, bwrapScript } from "../../src/export/bwrap.js";
import { exportPolicy } from "../../src/export/export.js";
import { withLauncher } from "../../src/export/launchers.js";
import { seccompPolicyFor } from "../../src/policy/landlock.js";
import type { LandlockSection } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";

const section = (
  s: Partial<Record<"read" | "write" | "execute" | "devices", string[]>>,
): LandlockSection => ({
  read: (s.read ?? []).map((path) => ({ path })),
  write: (s.write ?? []).map((path) => ({ path })),
  execute: (s.execute ?? []).map((path) => ({ path })),
  devices: (s.devices ?? []).map((path) => ({ path })),
  scope: [],
});
const flat = (args: string[][]) => args.map((a) => a.join(" "));

const POLICY = `version: 1
defaultAction: kill-process
architectures: [x86_64]
landlock:
  read: [/etc/hosts, "/srv/it's here", /usr/lib]
  write: [/var/lib/app]
  execute: [/usr/bin/app]
  devices: [/dev/null]
  bindTcp: [8080]
  scope: [signal]
syscalls:
  - { names: [read, write, exit_group, openat, close, mmap, brk], action: allow }
`;

describe("bwrap export: the file layer as mounts", () => {
  it("binds each list with its rights, parents first, and remounts the root read-only last", () => {
    const l = bwrapLayout(
      section({ read: ["/usr", "/etc/hosts"], write: ["/usr/local/var/"], devices: ["/dev/null"] }),
    );
    assert.deepEqual(flat(l.args), [
      // the directories holding mounts, 0755 (bwrap's own are 0700); /usr/local is inside the /usr mount
      "--perms 0755 --dir /dev",
      "--perms 0755 --dir /etc",
      "--ro-bind-try /usr /usr",
      "--dev-bind-try /dev/null /dev/null",
      "--ro-bind-try /etc/hosts /etc/hosts",
      "--bind-try /usr/local/var /usr/local/var",
      "--remount-ro /",
    ]);
  });

  it("leaves out what a parent mount already grants, never what a narrower parent would take away", () => {
    const l = bwrapLayout(
      section({
        write: ["/data", "/data/sub/deeper"],
        read: ["/data/sub", "/data/cfg", "/usr/lib"],
        execute: ["/usr/lib/x"],
      }),
    );
    // /data/sub (read) sits in a writable bind: a read-only bind there would take the write away from it
    assert.deepEqual(flat(l.args), [
      "--perms 0755 --dir /usr",
      "--bind-try /data /data",
      "--ro-bind-try /usr/lib /usr/lib",
      "--remount-ro /",
    ]);
    // a path in two lists gets the widest
    assert.deepEqual(flat(bwrapLayout(section({ read: ["/a"], write: ["/a"] })).args), [
      "--bind-try /a /a",
      "--remount-ro /",
    ]);
    // a writable path beneath a read-only one is bound after it, writable
    assert.deepEqual(flat(bwrapLayout(section({ read: ["/a"], write: ["/a/b"] })).args), [
      "--ro-bind-try /a /a",
      "--bind-try /a/b /a/b",
      "--remount-ro /",
    ]);
  });

  it("maps /proc paths to a new procfs, scope signal to a pid namespace, and a listed / to the host's root", () => {
    const l = bwrapLayout({
      ...section({ read: ["/proc", "/etc"], write: ["/proc/self/comm"] }),
      scope: ["signal"],
    });
    assert.deepEqual(flat(l.args), [
      "--unshare-pid",
      "--ro-bind-try /etc /etc",
      "--proc /proc",
      "--remount-ro /",
    ]);
    assert.match(l.warnings.map((w) => w.message).join("\n"), /whole \/proc is as writable as procfs allows/);
    const root = bwrapLayout(section({ read: ["/"], write: ["/tmp"] }));
    assert.deepEqual(
      flat(root.args),
      ["--ro-bind-try / /", "--bind-try /tmp /tmp"],
      "no --remount-ro of the host's /",
    );
  });

  it("says what bwrap cannot hold: execute, TCP ports, abstract sockets; nothing for a layer-less policy", () => {
    const l = bwrapLayout({
      ...section({ read: ["/usr"], execute: ["/usr/bin/x"] }),
      bindTcp: [{ port: 80 }],
      scope: ["abstract-unix-socket"],
    });
    const text = l.warnings.map((w) => w.message).join("\n");
    assert.match(text, /^bwrap: landlock\.execute has no bwrap equivalent .*cannot mount noexec/m);
    assert.match(text, /^bwrap: landlock bindTcp\/connectTcp have no bwrap equivalent/m);
    assert.match(text, /^bwrap: landlock scope abstract-unix-socket/m);
    assert.ok(!flat(l.args).includes("--unshare-pid"), "no signal scope: no pid namespace");
    const none = bwrapLayout(undefined);
    assert.deepEqual(flat(none.args), ["--bind / /", "--dev /dev", "--proc /proc"]);
    assert.deepEqual(none.warnings, []);
  });

  it("writes a POSIX sh script holding the bpf export's bytes, its size and every path quoted", () => {
    const policy = parsePolicy(POLICY, { file: "p.yaml" }).policy;
    const out = exportPolicy(policy, "bwrap");
    assert.equal(out.launcher, "bwrap");
    const script = String(out.output);
    assert.equal(spawnSync("sh", ["-n"], { input: script }).status, 0, "sh -n accepts it");
    const b64 = /<<'SYSFENCE_BPF'\n([A-Za-z0-9+/=\n]*)SYSFENCE_BPF\n/.exec(script)?.[1] ?? "";
    const bytes = Buffer.from(b64.replace(/\n/g, ""), "base64");
    const bpf = exportPolicy(policy, "bpf").output as Buffer;
    assert.ok(bytes.equals(bpf), "the same filter as --format bpf (launcher bwrap)");
    assert.match(script, new RegExp(`-ne ${bpf.length} \\]`));
    assert.match(script, / {2}--ro-bind-try '\/srv\/it'\\''s here' '\/srv\/it'\\''s here' \\\n/);
    assert.match(script, / {2}--unshare-pid \\\n/);
    // bwrap runs in the background (it forwards no signal): the script passes them on, exits with its status
    assert.match(script, / {2}--seccomp 9 -- "\$@" <&7 7<&- &\n/);
    assert.match(script, /^trap 'sig=TERM; kill -s TERM \$\(program\) 2>\/dev\/null \|\| :' TERM$/m);
    assert.match(script, /\nexit "\$rc"\n$/);
    const text = out.warnings.map((w) => w.message).join("\n");
    assert.match(text, /fell back to seccomp-only \(the file lists are carried by the sandbox's mounts/);
    assert.match(text, /bwrap: landlock\.execute/);
    // the pieces are pure: the same script from them
    const { landlock, ...rest } = seccompPolicyFor(policy, false);
    const launched = withLauncher(rest, "bwrap").policy;
    assert.equal(
      bwrapScript(exportBpf(launched).bytes, bwrapLayout(landlock), "p.yaml", "bubblewrap 0.8.0"),
      script,
    );
  });

  it("log mode carries no file layer, as run --log applies no Landlock: nothing is blocked (bwrap and systemd)", () => {
    const policy = parsePolicy(POLICY, { file: "p.yaml" }).policy;
    const script = String(exportPolicy(policy, "bwrap", { log: true }).output);
    assert.match(script, / {2}--bind \/ \/ \\\n {2}--dev \/dev \\\n {2}--proc \/proc \\\n/);
    assert.doesNotMatch(script, /--ro-bind-try|--remount-ro/);
    assert.match(script, /# log mode: the landlock: lists are not carried/);
    const unit = String(exportPolicy(policy, "systemd", { log: true }).output);
    assert.doesNotMatch(unit, /^(ProtectSystem|ReadWritePaths|DevicePolicy|DeviceAllow|SocketBind\w+)=/m);
    assert.match(unit, /# sysfence: log mode: the landlock: lists are not carried/);
    assert.match(
      String(exportPolicy(policy, "systemd").output),
      /^ProtectSystem=strict$/m,
      "without --log they are",
    );
  });

  it("refuses a work-phase policy, which would kill the program at its start", () => {
    const policy = parsePolicy(POLICY.replace("version: 1\n", "version: 1\nphase: work\n"), {
      file: "w.yaml",
    }).policy;
    assert.throws(() => exportPolicy(policy, "bwrap"), /phase: work|work phase|work-phase/);
  });
});
