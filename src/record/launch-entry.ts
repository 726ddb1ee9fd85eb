// The launcher of a recording that does not use ptrace (ftrace, bpf engines): started by sysfence as
// `node launch-entry.js PPID PATH ARGV0 ARGS…` (PPID: sysfence's pid), it prepares everything, stops itself so sysfence can point the
// kernel's tracing at its pid, and on SIGCONT execs PATH with ARGV exactly as given (argv[0] included),
// this environment, cwd, umask, process group and inherited descriptors — as `sysfence run` does. Traced
// calls before the program's first instruction: the end of raise() and the execve.

import { execFailed, execMemory, prepareForExec } from "../install/exec.js";
import { loadLibc } from "../install/ffi.js";

const SIGKILL = 9;
const SIGSTOP = 19;
const PR_SET_PDEATHSIG = 1;

const [ppid, path, ...argv] = process.argv.slice(2);
const c = loadLibc();
const { pathBuf, argvBuf, envBuf, keep } = execMemory(c, path, argv);
prepareForExec(c);
// sysfence gone (even SIGKILLed) means the recording is gone: the program does not outlive it
c.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
// (sysfence died before the prctl: its child was handed to a reaper; compared with sysfence's pid, not 1,
// which sysfence itself is as a container's first process)
if (process.ppid !== Number(ppid)) c.exit(125);
c.raise(SIGSTOP);
c.execveBuffers(pathBuf, argvBuf, envBuf);
execFailed(c, path, keep);
