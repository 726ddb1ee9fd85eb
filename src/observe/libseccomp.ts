import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { actionValue } from "../abi/action.js";
import { decodeProgram, type Insn } from "../bpf/insn.js";
import { refuseArchDependentValues } from "../export/shared.js";
import { conditionForArch } from "../policy/conditions.js";
import type { Policy } from "../policy/model.js";
import { expandGroup } from "../syscalls/groups.js";

// libseccomp, driven through its Python bindings, as the comparison point for `sysfence bench` and the
// differential tests. Optional: everything else works without it.
const BUILDER = fileURLToPath(new URL("../../../scripts/libseccomp_build.py", import.meta.url));

/** Debian's python3-seccomp is importable only by the system interpreter. */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** True when libseccomp's python bindings are installed (CI installs them). */
export function haveLibseccomp(): boolean {
  if (!existsSync(SYSTEM_PYTHON)) return false;
  try {
    execFileSync(SYSTEM_PYTHON, ["-c", "import seccomp"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Builds the same policy with libseccomp; returns its program and the names libseccomp did not know. */
export function buildWithLibseccomp(
  policy: Policy,
  optimize: 1 | 2 = 1,
): { program: Insn[]; skipped: string[]; unknown: Record<string, string[]> } {
  // one value per condition for every architecture, as in the exports: names resolved for the policy's
  // architecture (ppc64le's FIONBIO is not x86_64's), refused where they differ between its architectures
  refuseArchDependentValues(policy, "libseccomp");
  const arch = policy.architectures[0];
  const rules: unknown[] = [];
  for (const r of policy.rules) {
    const names = r.names.flatMap((n) => (n.startsWith("@") ? (expandGroup(n) ?? []) : [n]));
    for (const name of names) {
      rules.push({
        syscall: name,
        action: actionValue(r.action),
        conds: r.conditions
          .map((written) => (arch ? conditionForArch(written, arch) : written))
          .map((c) => ({
            arg: c.arg,
            op: c.op,
            value: BigInt.asUintN(64, c.value).toString(),
            mask: BigInt.asUintN(64, c.mask ?? 0n).toString(),
          })),
      });
    }
  }
  const out = join(mkdtempSync(join(tmpdir(), "sysfence-libseccomp-")), "filter.bpf");
  const spec = {
    default: actionValue(policy.defaultAction),
    badarch: actionValue(policy.badArchAction),
    arches: policy.architectures,
    optimize,
    out,
    rules,
  };
  const res = execFileSync(SYSTEM_PYTHON, [BUILDER], {
    input: JSON.stringify(spec),
    encoding: "utf8",
  });
  const { skipped, unknown } = JSON.parse(res) as { skipped: string[]; unknown: Record<string, string[]> };
  return { program: decodeProgram(readFileSync(out), "libseccomp output"), skipped, unknown };
}
