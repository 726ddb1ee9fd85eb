// record --container NAME|ID: a running container's init process, found through its runtime's own state
// (`podman inspect`, `docker inspect`, `runc state`), recorded as record --pid records a process tree.
import { spawnSync } from "node:child_process";
import { SysfenceError } from "../errors.js";

export const RUNTIMES = ["podman", "docker", "runc"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** What a runtime's state command says of a container: its init pid, or why not. */
function stateOf(runtime: Runtime, name: string): { pid?: number; why?: string } {
  const args =
    runtime === "runc"
      ? ["state", name]
      : ["inspect", "--type", "container", "--format", "{{.State.Pid}}", name];
  const r = spawnSync(runtime, args, { encoding: "utf8", timeout: 30000 });
  if (r.error) return { why: `${runtime} is not installed (${(r.error as NodeJS.ErrnoException).code})` };
  if (r.status !== 0)
    return { why: `${runtime} ${args.join(" ")}: ${r.stderr.trim().split("\n")[0] || `exit ${r.status}`}` };
  const text = r.stdout.trim();
  const pid = runtime === "runc" ? (JSON.parse(text) as { pid?: number }).pid : Number(text);
  if (!pid || !Number.isInteger(pid) || pid <= 0)
    return { why: `${runtime} reports no running process for ${name} (is it stopped?)` };
  return { pid };
}

/**
 * The init pid of container `name` (a name or an id): through `runtime`, or the first of podman, docker and
 * runc that knows it. Throws E_USAGE naming what each runtime said.
 */
export function containerPid(name: string, runtime?: string): { pid: number; runtime: Runtime } {
  if (runtime !== undefined && !(RUNTIMES as readonly string[]).includes(runtime))
    throw new SysfenceError("E_USAGE", `unknown --runtime '${runtime}'; use ${RUNTIMES.join(", ")}.`);
  const tried: string[] = [];
  for (const rt of runtime ? [runtime as Runtime] : RUNTIMES) {
    const s = stateOf(rt, name);
    if (s.pid) return { pid: s.pid, runtime: rt };
    tried.push(s.why ?? rt);
  }
  throw new SysfenceError(
    "E_USAGE",
    `no running container '${name}': ${tried.join("; ")}. Give a running container's name or id (podman ps, docker ps, runc list), and --runtime when it is not found.`,
  );
}
