// What every recording engine does around the program it records: live progress, stops, and the exit
// status the way a shell reports it.
//
// Stops: SIGTERM and SIGHUP sent to sysfence are passed on to the program (never to strace, which blocks
// fatal signals while it writes to a file); Ctrl-C reaches the whole foreground process group from the
// terminal, so SIGINT is passed on only when it did not come that way. A program that has not ended
// `grace` seconds after the first stop signal is killed with its descendants (SIGKILL), as is one that
// gets a second stop signal. The profile is still written, marked incomplete.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { alive, descendantsOf, procStat, signalQuietly } from "../util/proc-tree.js";
import type { ProfileBuilder } from "./builder.js";
import type { RecordOptions } from "./options.js";

/** Seconds a stopped program gets to exit before it is killed, unless --grace says otherwise. */
export const DEFAULT_GRACE_SECONDS = 10;

/** A recording in progress; stop() undoes what watch() set up. */
export interface Watch {
  /** True once a stop signal arrived. */
  interrupted(): boolean;
  /** Passes on a stop signal that arrived before the program was known (its launch was still under way). */
  deliverPending(): void;
  stop(): void;
}

/**
 * Watches a recording: progress every 200 ms when asked, and the stop signals. `program()` is the
 * recorded program's pid once it is known.
 */
export function watch(
  builder: ProfileBuilder,
  options: RecordOptions,
  program: () => number | undefined,
): Watch {
  let interrupted = false;
  let stopped = false;
  let undelivered: NodeJS.Signals | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const grace = (options.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
  const killTree = () => {
    const pid = program();
    if (pid === undefined) return;
    const tree = [pid, ...descendantsOf(pid)];
    for (const p of tree) signalQuietly(p, "SIGKILL");
  };
  const onStop = (signal: NodeJS.Signals) => {
    const pid = program();
    if (interrupted) {
      killTree(); // a second stop: now
      return;
    }
    interrupted = true;
    if (signal === "SIGINT" && fromTerminal()) {
      // the terminal sent it to the whole group, the program included
    } else if (pid !== undefined) signalQuietly(pid, signal);
    else undelivered = signal;
    graceTimer = setTimeout(() => {
      const p = program();
      if (p !== undefined && alive(p)) killTree();
    }, grace);
    graceTimer.unref();
  };
  const handlers: [NodeJS.Signals, () => void][] = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => [
    s,
    () => onStop(s),
  ]);
  for (const [s, h] of handlers) process.on(s, h);
  const reaper = startReaper();
  const timer = setInterval(() => {
    const pid = program();
    if (pid !== undefined) reaper.watch([pid, ...descendantsOf(pid)]);
    options.onProgress?.({
      calls: builder.calls,
      distinct: builder.distinct(),
      processes: builder.processCount(),
    });
  }, 100);
  return {
    interrupted: () => interrupted,
    deliverPending: () => {
      const pid = program();
      if (undelivered && pid !== undefined) signalQuietly(pid, undelivered);
      undelivered = undefined;
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      reaper.release();
      if (graceTimer) clearTimeout(graceTimer);
      for (const [s, h] of handlers) process.off(s, h);
    },
  };
}

/** True when sysfence's process group is its terminal's foreground group: Ctrl-C went to all of it. */
function fromTerminal(): boolean {
  const s = procStat(process.pid);
  return s !== undefined && s.tpgid > 0 && s.tpgid === s.pgrp;
}

/** The status a shell would show for the program: its exit code, or 128 + the signal that ended it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}

/**
 * A reaper outlives a SIGKILLed sysfence: a small shell in its own process group reads the pids of the
 * recorded program's tree on its stdin; when that pipe closes without "done" (sysfence died), it kills
 * them. strace 6.1 has no --kill-on-exit, and the ftrace and bpf engines leave the program running.
 */
function startReaper(): { watch(pids: number[]): void; release(): void } {
  const script =
    'pids=""; while read -r p; do [ "$p" = done ] && exit 0; pids="$pids $p"; done; [ -n "$pids" ] && kill -9 $pids 2>/dev/null; exit 0';
  // started with the first pids it is given (the first progress tick, 100 ms in): a reaper without pids
  // kills nothing, and a shell's start is not on the path of every recording's start
  let child: ReturnType<typeof spawn> | undefined;
  const reaper = () => {
    if (child) return child;
    child = spawn("sh", ["-c", script], { stdio: ["pipe", "ignore", "ignore"], detached: true });
    child.on("error", () => {}); // no sh: no reaper; the normal paths still stop the program
    child.stdin?.on("error", () => {});
    child.unref();
    return child;
  };
  const sent = new Set<number>();
  return {
    watch: (pids) => {
      const fresh = pids.filter((p) => !sent.has(p));
      for (const p of fresh) sent.add(p);
      if (fresh.length) reaper().stdin?.write(`${fresh.join("\n")}\n`);
    },
    release: () => {
      child?.stdin?.end("done\n");
    },
  };
}
