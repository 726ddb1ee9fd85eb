import type { Diagnostic } from "../errors.js";
import { launchGuard, logOnly } from "../install/run-policy.js";
import { formatAction } from "../policy/actions.js";
import { fallbackCalls, seccompPolicyFor } from "../policy/landlock.js";
import type { Policy } from "../policy/model.js";
import { refuseWorkPhase } from "../policy/phase.js";
import { exportBpf, exportBpfC } from "./bpf.js";
import { bwrapLayout, bwrapScript } from "./bwrap.js";
import { cLauncher } from "./c-launcher.js";
import { checkCFunctionName } from "./c-name.js";
import { canComplement, MAX_COMPLEMENT_RULES, withoutArgumentFallbacks } from "./complement.js";
import { exportK8s, type K8sOptions } from "./k8s.js";
import { MEASURED_LAUNCHES } from "./launcher-sets.js";
import {
  chooseLauncher,
  type ExportFormat,
  FORMAT_LAUNCHERS,
  type LauncherName,
  withLauncher,
} from "./launchers.js";
import { exportLibseccompC } from "./libseccomp-c.js";
import { exportOci } from "./oci.js";
import { exportSystemd } from "./systemd.js";
import { systemdLandlock } from "./systemd-landlock.js";

/** Why --log exports carry no file layer: like `run --log`, it must block nothing. */
const LOG_NOTE =
  "log mode: the landlock: lists are not carried (Landlock and these mounts have no log-only form, and --log blocks nothing)";

/** Every format exportPolicy() writes, in the order `--help` lists them. */
export const EXPORT_FORMATS = Object.keys(FORMAT_LAUNCHERS) as ExportFormat[];

/** How exportPolicy() writes: the launcher, log mode, and the per-format names (C function, Kubernetes metadata). */
export interface ExportOptions extends K8sOptions {
  /** What starts the program after the filter is loaded (default per format: FORMAT_LAUNCHERS[format][0]). */
  launcher?: LauncherName;
  /** runc: the container's noNewPrivileges, when known (fewer launcher calls with true). */
  noNewPrivileges?: boolean;
  /** Log mode: every answer but allow becomes log (nothing is blocked; the kernel logs what would be). */
  log?: boolean;
  /** C function name for the C formats. */
  functionName?: string;
}

/** An export: text (or bytes for bpf), its warnings, and the launcher rules it added with their notes. */
export interface Exported {
  output: string | Buffer;
  /** What the format cannot express (`--strict` refuses these). */
  warnings: Diagnostic[];
  /** What the launcher added and what that makes impossible to hold (information, printed with the warnings). */
  launcherWarnings: Diagnostic[];
  launcher: LauncherName;
  /** The policy the output expresses: the input, in log mode if asked, with the launcher's rules. */
  policy: Policy;
  launcherRules: Policy["rules"];
}

/** The one line saying that the Landlock layer has no equivalent in `format` and which calls fell back. */
function landlockWarning(input: Policy, format: ExportFormat, log: boolean): Diagnostic | undefined {
  const { landlock } = input;
  if (!landlock && !input.rules.some((r) => r.needs !== undefined)) return undefined;
  const carried =
    landlock && !log && format === "systemd"
      ? " (the lists systemd can express are mapped, see the unit's comments)"
      : landlock && !log && format === "bwrap"
        ? " (the file lists are carried by the sandbox's mounts, see the script's comments)"
        : "";
  return {
    severity: "warning",
    message: `the Landlock layer (files, executables, TCP ports, signal scoping) has no equivalent in ${format}; ${fallbackCalls(input, false) ?? "rules that rely on it fell back to seccomp-only"}${carried}`,
  };
}

/** Writes `policy` for another engine, with what its launcher needs. */
export function exportPolicy(input: Policy, format: ExportFormat, o: ExportOptions = {}): Exported {
  const launcher = chooseLauncher(format, o.launcher);
  // no engine here has Landlock: rules that need it are dropped (the seccomp-only fallback)
  const { landlock, ...seccompOnly } = seccompPolicyFor(input, false);
  const policy: Policy = seccompOnly;
  // a container runtime, systemd or a launcher starts the program under the filter: a work-phase policy kills it
  if (launcher !== "none" || format === "oci" || format === "k8s")
    refuseWorkPhase(
      input,
      `export --format ${format} (launched by ${launcher === "none" ? "the container runtime" : launcher})`,
    );
  const libseccomp = format === "oci" || format === "k8s" || format === "libseccomp-c";
  const kept = libseccomp
    ? withoutArgumentFallbacks(policy, { int63: format === "k8s" })
    : { policy, dropped: [], why: {} };
  const base = o.log ? logOnly(kept.policy) : kept.policy;
  const launched = withLauncher(base, launcher, {
    noNewPrivileges: o.noNewPrivileges,
    libseccomp,
    canComplement: (p, name) => canComplement(p, name, format === "k8s"),
  });
  const p = launched.policy;
  const fn = o.functionName ?? "sysfence_install";
  if (format === "bpf-c" || format === "libseccomp-c") checkCFunctionName(fn);
  let output: string | Buffer;
  let warnings: Diagnostic[];
  switch (format) {
    case "bpf":
      ({ bytes: output, warnings } = exportBpf(p));
      break;
    case "bwrap": {
      // the bpf export's bytes in a script that carries the file layer as bwrap's mounts
      const bpf = exportBpf(p);
      const layout = bwrapLayout(o.log ? undefined : landlock, o.log && landlock ? LOG_NOTE : undefined);
      const version = MEASURED_LAUNCHES.bwrap?.version ?? "bwrap";
      output = bwrapScript(bpf.bytes, layout, input.source ?? "a policy", version);
      warnings = [...bpf.warnings, ...layout.warnings];
      break;
    }
    case "bpf-c":
      ({ text: output, warnings } = exportBpfC(p, { functionName: fn }));
      break;
    case "libseccomp-c":
      ({ text: output, warnings } = exportLibseccompC(p, { functionName: fn }));
      break;
    case "systemd":
      ({ text: output, warnings } = exportSystemd(p));
      break;
    case "oci":
      ({ text: output, warnings } = exportOci(p));
      break;
    case "k8s":
      ({ text: output, warnings } = exportK8s(p, o));
      break;
  }
  // the C formats only: the guard answers every other exec as the policy as written does
  if (launcher === "exec") output += cLauncher(p, fn, launchGuard(base, base.architectures[0]));
  if (kept.dropped.length)
    warnings.push({
      severity: "warning",
      message: `${format}: the EPERM answer for other argument values of ${kept.dropped.map((n) => `${n} (${kept.why[n]})`).join(", ")} cannot be written beside their argument rules (libseccomp lets an unconditional rule win over them, and the values they do not allow are carried as masked rules only for equalities, up to ${MAX_COMPLEMENT_RULES} rules a call); under this engine those values get the default action (${formatAction(policy.defaultAction)})`,
    });
  const fellBack = landlockWarning(input, format, !!o.log);
  if (fellBack) warnings = [fellBack, ...warnings];
  if (format === "systemd" && landlock && o.log && typeof output === "string")
    output = `${output}# sysfence: ${LOG_NOTE}\n`;
  else if (format === "systemd" && landlock && typeof output === "string") {
    const mapped = systemdLandlock(landlock);
    output = `${output}${mapped.lines.join("\n")}\n`;
    warnings.push(...mapped.warnings);
  }
  return {
    output,
    warnings,
    launcherWarnings: launched.warnings,
    launcher,
    policy: p,
    launcherRules: launched.added,
  };
}
