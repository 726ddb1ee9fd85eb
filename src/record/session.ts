// What both recording engines do around the program they record: live progress, Ctrl-C and SIGTERM
// (the profile is still written, marked incomplete), and the exit status the way a shell reports it.
import type { ChildProcess } from "node:child_process";
import { constants } from "node:os";
import type { ProfileBuilder } from "./builder.js";
import type { RecordOptions } from "./options.js";

/** A recording in progress; stop() undoes what watch() set up. */
export interface Watch {
  /** True once Ctrl-C or SIGTERM arrived. */
  interrupted(): boolean;
  stop(): void;
}

/**
 * Reports progress every 200 ms when asked; notes Ctrl-C (the terminal sends it to the whole process
 * group, so the program sees it too) and passes SIGTERM on to `child`.
 */
export function watch(
  builder: ProfileBuilder,
  options: RecordOptions,
  child: () => ChildProcess | undefined,
): Watch {
  let interrupted = false;
  const onInt = () => {
    interrupted = true;
  };
  const onTerm = () => {
    interrupted = true;
    child()?.kill("SIGTERM");
  };
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  const timer = options.onProgress
    ? setInterval(
        () =>
          options.onProgress?.({
            calls: builder.calls,
            distinct: builder.distinct(),
            processes: builder.processCount(),
          }),
        200,
      )
    : undefined;
  return {
    interrupted: () => interrupted,
    stop: () => {
      if (timer) clearInterval(timer);
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    },
  };
}

/** The status a shell would show for the program: its exit code, or 128 + the signal that ended it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}
