// The bundled examples the demo and the benchmark use, the demo's verdict table, and the check that the
// demo's recorder is installed. (The demo's run itself is src/demo, a front end over the library.)
import { fileURLToPath } from "node:url";
import { straceVersion } from "../record/engines/strace/strace.js";
import { askProgram, emulatorFor } from "./emulate.js";
import type { CompiledPolicyFile } from "./policy-file.js";

/** The bundled example: Docker's default seccomp profile. */
export const DOCKER_EXAMPLE = fileURLToPath(
  new URL("../../../examples/docker-default.json", import.meta.url),
);

/** The bundled 30-syscall server policy (the benchmark's default). */
export const SERVER_EXAMPLE = fileURLToPath(new URL("../../../examples/server-policy.yaml", import.meta.url));

/** The calls the demo asks Docker's default profile about: a name and its arguments as constants. */
const DEMO_CALLS: [string, string[]][] = [
  ["getpid", []],
  ["socket", ["AF_INET", "SOCK_STREAM"]],
  ["socket", ["AF_VSOCK", "SOCK_STREAM"]],
  ["clone", ["CLONE_NEWUSER|SIGCHLD"]],
  ["clone", ["CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD"]],
  ["clone3", []],
  ["personality", ["0xffffffff"]],
  ["reboot", []],
];

/** One row of the demo's verdict table: the call as written, the action, and the instructions it took. */
export interface Verdict {
  call: string;
  action: string;
  executed: number;
}

/** How a compiled policy answers the demo's calls on x86_64 (emulated). */
export function demoVerdicts(r: CompiledPolicyFile): Verdict[] {
  const emu = emulatorFor(r.program);
  return DEMO_CALLS.map(([name, args]) => {
    const a = askProgram(emu, { syscall: name, args, arch: "x86_64" }, "x86_64");
    return { call: `${name}(${args.join(", ")})`, action: a.text, executed: a.executed };
  });
}

/** Throws the install hint when strace (the demo's recorder) is missing, before anything starts. */
export function checkDemoRecorder(): void {
  straceVersion();
}
