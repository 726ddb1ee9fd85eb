// `sysfence hook oci --output-dir DIR`: an OCI runtime hook (createRuntime, or podman's prestart) that
// records a container from its program's first own call. The runtime passes the container's state on
// stdin; the annotation io.sysfence.record=NAME asks for a recording into DIR/NAME. The hook starts a
// detached recorder attached to the container's init and returns only once it sees every call (or fails the
// hook after --timeout): no early call is lost, and the runtime's init calls are not counted.
import { statSync } from "node:fs";
import type { Command } from "commander";
import { type CliIO, UsageError } from "../io.js";
import { HOOK_ENGINES, oneOf } from "../option-values.js";

export { outputOf, parseState, RECORD_ANNOTATION } from "../../api/hook.js";

/** `sysfence hook oci`. */
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
      const { ociHook } = await import("../../api/hook.js");
      const r = await ociHook({ outputDir: opts.outputDir, engine: opts.engine, timeout });
      if (r === undefined) return; // not asked: the container starts as if there were no hook
      io.stderr(`sysfence hook: recording container ${r.id} (pid ${r.pid}) into ${r.out}\n`);
    });
}
