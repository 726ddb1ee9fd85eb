// The engines a generated policy is exported to, each started as a user would start it: bwrap --seccomp
// (with and without --unshare-pid), runc with noNewPrivileges true and false, and sysfence's two C
// launchers. Each start returns the process and a stop that sends a signal the way the engine forwards it.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOCKER_DEFAULT_CAPS } from "../../src/policy/formats/oci/vocab.js";
import { CLI_PATH } from "./cli.js";
import { descendants } from "./daemon-loads.js";

export interface Started {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export interface Deployment {
  name: string;
  /** The launcher must let execve through (its export warning says so). */
  execAllowed: boolean;
  start(argv: string[]): Started;
}

function started(child: ChildProcess, kill: (signal: NodeJS.Signals) => void, cleanup = () => {}): Started {
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on("exit", (code, signal) => {
      cleanup();
      res({ code, signal });
    }),
  );
  return {
    child,
    exited,
    stop: (signal) => {
      kill(signal);
      return exited;
    },
    stderr: () => stderr,
  };
}

/** `sysfence export POLICY ARGS…`, failing loudly; returns the warnings. */
export function exportTo(policy: string, args: string[]): string {
  const r = spawnSync(process.execPath, [CLI_PATH, "export", policy, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`export ${args.join(" ")} failed: ${r.stderr}`);
  return r.stderr;
}

/**
 * A runc bundle whose rootfs bind-mounts the host's /usr and /etc read-only and `shared` (the test's own
 * directories) read-write at the same paths; host network so the test reaches the daemon.
 */
export function runcBundle(profile: string, nnp: boolean, shared: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-runc-"));
  for (const d of ["usr", "etc", "tmp", "proc", "dev", "sys"])
    mkdirSync(join(dir, "rootfs", d), { recursive: true });
  for (const l of ["bin", "sbin", "lib", "lib64"]) symlinkSync(`usr/${l}`, join(dir, "rootfs", l));
  execFileSync("runc", ["spec"], { cwd: dir });
  const c = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  c.process.terminal = false;
  c.process.noNewPrivileges = nnp;
  for (const k of ["bounding", "effective", "permitted"]) c.process.capabilities[k] = DOCKER_DEFAULT_CAPS;
  c.root.readonly = true;
  c.mounts.push(
    { destination: "/usr", type: "bind", source: "/usr", options: ["rbind", "ro"] },
    { destination: "/etc", type: "bind", source: "/etc", options: ["rbind", "ro"] },
    ...shared.map((s) => ({ destination: s, type: "bind", source: s, options: ["rbind", "rw"] })),
  );
  for (const s of shared) mkdirSync(join(dir, "rootfs", s), { recursive: true });
  c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== "network");
  c.linux.seccomp = JSON.parse(readFileSync(profile, "utf8"));
  writeFileSync(join(dir, "bundle.template.json"), JSON.stringify(c));
  return dir;
}

/**
 * Every deployment of `policy` (a sysfence policy file), exported into `dir`. `shared`: directories the
 * program needs inside a container. Returns the deployments and every export's warnings.
 */
export function deployments(
  policy: string,
  dir: string,
  shared: string[],
): { list: Deployment[]; warnings: Record<string, string> } {
  dir = mkdtempSync(join(dir, "exports-"));
  const warnings: Record<string, string> = {};
  const bpf = join(dir, "policy.bpf");
  warnings.bpf = exportTo(policy, ["--format", "bpf", "-o", bpf]);
  const oci = join(dir, "policy.oci.json");
  warnings.oci = exportTo(policy, ["--format", "oci", "-o", oci]);
  const launchers: [string, string, string[]][] = [
    ["bpf-c", "launch-bpf", []],
    ["libseccomp-c", "launch-libseccomp", ["-lseccomp"]],
  ];
  for (const [format, name, libs] of launchers) {
    const c = join(dir, `${name}.c`);
    warnings[format] = exportTo(policy, ["--format", format, "--launcher", "exec", "-o", c]);
    execFileSync("gcc", ["-O2", "-Wall", "-Werror", "-o", join(dir, name), c, ...libs]);
  }
  const list: Deployment[] = [];
  for (const pidns of [false, true])
    list.push({
      name: `bwrap --seccomp${pidns ? " --unshare-pid" : ""}`,
      execAllowed: true,
      start: (argv) => {
        const fd = openSync(bpf, "r");
        const child = spawn(
          "bwrap",
          [
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--bind",
            "/tmp",
            "/tmp",
            ...(pidns ? ["--unshare-pid"] : []),
            "--die-with-parent",
            "--seccomp",
            "9",
            "--",
            ...argv,
          ],
          {
            stdio: ["ignore", "pipe", "pipe", "ignore", "ignore", "ignore", "ignore", "ignore", "ignore", fd],
          },
        );
        // bwrap forwards no signals: signal the program (bwrap's child, or pid 2 under --unshare-pid)
        return started(child, (sig) => signalProgram(child.pid!, argv[0], sig));
      },
    });
  for (const nnp of [true, false]) {
    const bundle = runcBundle(oci, nnp, shared);
    list.push({
      name: `runc, noNewPrivileges ${nnp}`,
      execAllowed: true,
      start: (argv) => {
        const c = JSON.parse(readFileSync(join(bundle, "bundle.template.json"), "utf8"));
        c.process.args = argv;
        writeFileSync(join(bundle, "config.json"), JSON.stringify(c));
        const id = `sysfence-deploy-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
        const child = spawn("runc", ["run", id], { cwd: bundle, stdio: ["ignore", "pipe", "pipe"] });
        return started(
          child,
          (sig) => spawnSync("runc", ["kill", id, sig.replace(/^SIG/, "")], { stdio: "ignore" }),
          () => spawnSync("runc", ["delete", "-f", id], { stdio: "ignore" }),
        );
      },
    });
  }
  for (const [format, name] of launchers)
    list.push({
      name: `${format} --launcher exec`,
      execAllowed: false,
      start: (argv) => {
        const child = spawn(join(dir, name), argv, { stdio: ["ignore", "pipe", "pipe"] });
        return started(child, (sig) => child.kill(sig));
      },
    });
  return { list, warnings };
}

/** Sends `sig` to the first process under `root` that runs `exe` (by /proc/PID/comm), else to `root`. */
function signalProgram(root: number, exe: string, sig: NodeJS.Signals): void {
  const comm = exe.split("/").pop()!.slice(0, 15);
  const target = descendants(root).find((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, "utf8").trim() === comm;
    } catch {
      return false; // gone meanwhile
    }
  });
  process.kill(target ?? root, sig);
}
