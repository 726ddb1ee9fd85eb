import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";

/** Runs the CLI in-process; its exit code and what it printed. */
export async function runCli(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

/** The built CLI. */
export const CLI_PATH = fileURLToPath(new URL("../../../dist/src/cli/main.js", import.meta.url));
/** The uid and gid tests act as when they play another local user. */
export const NOBODY = 65534;

/** Runs the built CLI in a child process, optionally as `nobody` (setpriv), with extra environment. */
export function spawnCli(
  args: string[],
  opts: { asNobody?: boolean; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
) {
  const argv = [process.execPath, CLI_PATH, ...args];
  const [cmd, ...rest] = opts.asNobody
    ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", ...argv]
    : argv;
  return spawnSync(cmd, rest, {
    encoding: "utf8",
    timeout: 20000,
    cwd: opts.cwd,
    input: opts.input,
    env: { ...process.env, ...opts.env },
  });
}
