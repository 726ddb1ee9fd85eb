// The corpus's program descriptions: a command-line program is a sequence of commands run in a fresh
// directory; a daemon is a command started in one, driven by client uses while it runs, then stopped.
import { spawnSync } from "node:child_process";

/** What a command did. */
export interface Outcome {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  pid?: number;
}

/** One command of a command-line program, run in the program's directory. */
export interface Step {
  name: string;
  /** The command (a function of the directory when it names files set up there, such as a port). */
  argv: string[] | ((dir: string) => string[]);
  input?: string;
  /** Run on a pseudo-terminal (script(1) holds it; the program's stdin/stdout are the terminal). */
  tty?: boolean;
  env?: Record<string, string>;
  /** A command run untraced after this one, whose stdout joins the key (what the step left on disk). */
  after?: string[];
  /** What must be the same with and without the policy (default: exit status and stdout). */
  key?: (o: Outcome) => string;
  /** Known to fail under today's generated policy: the failing call (node:test todo). */
  todo?: string;
}

export interface CliProgram {
  kind: "cli";
  name: string;
  /** Commands that must be installed (checked with `command -v`). */
  needs: string[];
  /** Names its executables start with (which SECCOMP records of the kernel log are the program's). */
  exes: string[];
  /** Prepares a fresh directory (files, a repository); returns what to undo after the program's tests. */
  setup: (dir: string) => Promise<(() => void) | undefined> | (() => void) | undefined;
  /** The one small use recorded. */
  record: Step;
  /** Broader ordinary uses, in order (each sees the state the earlier ones left). */
  uses: Step[];
}

/** One client use of a running daemon; returns the key output compared with and without the policy. */
export interface DaemonUse {
  name: string;
  run: (port: number, dir: string, pid: number) => Promise<string> | string;
  todo?: string;
}

export interface DaemonProgram {
  kind: "daemon";
  name: string;
  needs: string[];
  exes: string[];
  /** The daemon runs as nobody (postgres refuses root): record and run start it through setpriv. */
  asNobody?: boolean;
  setup: (dir: string) => Promise<void> | void;
  argv: (port: number, dir: string) => string[];
  env?: Record<string, string>;
  /** Resolves when the daemon serves. */
  ready: (port: number, dir: string) => Promise<void>;
  /** The one small use recorded (throws on a failed request). */
  recordLoad: (port: number, dir: string) => Promise<void> | void;
  uses: DaemonUse[];
  /** Known to fail to stop cleanly under today's policy. */
  stopTodo?: string;
}

export type Program = CliProgram | DaemonProgram;

/** Runs a command to its end (30 s at most) without a shell. */
export function exec(
  argv: string[],
  o: { cwd?: string; input?: string; env?: Record<string, string>; timeout?: number } = {},
): Outcome {
  const r = spawnSync(argv[0], argv.slice(1), {
    cwd: o.cwd,
    input: o.input,
    env: { ...process.env, ...o.env },
    encoding: "utf8",
    timeout: o.timeout ?? 30_000,
    maxBuffer: 64 << 20,
  });
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? "",
    stderr: (r.stderr ?? "") + (r.error ? String(r.error) : ""),
    pid: r.pid,
  };
}

/** Like exec, but throws with the command's stderr unless it exits 0; returns stdout. */
export function must(argv: string[], o: Parameters<typeof exec>[1] = {}): string {
  const r = exec(argv, o);
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** A shell word for script(1)'s -c. */
export const shq = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns true (or throws after `ms`). */
export async function until(what: string, probe: () => boolean | Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`${what}: not ready after ${ms} ms`);
    await sleep(100);
  }
}

/** curl against a daemon of the corpus: its exit status and body, as a use's comparable result. */
export function curl(...args: string[]): string {
  const r = exec(["curl", "-sS", "--max-time", "10", ...args]);
  return `exit ${r.status}: ${r.stdout.trim()}`;
}

/** A URL on the loopback daemon's port. */
export const localUrl = (port: number, path = "/") => `http://127.0.0.1:${port}${path}`;

/** 20 GETs of `path` at once (curl -Z): their status codes. */
export const parallelGets = (port: number, path: string): string =>
  curl(
    "-Z",
    "-w",
    "%{http_code}\\n",
    ...Array.from({ length: 20 }, () => ["-o", "/dev/null", localUrl(port, path)]).flat(),
  );

/** A use that sends the daemon `signal`, waits half a second and GETs `path`. */
export const signalThenGet =
  (signal: NodeJS.Signals, path: string) => async (port: number, _dir: string, pid: number) => {
    process.kill(pid, signal);
    await sleep(500);
    return curl(localUrl(port, path));
  };
