// The demo's sixth step: the second layer on its own. The same policy with execve allowed — as if seccomp
// had been told the server may run programs — and the injected shell still never runs, because Landlock
// lets the server execute only what the recording saw it execute (node and its loader), not /bin/sh.
import { readFileSync, writeFileSync } from "node:fs";
import { isMap, isSeq, parseDocument } from "yaml";
import { loadLibc } from "../install/ffi.js";
import { landlockAbi } from "../install/landlock.js";
import { attack } from "./load.js";

/** What starting the server under `sysfence <args>` gives the step. */
interface Started {
  port: number;
  pid: number;
  exited: Promise<number | null>;
}

/** The policy text with every execve rule replaced by one that allows it (the seccomp layer stepped aside). */
export function withExecAllowed(text: string): string {
  const doc = parseDocument(text);
  const rules = doc.get("syscalls");
  if (!isSeq(rules)) return text;
  rules.items = rules.items.filter((r) => {
    if (!isMap(r)) return true;
    const names = r.get("names");
    if (!isSeq(names)) return true;
    names.items = names.items.filter((n) => String((n as { value?: unknown }).value ?? n) !== "execve");
    return names.items.length > 0;
  });
  rules.items.unshift(
    doc.createNode({ names: ["execve"], action: "allow", comment: "demo: seccomp steps aside" }),
  );
  return doc.toString();
}

/**
 * Runs the server under the policy with execve allowed, tries the injected shell, says who stopped it;
 * undefined (a line saying so) on a kernel without Landlock, where nothing would stop it.
 */
export async function landlockAloneStep(
  print: (line: string) => void,
  policyPath: string,
  start: (args: string[]) => Promise<Started>,
): Promise<boolean | undefined> {
  const kernel = landlockAbi(loadLibc());
  if (kernel.abi < 1) {
    print(`6 layer 2   skipped: ${kernel.why}`);
    return undefined;
  }
  const execPath = policyPath.replace(/\.yaml$/, "-exec-allowed.yaml");
  writeFileSync(execPath, withExecAllowed(readFileSync(policyPath, "utf8")));
  const srv = await start(["run", "--policy", execPath]);
  const hit = await attack(srv.port, "id; cat /etc/passwd");
  const stopped = hit.status !== 200;
  print(
    `6 layer 2   the same policy with execve allowed (${execPath}): GET /debug → ${hit.status} ${hit.body.slice(0, 120)}`,
  );
  print(
    `            ${stopped ? "the shell never ran: Landlock lets the server execute only node and its loader (EACCES)" : "THE SHELL RAN: the file layer did not stop it"}`,
  );
  process.kill(srv.pid, "SIGTERM");
  await srv.exited;
  return stopped;
}
