// `sysfence run --policy P --learn OUT -- COMMAND`: the program runs under a learning filter (P's program
// with every refusal turned into a user notification); sysfence stays its parent and supervises, and OUT
// is a profile of every call P would not allow (and every file use P's Landlock layer would refuse), with
// its counts, process image, thread and argument values. The kernel log is not touched.
import { spawn } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { SECCOMP_RET_USER_NOTIF } from "../abi/seccomp-data.js";
import { elfOfProgram } from "../analyze/program-file.js";
import { encodeProgram } from "../bpf/insn.js";
import { SysfenceError } from "../errors.js";
import { loadLibc, SECCOMP_SET_MODE_FILTER } from "../install/ffi.js";
import { checkNativeListed, checkSeccomp, programOf } from "../install/install.js";
import {
  loadNotifyCalls,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
} from "../install/notify-ffi.js";
import { resolveCommand } from "../install/run.js";
import type { LandlockPlan } from "../policy/landlock.js";
import type { Policy } from "../policy/model.js";
import { refuseWorkPhase } from "../policy/phase.js";
import { ProfileBuilder } from "../record/builder.js";
import { Ev, EventBatch, StringTable } from "../record/events.js";
import { type ImageCount, pushImage } from "../record/image-rows.js";
import { Access, PATH_USES } from "../record/path-access.js";
import type { Profile } from "../record/profile.js";
import { ARCHES, nativeArch } from "../syscalls/arches.js";
import { syscallNumber } from "../syscalls/table.js";
import { untilStopped } from "../util/proc-tree.js";
import type { LearnMode } from "./judge.js";
import { learningPolicy, learningProgram } from "./learn-program.js";
import { listsOf } from "./lists.js";
import type { LearnCounts, SupervisorInput } from "./supervisor-worker.js";

const LAUNCHER = fileURLToPath(new URL("./launch-entry.js", import.meta.url));
const WORKER = new URL("./supervisor-worker.js", import.meta.url);
const EFAULT = 14;
/** The calls that send a signal to a process or thread named by pid (judged against a signal scope). */
const SIGNAL_CALLS = ["kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"];

/** What a learning run needs. */
export interface LearnRun {
  /** The policy as written (its Landlock section is judged, not applied). */
  policy: Policy;
  /** The plan for this kernel: which part of the Landlock layer P would have here. */
  plan?: LandlockPlan;
  command: string[];
  mode: LearnMode;
  onNote: (line: string) => void;
}

/** What a learning run found. */
export interface LearnResult {
  profile: Profile;
  counts: LearnCounts;
  /** The program's exit status as a shell reports it (128 + signal for a signal). */
  status: number;
}

/** The calls that name files, judged against the Landlock lists: every PATH_USES name with a use beyond metadata. */
function fileCalls(): string[] {
  return Object.entries(PATH_USES)
    .filter(
      ([name, uses]) => name !== "connect" && name !== "bind" && uses.some((u) => u.access !== Access.meta),
    )
    .map(([name]) => name);
}

