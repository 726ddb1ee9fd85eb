// What of a landlock: section the systemd export maps (src/export/systemd-landlock.ts), checked by
// systemd-analyze verify where it is installed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { systemdLandlock } from "../../src/export/systemd-landlock.js";
import type { LandlockSection } from "../../src/policy/model.js";
import { requireOrSkip } from "../helpers/require.js";

const paths = (...p: string[]) => p.map((path) => ({ path }));
const SECTION: LandlockSection = {
  read: paths("/usr", "/etc/hosts", "/dev/tty"),
  write: paths("/var/lib/app", "/dev/shm"),
  execute: paths("/usr/bin/app"),
  devices: paths("/dev/null", "/dev/pts", "/dev/ptmx", "/dev/urandom"),
  bindTcp: [{ port: 8080 }, { port: 8443 }],
  connectTcp: [{ port: 5432 }],
  scope: ["signal"],
};

/** systemd-analyze verify's complaints about a [Service] body, or a reason to skip. */
function verify(body: string): string | { skip: string } {
  const skip = requireOrSkip(spawnSync("systemd-analyze", ["--version"]).status === 0, "systemd-analyze");
  if (skip) return { skip };
  const dir = mkdtempSync(join(tmpdir(), "sysfence-unit-"));
  try {
    const unit = join(dir, "sysfence-landlock.service");
    writeFileSync(unit, `[Unit]\nDescription=sysfence test\n[Service]\nExecStart=/bin/true\n${body}\n`);
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", unit], { encoding: "utf8" });
    return `${r.stdout}${r.stderr}`
      .split("\n")
      .filter((l) => /Unable to parse|Failed to parse|Unknown|invalid/i.test(l))
      .join("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("systemd export of the landlock: section", () => {
  it("maps write, devices (DevicePolicy=closed, DeviceAllow=) and bindTcp (SocketBindDeny/Allow=)", (t) => {
    const { lines, warnings } = systemdLandlock(SECTION);
    const unit = lines.join("\n");
    assert.match(unit, /^ProtectSystem=strict\nReadWritePaths=-\/var\/lib\/app -\/dev\/shm$/m);
    assert.match(unit, /^DevicePolicy=closed$/m);
    const allow = lines.filter((l) => l.startsWith("DeviceAllow="));
    // devices rw, a device in the read list r, /dev/pts as its char group, /dev/shm (a tmpfs) left out
    assert.deepEqual(allow, [
      "DeviceAllow=/dev/tty r",
      "DeviceAllow=/dev/null rw",
      "DeviceAllow=char-pts rw",
      "DeviceAllow=/dev/ptmx rw",
      "DeviceAllow=/dev/urandom rw",
    ]);
    assert.match(unit, /^SocketBindDeny=tcp\nSocketBindAllow=tcp:8080\nSocketBindAllow=tcp:8443$/m);
    const said = warnings.map((w) => w.message).join("\n");
    assert.match(said, /landlock\.read has no systemd equivalent/);
    assert.match(said, /landlock\.connectTcp has no systemd equivalent/);
    assert.doesNotMatch(said, /devices|bindTcp/, "devices and bindTcp are mapped");
    const v = verify(lines.filter((l) => !l.startsWith("#")).join("\n"));
    if (typeof v !== "string") return t.skip(v.skip);
    assert.equal(v, "", "systemd-analyze verify accepts every line");
  });

  it("says what it cannot map: ephemeral binds, a list granting every device", (t) => {
    const eph = systemdLandlock({ ...SECTION, bindTcp: [{ port: 0 }, { port: 80 }] });
    assert.ok(!eph.lines.some((l) => l.startsWith("SocketBind")), "no SocketBind lines");
    assert.match(eph.warnings.map((w) => w.message).join("\n"), /ephemeral binds \(port 0\).*not mapped/);
    // the reason: systemd refuses a port 0 rule (and would deny an ephemeral bind under SocketBindDeny=tcp)
    const v = verify("SocketBindDeny=tcp\nSocketBindAllow=tcp:0");
    if (typeof v !== "string") return t.skip(v.skip);
    assert.match(v, /SocketBindAllow=.*tcp:0/);
    const root = systemdLandlock({ ...SECTION, read: paths("/") });
    assert.ok(!root.lines.some((l) => l.startsWith("Device")), "no device lines");
    assert.match(
      root.warnings.map((w) => w.message).join("\n"),
      /devices is not mapped: \/ grants every device/,
    );
    const none = systemdLandlock({ ...SECTION, bindTcp: undefined, connectTcp: undefined });
    assert.ok(!none.lines.some((l) => l.startsWith("SocketBind")), "absent bindTcp: binds unrestricted");
  });
});
