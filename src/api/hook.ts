// `sysfence hook oci`: an OCI runtime hook that starts a recorder on a container whose annotation asks for
// one, and returns once the recorder says it is attached (or fails the hook). Prints nothing.
import { spawn } from "node:child_process";
import { readlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SysfenceError } from "../errors.js";
import { checkOutputFile } from "../util/output-file.js";
import { readAllStdin } from "../util/read-input.js";

/** The annotation that asks for a recording, and the file name it may carry. */
export const RECORD_ANNOTATION = "io.sysfence.record";
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$/;
const RECORDER = fileURLToPath(new URL("../record/hook-recorder.js", import.meta.url));

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

/** ociHook()'s options: where profiles go, the engine, and how long the recorder may take to attach. */
export interface OciHookOptions {
  outputDir: string;
  engine: string;
  /** Seconds. */
  timeout: number;
}

/**
 * Runs the OCI hook: the runtime's state read from `stdin` (default: the process's standard input), the recorder started on the container's init
 * when its annotation asks (undefined: not asked), and the recording's container, pid and file returned
 * once the recorder is attached; not attached within the timeout fails the hook (E_IO).
 */
export async function ociHook(
  opts: OciHookOptions,
  stdin: () => Promise<Uint8Array> = readAllStdin,
): Promise<{ id: string; pid: number; out: string } | undefined> {
  const timeout = opts.timeout;
  const state = parseState(Buffer.from(await stdin()).toString("utf8"));
  const out = outputOf(state, opts.outputDir);
  if (out === undefined) return undefined; // not asked: the container starts as if there were no hook
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
  return { id: state.id ?? "?", pid: state.pid, out };
}