/** Checks that this kernel can learn: user notification with CONTINUE (5.5) and a listener. */
function checkKernel(): number {
  const c = loadLibc();
  checkSeccomp(c);
  if (c.actionAvailable(SECCOMP_RET_USER_NOTIF) !== 0)
    throw new SysfenceError(
      "E_SECCOMP_UNAVAILABLE",
      "this kernel has no seccomp user notification (SECCOMP_RET_USER_NOTIF, Linux 5.0; letting a notified call continue needs Linux 5.5); run --learn cannot work here. Use generate --unseen log and audit instead. Nothing was run.",
    );
  const base = SECCOMP_FILTER_FLAG_NEW_LISTENER;
  const accepted = (flags: number) =>
    c.seccomp(SECCOMP_SET_MODE_FILTER, flags, null) !== 0 && c.errno() === EFAULT;
  if (!accepted(base))
    throw new SysfenceError(
      "E_SECCOMP_UNAVAILABLE",
      "this kernel refuses SECCOMP_FILTER_FLAG_NEW_LISTENER (Linux 5.0+); run --learn cannot work here. Nothing was run.",
    );
  // a signal must not re-notify a call the supervisor already holds (Linux 5.19)
  return accepted(base | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    ? base | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
    : base;
}

/** What a learning run installs and supervises: the program, the calls the supervisor judges, the learning filter. */
function learningSetup(run: LearnRun, arch: ReturnType<typeof nativeArch>) {
  const { policy } = run;
  refuseWorkPhase(policy, "sysfence run --learn");
  checkNativeListed(policy, "run");
  const path = resolveCommand(run.command[0]);
  const files = run.plan?.enforced.files === true && policy.landlock !== undefined;
  const layers = { landlock: run.plan?.enforced ?? false, done: "run" };
  const program = [...programOf(policy, layers)];
  // every exec (the launch's is let through), every seccomp (a listener of the program's own is reported)
  const section = policy.landlock;
  const tcp =
    section && (run.plan?.enforced.bindTcp || run.plan?.enforced.connectTcp)
      ? {
          bind: run.plan?.enforced.bindTcp ? section.bindTcp?.map((p) => p.port) : undefined,
          connect: run.plan?.enforced.connectTcp ? section.connectTcp?.map((p) => p.port) : undefined,
        }
      : undefined;
  const signalScope = run.plan?.enforced.signal === true;
  const notify = [
    "execve",
    "execveat",
    "seccomp",
    ...(files ? fileCalls() : []),
    ...(tcp?.bind ? ["bind"] : []),
    ...(tcp?.connect ? ["connect"] : []),
    ...(signalScope ? SIGNAL_CALLS : []),
  ]
    .map((n) => syscallNumber(arch, n))
    .filter((n): n is number => n !== undefined);
  const body = [...programOf(learningPolicy(policy), layers)];
  const learning = learningProgram(body, ARCHES[arch].audit, notify);
  return { path, files, program, tcp, signalScope, body, learning };
}

/** Starts the supervisor worker: `started` once it is ready, `counted` with what it counted at the end. */
function startWorker(input: SupervisorInput) {
  const worker = new Worker(WORKER, { workerData: input });
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const counted = new Promise<LearnCounts>((resolve, reject) => {
    worker.on("message", (m: LearnCounts | { ready: true }) => {
      if ("ready" in m) ready();
      else resolve(m);
    });
    worker.once("error", reject);
  });
  return { started, counted };
}

/** The program's signals: passed on while it runs; a second one ends the supervision (see docs).
 * `asked()`: how many came; `off()` stops passing them. */
function passSignals(run: LearnRun, pid: number, control: SharedArrayBuffer, gone: () => boolean) {
  let asked = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    asked++;
    if (asked > 1 && gone()) {
      run.onNote(
        `${signal} again: the supervision ends now; calls still notified by the program's remaining processes fail with ENOSYS.`,
      );
      Atomics.store(new Int32Array(control), 1, 1);
      return;
    }
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, onSignal);
  return {
    asked: () => asked,
    off: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}

/** Runs the command under the learning filter of `run.policy`, supervised to its end (and its children's). */
export async function learnRun(run: LearnRun): Promise<LearnResult> {
  const arch = nativeArch();
  const { policy } = run;
  const { path, files, program, tcp, signalScope, body, learning } = learningSetup(run, arch);
  const flags = checkKernel();
  const startedAt = new Date().toISOString();
  const child = spawn(
    process.execPath,
    [LAUNCHER, String(flags), String(process.pid), path, ...run.command],
    {
      stdio: ["inherit", "inherit", "inherit", "pipe"],
    },
  );
  const pid = child.pid as number;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  // signals are passed on from the spawn: one that comes while the launcher waits stopped ends it when it
  // is resumed (sysfence no longer dies of it and leaves the launcher behind)
  const control = new SharedArrayBuffer(8);
  const signals = passSignals(run, pid, control, () => gone);
  // (and given back however the run ends: a failed start too)
  try {
    (child.stdio[3] as NodeJS.WritableStream).end(encodeProgram(learning));
    const calls = loadNotifyCalls();
    const target = await listenerOf(pid, () => gone);
    const fd = calls.takeFd(pid, target);
    const { started, counted } = startWorker({
      fd,
      launcherPid: pid,
      audit: ARCHES[arch].audit,
      arch,
      program,
      learning: body,
      lists: files && policy.landlock ? listsOf(policy.landlock) : undefined,
      tcp,
      signalScope,
      mode: run.mode,
      control,
    });
    // the supervisor's start-up (loading its modules) is over before the program's first instruction
    await Promise.race([started, counted]);
    await waitStopped(pid, () => gone);
    Atomics.store(new Int32Array(control), 0, 1);
    process.kill(pid, "SIGCONT");
    const { code, signal } = await exited;
    const counts = await counted;
    calls.close(fd);
    const status = code ?? 128 + (signal ? signalNumber(signal) : 0);
    return {
      counts,
      status,
      profile: profileOf(run.command, counts, {
        complete: signals.asked() === 0,
        exitStatus: code ?? undefined,
        signal: signal ?? undefined,
        startedAt,
      }),
    };
  } finally {
    signals.off();
  }
}

const signalNumber = (s: NodeJS.Signals): number => (constants.signals as Record<string, number>)[s] ?? 0;

/** Finds the launcher's listener among its descriptors (it appears once the filter is installed). */
async function listenerOf(pid: number, gone: () => boolean): Promise<number> {
  for (let i = 0; i < 5000; i++) {
    if (gone())
      throw new SysfenceError(
        "E_LEARN",
        "the launcher ended before its learning filter was installed; nothing was learned.",
      );
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        let link = "";
        try {
          link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        if (link === "anon_inode:seccomp notify") return Number(fd);
      }
    } catch {
      // not there yet, or gone
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new SysfenceError(
    "E_LEARN",
    "the launcher's listener did not appear within 10 s; nothing was learned.",
  );
}

async function waitStopped(pid: number, gone: () => boolean): Promise<void> {
  if (await untilStopped(pid, 10000, gone)) return;
  throw new SysfenceError(
    "E_LEARN",
    gone()
      ? "the launcher ended before the program started; nothing was learned."
      : "the launcher did not reach its start line within 10 s; nothing was learned.",
  );
}

/** The counts as a profile in record's format (engine "learn"): the builder reads them as kernel counts. */
export function profileOf(
  command: string[],
  counts: LearnCounts,
  meta: { complete: boolean; exitStatus?: number; signal?: string; startedAt?: string },
): Profile {
  const builder = new ProfileBuilder(command);
  const strings = new StringTable();
  const batch = new EventBatch();
  const value = (s: string) => (s === "" ? undefined : s);
  // each image's calls after it, in the order counted
  const calls = new Map<number, ImageCount[]>(counts.images.map((img) => [img.id, []]));
  for (const [tid, image, name, v0, v1, v2, n, errors] of counts.calls)
    calls.get(image)?.push({ tid, name, values: [value(v0), value(v1), value(v2)], n, errors, work: false });
  for (const img of counts.images) pushImage(batch, strings, img, calls.get(img.id) ?? []);
  for (const [path, access, n] of counts.paths) {
    const i = batch.push(Ev.paths, -1, -1);
    batch.columns.path[i] = strings.id(path);
    batch.columns.access[i] = access;
    batch.columns.n[i] = n;
  }
  builder.addBatch(batch.columns, strings.list);
  const profile = builder.build({
    engine: { name: "learn" },
    arch: nativeArch(),
    complete: meta.complete,
    exitStatus: meta.exitStatus,
    signal: meta.signal,
    startedAt: meta.startedAt,
    endedAt: new Date().toISOString(),
  });
  for (const proc of profile.processes) {
    const ran = proc.exe.startsWith("/") ? elfOfProgram(proc.exe) : undefined;
    if (ran?.buildId) proc.buildId = ran.buildId;
    if (ran && ran.elf !== proc.exe) proc.elf = ran.elf;
  }
  return profile;
}
