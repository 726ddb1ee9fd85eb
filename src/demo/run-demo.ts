// `sysfence demo`: the whole workflow on the bundled server, end to end — record it under a load,
// generate its policy, report, run it under the policy with the same load, then try an injected shell.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readProfileFile } from "../api/document.js";
import { SysfenceError } from "../errors.js";
import { machineFileFacts } from "../generate/file-facts.js";
import { generatePolicy } from "../generate/generate.js";
import { staticInput } from "../generate/static-input.js";
import type { Profile } from "../record/profile.js";
import { buildReport } from "../report/model.js";
import { renderHtml } from "../report/render-html.js";
import { landlockAloneStep } from "./landlock-step.js";
import { attack, httpLoad } from "./load.js";

export const DEMO_SERVER = fileURLToPath(
  new URL("../../../examples/demo-server/server.mjs", import.meta.url),
);
const CLI = fileURLToPath(new URL("../cli/main.js", import.meta.url));

/** What the demo found, for tests and for the closing line. */
export interface DemoResult {
  dir: string;
  recordedRequests: number;
  enforcedRequests: number;
  failures: string[];
  allowed: number;
  known: number;
  argRestricted: string[];
  serverSurvived: boolean;
  attackStopped: boolean;
  /** With execve allowed in the policy, the file layer alone still kept the shell from running (undefined: no Landlock). */
  landlockStopped?: boolean;
  /** The enforced server's exit status after SIGTERM (0: it shut down cleanly under the policy). */
  exitCode: number | null;
}

interface Server {
  child: ChildProcess;
  port: number;
  pid: number;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** Starts `sysfence WORDS… -- node server.mjs` and waits for "listening PORT pid PID". */
function startServer(words: string[], timeoutMs = 30000): Promise<Server> {
  const child = spawn(process.execPath, [CLI, ...words, "--", process.execPath, DEMO_SERVER], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((res) =>
    child.on("exit", (code, sig) => res(code ?? (sig ? 128 : null))),
  );
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new SysfenceError("E_IO", `the demo server did not start within ${timeoutMs} ms: ${err}`)),
      timeoutMs,
    );
    child.stdout?.on("data", (d) => {
      out += d;
      const m = /listening (\d+) pid (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), pid: Number(m[2]), exited, stderr: () => err });
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new SysfenceError("E_IO", `the demo server exited (${code}) before listening: ${err.trim()}`));
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** 1. record: the demo server under strace, under load. */
async function recordStep(
  print: (line: string) => void,
  profilePath: string,
  clients: number,
  rounds: number,
) {
  const rec = await startServer(["record", "-q", "--engine", "strace", "-o", profilePath]);
  const load1 = await httpLoad(rec.port, clients, rounds);
  process.kill(rec.pid, "SIGTERM");
  const recStatus = await rec.exited;
  if (recStatus !== 0) throw new SysfenceError("E_IO", `recording failed (${recStatus}): ${rec.stderr()}`);
  const profile = await readProfileFile(profilePath);
  const calls = Object.values(profile.syscalls).reduce((a, c) => a + c.setup + c.work, 0);
  const threads = profile.processes.reduce((a, p) => a + p.threads.length, 0);
  print(
    `1 record    node server.mjs under strace, ${clients} clients × ${rounds} rounds = ${load1.requests} requests (${load1.failures.length} failed)`,
  );
  print(
    `            ${calls} calls, ${Object.keys(profile.syscalls).length} distinct syscalls, ${threads} threads → ${profilePath}`,
  );

  return { profile, load1 };
}

/** 2. generate: the policy of the recording, with static analysis and the Landlock file layer. */
function generateStep(
  print: (line: string) => void,
  profile: Profile,
  profilePath: string,
  policyPath: string,
) {
  // 2. generate (every phase: `sysfence run` installs the filter before the server starts)
  // errno EPERM for everything else: a denied call fails inside the server instead of killing it
  // with what node can reach (static analysis) and the Landlock file layer from the recording's path uses
  const notes: string[] = [];
  const st = staticInput([profile], "auto", undefined, (n) => notes.push(n));
  const g = generatePolicy([profile], {
    phase: "all",
    sources: [profilePath],
    defaultAction: { kind: "errno", data: 1 },
    reachable: st?.reachable,
    unresolved: st?.unresolved,
    programs: st?.programs,
    files: machineFileFacts,
  });
  writeFileSync(policyPath, g.text);
  const pct = ((100 * g.stats.allowed) / g.stats.known).toFixed(1);
  const ll = g.policy.landlock;
  print(
    `2 generate  ${g.stats.allowed} of ${g.stats.known} x86_64 syscalls allowed (${pct}%; ${g.stats.tiers.seen ?? 0} seen, ${(g.stats.tiers["static-low"] ?? 0) + (g.stats.tiers["static-confined"] ?? 0)} more node can reach${st ? "" : ` — static analysis off: ${notes.join("; ")}`}), argument rules on ${g.stats.argRestricted.join(", ")}; errno answers for ${g.stats.errno.join(", ")}; every other call: EPERM`,
  );
  print(
    `            Landlock: ${ll ? `read ${ll.read.length} paths, write only in ${ll.write.map((w) => w.path).join(", ") || "nothing"}, execute only ${ll.execute.map((e) => e.path).join(", ")}; signals scoped to the sandbox` : "none (no path uses)"} → ${policyPath}`,
  );
  return { g, ll };
}

