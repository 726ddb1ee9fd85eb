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
