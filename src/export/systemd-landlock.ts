import type { Diagnostic } from "../errors.js";
import type { LandlockSection } from "../policy/model.js";

// What of a policy's landlock: section a systemd unit can hold (systemd.exec(5), systemd.resource-control(5)):
// - write: ProtectSystem=strict makes the file system read-only and ReadWritePaths= opens the listed paths;
// - devices: DevicePolicy=closed with DeviceAllow= per device (the cgroup device controller; closed also
//   allows the null, zero, full and random devices, which systemd itself opens for stdio and which every
//   generated policy lists); device paths in read/write get r/rw; /dev/pts is the char-pts group;
// - bindTcp: SocketBindDeny=tcp with SocketBindAllow=tcp:PORT (systemd >= 249, cgroup v2 with BPF);
//   port 0 (an ephemeral bind) cannot be allowed beside the deny, so such a list is said, not mapped.
// The rest is said, not approximated: systemd cannot hide files from reading (read), NoExecPaths=/ with
// ExecPaths= would also forbid mapping the shared libraries the read list allows (noexec mounts refuse
// PROT_EXEC mappings), connectTcp has no port setting (IPAddressDeny= is by address), and signal scoping
// has no like setting in systemd 252.

/** Unit lines (appended to [Service]) and a warning per list left out. */
export function systemdLandlock(section: LandlockSection): { lines: string[]; warnings: Diagnostic[] } {
  const lines: string[] = [];
  const warnings: Diagnostic[] = [];
  const warn = (m: string) => {
    warnings.push({ severity: "warning", message: `systemd: ${m}` });
    lines.push(`# sysfence: ${m}`);
  };
  lines.push(
    "# sysfence: landlock.write -> ProtectSystem=strict with ReadWritePaths= (everything else is read-only, as Landlock leaves it; /dev, /proc and /sys stay as systemd leaves them; '-': a missing path is ignored)",
  );
  lines.push("ProtectSystem=strict");
  if (section.write.length)
    lines.push(`ReadWritePaths=${section.write.map((p) => `-${quote(p.path)}`).join(" ")}`);
  if (section.read.length)
    warn(
      "landlock.read has no systemd equivalent: systemd cannot hide unlisted files from reading; not enforced",
    );
  if (section.execute.length)
    warn(
      "landlock.execute is not mapped: NoExecPaths=/ with ExecPaths= would also refuse the executable mappings of shared libraries; not enforced",
    );
  lines.push(...devices(section, warn));
  if (section.bindTcp) {
    if (section.bindTcp.some((p) => p.port === 0))
      warn(
        "landlock.bindTcp allows ephemeral binds (port 0), which SocketBindAllow= cannot name beside SocketBindDeny=; not mapped, TCP binds not restricted",
      );
    else {
      lines.push(
        "# sysfence: landlock.bindTcp -> SocketBindDeny=tcp with SocketBindAllow=tcp:PORT (systemd >= 249 on the unified cgroup hierarchy; elsewhere systemd ignores them)",
        "SocketBindDeny=tcp",
        ...section.bindTcp.map((p) => `SocketBindAllow=tcp:${p.port}`),
      );
    }
  }
  if (section.connectTcp)
    warn(
      "landlock.connectTcp has no systemd equivalent (IPAddressDeny= works on addresses, not ports); not enforced",
    );
  if (section.scope.length)
    warn(`landlock scope ${section.scope.join(", ")} has no systemd equivalent; not enforced`);
  return { lines, warnings };
}

/** Paths that are not device nodes: tmpfs mounts below /dev. */
const NOT_DEVICES = /^\/dev\/(shm|mqueue|hugepages)(\/|$)/;

/** DevicePolicy=closed and a DeviceAllow= per device path, or nothing (with a warning) when a list grants a whole tree of devices. */
function devices(section: LandlockSection, warn: (m: string) => void): string[] {
  const tree = [...section.read, ...section.write, ...section.execute].find(
    (p) => p.path === "/" || p.path.replace(/\/+$/, "") === "/dev",
  );
  if (tree) {
    warn(
      `landlock.devices is not mapped: ${tree.path} grants every device beneath it, which DeviceAllow= cannot say by path; devices not restricted`,
    );
    return [];
  }
  const access = new Map<string, string>();
  const add = (list: { path: string }[], mode: string) => {
    for (const { path } of list) {
      if (!path.startsWith("/dev/") || NOT_DEVICES.test(path)) continue;
      const spec = path.replace(/\/+$/, "") === "/dev/pts" ? "char-pts" : path;
      if ((access.get(spec) ?? "").length < mode.length) access.set(spec, mode);
    }
  };
  add(section.read, "r");
  add(section.execute, "r");
  add(section.write, "rw");
  add(section.devices, "rw");
  return [
    "# sysfence: landlock.devices -> DevicePolicy=closed with DeviceAllow= (opening any other device node fails; closed also allows /dev/null, zero, full, random and urandom)",
    "DevicePolicy=closed",
    ...[...access].map(([spec, mode]) => `DeviceAllow=${quote(spec)} ${mode}`),
  ];
}

/** A path as systemd reads it in a space-separated list (C-style quoting where it has spaces or quotes). */
function quote(p: string): string {
  return /[\s"'\\]/.test(p) ? JSON.stringify(p) : p;
}