/** 3. report: the HTML report, and the risky calls the policy still allows. */
function reportStep(
  print: (line: string) => void,
  g: ReturnType<typeof generatePolicy>,
  policyPath: string,
  profile: Profile,
  htmlPath: string,
): void {
  const report = buildReport(g.policy, policyPath, profile);
  writeFileSync(htmlPath, renderHtml(report));
  const open = report.risky.filter((k) => k.treatment === "allow" || k.treatment === "restricted");
  print(
    `3 report    risky calls still allowed: ${open.length ? open.map((k) => k.what).join(", ") : "none"} (of ${report.risky.length} checked) → ${htmlPath}`,
  );
}

/** Runs the demo, printing each step. */
export async function runDemo(
  print: (line: string) => void,
  o: { clients?: number; rounds?: number } = {},
): Promise<DemoResult> {
  const clients = o.clients ?? 8;
  const rounds = o.rounds ?? 40;
  const dir = mkdtempSync(join(tmpdir(), "sysfence-demo-"));
  const profilePath = join(dir, "profile.json");
  const policyPath = join(dir, "policy.yaml");
  const htmlPath = join(dir, "report.html");
  print(
    `sysfence demo: record → generate → report → enforce → attack → layer 2 alone, on examples/demo-server (files in ${dir})\n`,
  );

  const { profile, load1 } = await recordStep(print, profilePath, clients, rounds);
  const { g, ll } = generateStep(print, profile, profilePath, policyPath);
  reportStep(print, g, policyPath, profile, htmlPath);

  // 4. enforce
  const srv = await startServer(["run", "--policy", policyPath]);
  const load2 = await httpLoad(srv.port, clients, rounds);
  const survived = alive(srv.pid);
  print(
    `4 enforce   sysfence run --policy policy.yaml -- node server.mjs: ${load2.requests} requests, ${load2.failures.length} failed; server ${survived ? "alive" : "DEAD"}`,
  );

  // 5. attack
  const hit = survived ? await attack(srv.port, "id; cat /etc/passwd") : { status: 0, body: "" };
  const ranShell = hit.status === 200;
  print(`5 attack    GET /debug?cmd=id;cat /etc/passwd → ${hit.status} ${hit.body.slice(0, 120)}`);
  print(
    `            ${ranShell ? "THE SHELL RAN: the policy did not stop it" : `the shell never ran: seccomp refuses the exec the server never made (EPERM)${ll ? ", and Landlock would not let /bin/sh execute" : ""}`}; server ${alive(srv.pid) ? "still serving" : "gone"}`,
  );
  const after = survived ? await httpLoad(srv.port, 2, 3) : { requests: 0, failures: ["server gone"] };
  process.kill(srv.pid, "SIGTERM");
  const exitCode = await srv.exited;
  print(`            after SIGTERM the server exited with status ${exitCode}`);
  // 6. the second layer on its own (where the policy has one and the kernel has Landlock)
  const landlockStopped =
    ll && survived ? await landlockAloneStep(print, policyPath, startServer) : undefined;
  const failures = [...load1.failures, ...load2.failures, ...after.failures];
  const ok = failures.length === 0 && survived && !ranShell && exitCode === 0 && landlockStopped !== false;
  print(
    `\n${ok ? "✓ zero violations under load, attack stopped" : "✗ something went wrong (see above)"}. Look at ${htmlPath} in a browser.`,
  );
  return {
    dir,
    recordedRequests: load1.requests,
    enforcedRequests: load2.requests,
    failures,
    allowed: g.stats.allowed,
    known: g.stats.known,
    argRestricted: g.stats.argRestricted,
    serverSurvived: survived,
    attackStopped: !ranShell,
    landlockStopped,
    exitCode,
  };
}
