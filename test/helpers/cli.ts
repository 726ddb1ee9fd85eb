import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

/** The repository root (with a trailing slash). */
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** setpriv's arguments that make a command run as nobody. */
export const AS_NOBODY = ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"];

let nobodyCopy: string | undefined;
/**
 * A root `nobody` can run the built sysfence from: the repository itself when nobody may read it, else a
 * world-readable copy of dist/, node_modules/ and package.json (a clone under a 0700 directory, as
 * `mktemp -d` makes, is closed to other users). Copies keep mtimes, so program-cache keys match.
 */
export function nobodyRoot(): string {
  if (nobodyCopy) return nobodyCopy;
  const readable = spawnSync(AS_NOBODY[0], [...AS_NOBODY.slice(1), "test", "-r", CLI_PATH]).status === 0;
  if (readable) nobodyCopy = REPO_ROOT;
  else {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-nobody-"));
    execFileSync("cp", [
      "-a",
      `${REPO_ROOT}dist`,
      `${REPO_ROOT}node_modules`,
      `${REPO_ROOT}package.json`,
      dir,
    ]);
    execFileSync("chmod", ["-R", "a+rX", dir]);
    nobodyCopy = `${dir}/`;
  }
  return nobodyCopy;
}

/** Runs the built CLI in a child process, optionally as `nobody` (setpriv), with extra environment. */
export function spawnCli(
  args: string[],
  opts: { asNobody?: boolean; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
) {
  const [cmd, ...rest] = opts.asNobody
    ? [...AS_NOBODY, process.execPath, `${nobodyRoot()}dist/src/cli/main.js`, ...args]
    : [process.execPath, CLI_PATH, ...args];
  return spawnSync(cmd, rest, {
    encoding: "utf8",
    timeout: 20000,
    cwd: opts.cwd,
    input: opts.input,
    env: { ...process.env, ...opts.env },
  });
}

/**
 * `sysfence record --engine bpf --pid PID --duration 30 -o OUT`, started: `liveOrEnded` settles once it
 * says "recording PID … (live)" (every call from then on is counted) or exits; `ended` gives its status.
 */
export function recordPidLive(pid: number, out: string) {
  const rec = spawn(
    process.execPath,
    [CLI_PATH, "record", "--engine", "bpf", "--pid", String(pid), "--duration", "30", "-o", out],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  const live = new Promise<void>((resolve) =>
    rec.stderr.on("data", (d) => {
      stderr += d;
      if (/recording PID \d+ \(live\)/.test(stderr)) resolve();
    }),
  );
  const ended = new Promise<number | null>((r) => rec.on("exit", r));
  return { liveOrEnded: Promise.race([live, ended]), ended, stderr: () => stderr };
}
