import type { Diagnostic } from "../errors.js";
import type { LandlockSection } from "../policy/model.js";

// What of a policy's landlock: section a systemd unit can hold. Only the write list has an equivalent:
// ProtectSystem=strict makes the file system read-only and ReadWritePaths= opens the listed paths again
// (systemd.exec(5)). The rest is said, not approximated: systemd cannot hide files from reading (read),
// NoExecPaths=/ with ExecPaths= would also forbid mapping the shared libraries the read list allows
// (noexec mounts refuse PROT_EXEC mappings), and TCP ports and signal scoping have no like setting.

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
  if (section.devices.length)
    warn("landlock.devices is not mapped (DevicePolicy= works on device numbers, not paths); not enforced");
  if (section.bindTcp || section.connectTcp) warn("landlock bindTcp/connectTcp are not mapped; not enforced");
  if (section.scope.length)
    warn(`landlock scope ${section.scope.join(", ")} has no systemd equivalent; not enforced`);
  return { lines, warnings };
}

/** A path as systemd reads it in a space-separated list (C-style quoting where it has spaces or quotes). */
function quote(p: string): string {
  return /[\s"'\\]/.test(p) ? JSON.stringify(p) : p;
}
