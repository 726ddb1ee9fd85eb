// The exec plumbing a launch shares (run, and the launchers of record and learn): finding the command as
// execvp does, execve's memory, what the program inherits, and the error when execve fails. Only the libc
// binding and the errno names: a launcher that loads this starts without the policy, compile and install
// modules (record's launcher is on the path of every recording's start).
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { getSystemErrorMap } from "node:util";
import { SysfenceError } from "../errors.js";
import { ERRNO } from "../syscalls/generated/constants.js";
import { inheritStdio, type Libc } from "./ffi.js";

/**
 * Finds a command like execvp does; throws E_COMMAND_NOT_FOUND naming what was searched, with the errno of
 * why as its cause's code: ENOENT when nothing by that name exists (exit 127), another (EACCES: found but
 * not executable, EISDIR …) when something exists that cannot be executed (126).
 */
export function resolveCommand(cmd: string, env: NodeJS.ProcessEnv = process.env): string {
  const explicit = cmd.includes("/");
  const candidates = explicit
    ? [isAbsolute(cmd) ? cmd : resolve(cmd)]
    : (env.PATH ?? "/usr/local/bin:/usr/bin:/bin")
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, cmd));
  // the first thing found that cannot be executed, as execvp reports it (EACCES) when nothing can be
  let refused: { path: string; code: string } | undefined;
  let missing = "ENOENT";
  for (const c of candidates) {
    try {
      const st = statSync(c);
      if (!st.isFile()) {
        refused ??= { path: c, code: st.isDirectory() ? "EISDIR" : "EACCES" };
        continue;
      }
      accessSync(c, constants.X_OK);
      return c;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "ENOENT";
      if (code === "EACCES") refused ??= { path: c, code };
      else if (explicit) missing = code;
    }
  }
  if (refused) {
    const why = refused.code === "EISDIR" ? "is a directory" : "is not executable";
    throw new SysfenceError(
      "E_COMMAND_NOT_FOUND",
      `command '${cmd}' cannot be executed: ${refused.path} ${why} (${errnoText(refused.code)}); nothing was run.`,
      { cause: Object.assign(new Error(errnoText(refused.code)), { code: refused.code }) },
    );
  }
  throw new SysfenceError(
    "E_COMMAND_NOT_FOUND",
    explicit
      ? `command '${cmd}' does not exist (${errnoText(missing)}); nothing was run.`
      : `command '${cmd}' was not found in PATH; nothing was run.`,
    { cause: Object.assign(new Error(errnoText(missing)), { code: missing }) },
  );
}

/** "ENOEXEC: exec format error" for an errno name or number (libuv's text, as Node's own errors say it). */
export function errnoText(errno: string | number): string {
  try {
    for (const [n, [name, text]] of getSystemErrorMap())
      if (name === errno || -n === errno) return `${name}: ${text}`;
  } catch {
    // (under a filter that refuses what this needs: the name alone)
  }
  // errnos execve gives that libuv has no text for
  const name = typeof errno === "number" ? Object.keys(ERRNO).find((k) => ERRNO[k] === errno) : errno;
  if (name === undefined) return `errno ${errno}`;
  return EXEC_ERRNO_TEXT[name] ? `${name}: ${EXEC_ERRNO_TEXT[name]}` : name;
}

const EXEC_ERRNO_TEXT: Record<string, string> = {
  ENOEXEC: "exec format error",
  ELIBBAD: "accessing a corrupted shared library",
  ELIBACC: "can not access a needed shared library",
};

const SIGPIPE = 13;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const SIGXFSZ = 25;

/** execve's memory: the path, argv (argv[0] as given) and this process's environment, as C arrays. */
export function execMemory(
  c: Libc,
  path: string,
  argv: readonly string[],
): { pathBuf: Buffer; argvBuf: Buffer; envBuf: Buffer; keep: Buffer[] } {
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  const cstr = (s: string) => Buffer.from(`${s}\0`);
  const keep: Buffer[] = [];
  const pointerArray = (items: readonly string[]) => {
    const arr = Buffer.alloc(8 * (items.length + 1));
    items.forEach((s, i) => {
      const b = cstr(s);
      keep.push(b);
      arr.writeBigUInt64LE(c.address(b), 8 * i);
    });
    return arr;
  };
  return { pathBuf: cstr(path), argvBuf: pointerArray(argv), envBuf: pointerArray(env), keep };
}

/** What the program inherits as from a shell: stdio without close-on-exec, SIGPIPE and SIGXFSZ at default. */
export function prepareForExec(c: Libc): void {
  inheritStdio(c);
  // systemd socket activation: the sockets at 3… are the program's (Node marked fds 0–15 close-on-exec
  // at start-up, libuv's uv_disable_stdio_inheritance); exec in place keeps LISTEN_PID true
  const listenFds = Number(process.env.LISTEN_FDS);
  if (process.env.LISTEN_PID === String(process.pid) && Number.isInteger(listenFds) && listenFds > 0)
    for (let fd = 3; fd < 3 + Math.min(listenFds, 1024); fd++) {
      const flags = c.fcntl(fd, F_GETFD, 0);
      if (flags >= 0 && flags & FD_CLOEXEC) c.fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
  // Node ignores SIGPIPE; ignored signals survive execve, so give the target the defaults back.
  c.resetSignal(SIGPIPE);
  c.resetSignal(SIGXFSZ);
}

/** After a failed execve: the error on stderr, exit 127 (not found) or 126 (cannot execute). */
export function execFailed(c: Libc, path: string, keep: Buffer[]): never {
  keep.length = 0;
  const errno = c.errno();
  c.writeStderr(execFailedText(path, errno));
  return c.exit(errno === ENOENT ? 127 : 126);
}

/** What sysfence says on stderr when the execve of path failed with errno (a number). */
export function execFailedText(path: string, errno: number): string {
  return `sysfence: execve ${path} failed: ${errnoText(errno)}${EXEC_HINTS[errno] ?? ""}\n`;
}

const ENOENT = 2;
/** What a failed execve of a file that exists most likely means. */
const EXEC_HINTS: Record<number, string> = {
  [ENOENT]: " (the file exists: its #! interpreter or ELF loader does not)",
  8: " (not a program this kernel runs: a script needs a #! line)",
  1: " (refused: by the policy's answer to execve, or a mount with noexec)",
  13: " (refused: not executable, a noexec mount, or the policy's Landlock layer)",
};
