import type { Insn } from "../bpf/insn.js";
import type { LandlockPlan } from "../policy/landlock.js";
import type { Action, Policy } from "../policy/model.js";
import { type ArchName, nativeArch } from "../syscalls/arches.js";
import { execFailed, execMemory, prepareForExec, resolveCommand } from "./exec.js";
import { loadLibc } from "./ffi.js";
import { checkPrograms, installChecked, programOf } from "./install.js";
import {
  addStdioRules,
  applyLandlock,
  checkLaunchExecutable,
  closeLandlockRules,
  openLandlockRules,
} from "./landlock.js";
import { openCountProbe } from "./proof.js";
import { execGuardPolicy } from "./run-policy.js";

// (the exec plumbing is exec.ts's; re-exported for the modules that import it from here)
export { errnoText, execFailed, execMemory, prepareForExec, resolveCommand } from "./exec.js";

/** The Landlock layer of a launch: the plan for this kernel and the policy's execute paths. */
export interface LaunchLandlock {
  plan: LandlockPlan;
  execute: string[];
}

/**
 * Replaces this process with `argv` running under `policy`: resolve the command, compile and check
 * everything first (with a Landlock plan: that it lets the program itself be executed), then the Landlock
 * ruleset, no_new_privs, the filter (calling thread only: execve ends every other thread) proven by its
 * canary, stdio without close-on-exec, default signal dispositions, execve. Returns only by throwing
 * before the filter is installed; if execve itself fails afterwards, exits with 126/127. Notes (Landlock
 * paths skipped) go to `onNote`.
 */
export function execUnderPolicy(
  policy: Policy | readonly Insn[],
  argv: string[],
  options: {
    log?: boolean;
    execGuard?: Action;
    arches?: ArchName[];
    landlock?: LaunchLandlock;
    onNote?: (line: string) => void;
  } = {},
): never {
  const path = resolveCommand(argv[0]);
  const landlock = options.landlock;
  if (landlock) checkLaunchExecutable(landlock.plan, landlock.execute, path);
  const program = programOf(policy, { landlock: landlock?.plan.enforced ?? false, done: "run" });
  const c = loadLibc();
  const flags = { log: options.log };
  // The exec's memory is built here, so the guard can name the exact pointers the kernel will see.
  const { pathBuf, argvBuf, envBuf, keep } = execMemory(c, path, argv);
  const guard = options.execGuard
    ? programOf(
        execGuardPolicy(
          options.arches ?? [nativeArch()],
          [c.address(pathBuf), c.address(argvBuf), c.address(envBuf)],
          options.execGuard,
        ),
      )
    : undefined;
  // the guard first: the main filter may not allow the seccomp call that installs a second filter
  const programs = guard ? [guard, program] : [program];
  // every check before the first install: no_new_privs and a first filter cannot be taken back
  checkPrograms(programs, flags, c);
  const opened = landlock ? openLandlockRules(landlock.plan) : undefined;
  if (landlock && opened) addStdioRules(landlock.plan, opened);
  for (const note of opened?.notes ?? []) options.onNote?.(note);
  try {
    prepareForExec(c);
  } catch (e) {
    if (opened) closeLandlockRules(opened);
    throw e;
  }
  // the filter count's file is opened before Landlock, which may not let it be opened after
  const proof = options.log ? openCountProbe() : undefined;
  // Landlock first: the seccomp filter then need not allow the landlock calls
  if (landlock && opened) applyLandlock(c, landlock.plan, opened);
  installChecked(programs, flags, c, proof);
  c.execveBuffers(pathBuf, argvBuf, envBuf);
  return execFailed(c, path, keep);
}
