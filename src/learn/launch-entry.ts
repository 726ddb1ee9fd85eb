// The launcher of a learning run: started by sysfence as `node launch-entry.js FLAGS PPID PATH ARGV0 ARGS…`
// with the learning filter's bytes on fd 3. It prepares the exec as `sysfence run` does, installs the
// filter with a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER, close-on-exec), stops itself so sysfence can
// take the listener (pidfd_getfd), and on SIGCONT execs the program. Its calls after the filter are
// notified like the program's; the supervisor lets them through unrecorded until the launch's execve.

import { closeSync, readFileSync } from "node:fs";
import { decodeProgram } from "../bpf/insn.js";
import { loadLibc } from "../install/ffi.js";
import { execFailed, execMemory, prepareForExec } from "../install/run.js";
import { installListener } from "./listener.js";

const SIGKILL = 9;
const SIGSTOP = 19;
const PR_SET_PDEATHSIG = 1;

const [flagsText, ppid, path, ...argv] = process.argv.slice(2);
const c = loadLibc();
const program = decodeProgram(readFileSync(3));
closeSync(3);
const { pathBuf, argvBuf, envBuf, keep } = execMemory(c, path, argv);
prepareForExec(c);
// sysfence gone (even SIGKILLed) means the supervisor is gone: notified calls would fail with ENOSYS
c.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
if (process.ppid !== Number(ppid)) c.exit(125); // (reparented: sysfence is gone; it may be pid 1 itself)
const failed = installListener(c, program, Number(flagsText));
if (failed) {
  c.writeStderr(`sysfence run --learn: ${failed}\n`);
  c.exit(125);
}
c.raise(SIGSTOP);
c.execveBuffers(pathBuf, argvBuf, envBuf);
execFailed(c, path, keep);
