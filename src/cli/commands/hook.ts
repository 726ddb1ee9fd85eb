// `sysfence hook oci --output-dir DIR`: an OCI runtime hook (createRuntime, or podman's prestart) that
// records a container from its program's first own call. The runtime passes the container's state on
// stdin; the annotation io.sysfence.record=NAME asks for a recording into DIR/NAME. The hook starts a
// detached recorder attached to the container's init and returns only once it sees every call (or fails the
// hook after --timeout): no early call is lost, and the runtime's init calls are not counted.
import { spawn } from "node:child_process";
import { readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { SysfenceError } from "../../errors.js";
import { checkOutputFile } from "../../util/output-file.js";
import type { CliIO } from "../io.js";
import { UsageError } from "../io.js";
import { HOOK_ENGINES, oneOf } from "../option-values.js";

/** The annotation that asks for a recording, and the file name it may carry. */
export const RECORD_ANNOTATION = "io.sysfence.record";
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$/;
const RECORDER = fileURLToPath(new URL("../../record/hook-recorder.js", import.meta.url));

/** The container state an OCI runtime hands its hooks on stdin (runtime-spec "state"). */
interface ContainerState {
  id?: string;
  pid?: number;
  annotations?: Record<string, string>;
}

/** Reads the state; a hook's input is the runtime's, so anything unexpected is an error naming it. */
export function parseState(text: string): ContainerState {
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    throw new SysfenceError(
      "E_USAGE",
      "hook oci: the runtime's state on stdin is not JSON; run as an OCI hook.",
    );
  }
  if (typeof state !== "object" || state === null)
    throw new SysfenceError("E_USAGE", "hook oci: no container state.");
  return state as ContainerState;
}

/** The file a state's annotation asks for, inside `dir` only (no '/', no '..'); undefined: not asked. */
export function outputOf(state: ContainerState, dir: string): string | undefined {
  const name = state.annotations?.[RECORD_ANNOTATION];
  if (name === undefined) return undefined;
  if (!FILE_NAME.test(name) || name.includes(".."))
    throw new SysfenceError(
      "E_USAGE",
      `hook oci: annotation ${RECORD_ANNOTATION}=${JSON.stringify(name)} must be a plain file name (letters, digits, . _ -; no '/', no '..'): profiles go only to ${dir}.`,
    );
  return join(dir, name);
}

export function registerHook(program: Command, io: CliIO): void {
  program
    .command("hook")
    .description(
      "OCI runtime hook: record a container from its first own call (annotation io.sysfence.record=NAME)",
    )
    .argument("<kind>", "oci")
    .requiredOption("--output-dir <dir>", "where profiles go (an annotation names only a file in it)")
    .option("--engine <engine>", "bpf or ftrace (the engines that say when they are attached)", "ftrace")
    .option("--timeout <seconds>", "fail the hook when the recorder is not attached by then", "20")
    .action(async (kind: string, opts: { outputDir: string; engine: string; timeout: string }) => {
      if (kind !== "oci") throw new UsageError(`unknown hook '${kind}'; use oci.`);
      if (!oneOf(HOOK_ENGINES, opts.engine))
        throw new UsageError(
          `--engine ${opts.engine}: the hook needs bpf or ftrace (strace cannot say when it is attached).`,
        );
      const timeout = Number(opts.timeout);
      if (!(timeout > 0)) throw new UsageError(`--timeout '${opts.timeout}': give seconds.`);
      if (!statSync(opts.outputDir, { throwIfNoEntry: false })?.isDirectory())
        throw new UsageError(`--output-dir ${opts.outputDir} is not a directory.`);
      const { readAllStdin } = await import("../../util/read-input.js");
      const state = parseState((await readAllStdin()).toString("utf8"));
      const out = outputOf(state, opts.outputDir);
      if (out === undefined) return; // not asked: the container starts as if there were no hook
      if (!state.pid || !Number.isInteger(state.pid))
        throw new SysfenceError(
          "E_USAGE",
          "hook oci: the state has no pid; use the hook at createRuntime or prestart.",
        );
      checkOutputFile(out);
      let runtimeExe = "";
      try {
        runtimeExe = readlinkSync(`/proc/${state.pid}/exe`);
      } catch {
        throw new SysfenceError("E_USAGE", `hook oci: the container's init (pid ${state.pid}) is gone.`);
      }
      const child = spawn(process.execPath, [RECORDER, String(state.pid), out, opts.engine, runtimeExe], {
        detached: true,
        // nothing of the runtime's: a runtime reads its hook's output until every holder has closed it
        stdio: ["ignore", "ignore", "ignore", "pipe"],
      });
      const pipe = child.stdio[3] as NodeJS.ReadableStream;
      const ready = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeout * 1000);
        pipe.once("data", () => {
          clearTimeout(timer);
          resolve(true);
        });
        child.once("exit", () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      (pipe as unknown as { destroy(): void }).destroy();
      child.unref();
      if (!ready) {
        child.kill("SIGKILL");
        throw new SysfenceError(
          "E_IO",
          `hook oci: the recorder was not attached to container ${state.id ?? "?"} (pid ${state.pid}) within ${timeout} s; the hook fails so no call goes unrecorded.`,
        );
      }
      io.stderr(`sysfence hook: recording container ${state.id ?? "?"} (pid ${state.pid}) into ${out}\n`);
    });
}
