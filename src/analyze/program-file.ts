// Which ELF file a program name or path runs, as the shell and the kernel find it: a name without a slash
// is looked up in PATH; a `#!` script runs its interpreter (`#!/usr/bin/env NAME` looks NAME up in PATH
// too), up to the kernel's nesting limit. Static analysis, build-ids and launches all need the ELF.
import { accessSync, closeSync, constants, openSync, readSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { SysfenceError } from "../errors.js";
import { systemErrorText } from "../util/errno.js";
import { buildIdOfFile, interpreterOfFile } from "./elf.js";

/** The kernel reads this much of a file to find `#!` and the interpreter line (BINPRM_BUF_SIZE). */
const BINPRM_BUF_SIZE = 256;
/** Interpreters nest at most this deep (the kernel's limit is 5 binfmt rounds; a script's interpreter counts). */
const MAX_NESTING = 4;

/** A program and what it runs: the scripts in order, then the ELF. */
export interface ProgramFile {
  /** The ELF file the kernel ends up running. */
  elf: string;
  /** The `#!` scripts on the way, outermost first (empty for an ELF). */
  scripts: string[];
}

/** The file `name` names: itself when it has a slash, else the first executable regular file in PATH. */
export function findInPath(name: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (name.includes("/")) return isAbsolute(name) ? name : resolve(cwd, name);
  const dirs = (env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(":");
  for (const dir of dirs) {
    const candidate = resolve(cwd, dir || ".", name);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new SysfenceError(
    "E_IO",
    `'${name}' is not in PATH (${dirs.join(":")}); give its path, e.g. /usr/bin/${name}.`,
  );
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The interpreter line of a `#!` file (`[interpreter, optional argument]`), or undefined for any other file. */
export function shebang(path: string): [string, string?] | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new SysfenceError("E_IO", `cannot read ${path}: ${systemErrorText(e)}.`, {
      cause: e,
    });
  }
  const buf = Buffer.alloc(BINPRM_BUF_SIZE);
  let n: number;
  try {
    n = readSync(fd, buf, 0, buf.length, 0);
  } catch (e) {
    throw new SysfenceError("E_IO", `cannot read ${path}: ${systemErrorText(e)}.`, {
      cause: e,
    });
  } finally {
    closeSync(fd);
  }
  const line = interpreterLine(buf.subarray(0, n));
  if (line?.[0] === "")
    throw new SysfenceError(
      "E_ANALYZE",
      `${path} starts with '#!' but names no interpreter; fix its first line.`,
    );
  return line;
}

/**
 * The interpreter line of a file's first bytes, as the kernel reads it: spaces and tabs separate the
 * interpreter from one optional argument (the rest of the line); undefined without `#!`, [""] for an empty line.
 */
export function interpreterLine(head: Uint8Array): [string, string?] | undefined {
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.length);
  const end = bytes.indexOf(0x0a);
  const line = bytes
    .subarray(2, end < 0 ? bytes.length : end)
    .toString("utf8")
    .replace(/^[ \t]+|[ \t]+$/g, "");
  const m = /^(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (!m) return [""];
  return m[2] === undefined ? [m[1]] : [m[1], m[2]];
}

/** Follows PATH and `#!` lines from `nameOrPath` to the ELF the kernel runs. */
export function programFile(
  nameOrPath: string,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): ProgramFile {
  const scripts: string[] = [];
  let path = findInPath(nameOrPath, env, cwd);
  for (;;) {
    const line = shebang(path);
    if (!line) return { elf: path, scripts };
    scripts.push(path);
    if (scripts.length > MAX_NESTING)
      throw new SysfenceError(
        "E_ANALYZE",
        `${scripts[0]}: more than ${MAX_NESTING} nested #! interpreters (${scripts.join(" → ")}); the kernel refuses that too.`,
      );
    const [interpreter, arg] = line;
    path = isEnv(interpreter) && arg ? findInPath(envProgram(arg, path), env, cwd) : interpreter;
    if (!isAbsolute(path)) path = resolve(cwd, path);
  }
}

const isEnv = (p: string) => p === "/usr/bin/env" || p === "/bin/env";

/** The program `#!/usr/bin/env ARG` runs: ARG's first word, past env's options and NAME=VALUE settings. */
function envProgram(arg: string, script: string): string {
  for (const word of arg.split(/[ \t]+/)) {
    if (word === "-S" || word === "--split-string" || word.startsWith("-")) continue;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    return word;
  }
  throw new SysfenceError("E_ANALYZE", `${script}: '#!/usr/bin/env ${arg}' names no program.`);
}

/** The ELF a program runs (a script's interpreter) and its build-id; undefined when it cannot be read. */
export function elfOfProgram(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): { elf: string; buildId?: string } | undefined {
  try {
    const { elf } = programFile(path, env);
    return { elf, buildId: buildIdOfFile(elf) };
  } catch {
    return undefined;
  }
}

/**
 * What execve(path) opens for execution: the file, a `#!` script's interpreter (and its own), an ELF
 * file's PT_INTERP. Each needs Landlock's EXECUTE right, so each must be under the policy's execute list.
 */
export function execChain(path: string): string[] {
  const chain: string[] = [];
  let next: string | undefined = path;
  // the kernel follows at most 4 levels of interpreters (fs/exec.c)
  for (let depth = 0; next !== undefined && depth < 6; depth++) {
    chain.push(next);
    next = interpreterOf(next);
  }
  return chain;
}

/** A file's `#!` interpreter or ELF PT_INTERP, or undefined (also for a file that cannot be read). */
export function interpreterOf(path: string): string | undefined {
  try {
    return shebang(path)?.[0] ?? interpreterOfFile(path);
  } catch {
    return undefined;
  }
}
