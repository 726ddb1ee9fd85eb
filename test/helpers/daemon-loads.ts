// Daemons and loads shared by the end-to-end tests: recording under a load, ports, an nginx site, an HTTP
// client load.
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { procStat } from "../../src/util/proc-tree.js";
import { CLI_PATH } from "./cli.js";
import { waitForPort } from "./memcache-client.js";

/**
 * Runs `sysfence record … -o PROFILE -- ARGV` under `load`, then ends the daemon with `stop` (the daemon,
 * never strace: strace holds fatal signals) and asserts that every request succeeded and record exited 0.
 * `onStart` gets record's pid (to clean up after a failed assertion).
 */
export async function recordUnderLoad(o: {
  label: string;
  profile: string;
  argv: string[];
  port: number;
  load: (port: number) => Promise<string[]>;
  stop: (daemonPid: number) => Promise<void> | void;
  recordArgs?: string[];
  onStart?: (pid: number) => void;
}): Promise<void> {
  const rec = spawn(
    process.execPath,
    [CLI_PATH, "record", "-q", ...(o.recordArgs ?? ["--engine", "strace"]), "-o", o.profile, "--", ...o.argv],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  o.onStart?.(rec.pid!);
  let stderr = "";
  rec.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((res) => rec.on("exit", (code) => res(code)));
  await waitForPort(o.port, 30000);
  assert.deepEqual(await o.load(o.port), [], `${o.label}: every request succeeds while recording`);
  // not sysfence's helpers: the tracer (strace, bpftrace under setpriv) or the reaper shell
  const helper = (p: number) => {
    const comm = readFileSync(`/proc/${p}/comm`, "utf8").trim();
    const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
    return ["strace", "bpftrace", "setpriv"].includes(comm) || cmd.includes('pids=""');
  };
  const daemon = descendants(rec.pid!).find((p) => !helper(p));
  assert.ok(daemon, `${o.label}: found the daemon under strace`);
  await o.stop(daemon);
  assert.equal(await exited, 0, stderr);
}

/** utime + stime of processes (those gone count 0), in seconds (clock ticks of USER_HZ 100). */
export const cpuSeconds = (pids: number[]): number =>
  pids.reduce((sum, p) => sum + (procStat(p)?.cpuTicks ?? 0) / 100, 0);

/** Every process below `root` (children, grandchildren …), by ps. */
export function descendants(root: number): number[] {
  const out = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" });
  const kids = new Map<number, number[]>();
  for (const line of out.trim().split("\n")) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    kids.set(ppid, [...(kids.get(ppid) ?? []), pid]);
  }
  const all: number[] = [];
  const walk = (p: number) => {
    for (const k of kids.get(p) ?? []) {
      all.push(k);
      walk(k);
    }
  };
  walk(root);
  return all;
}

/** A TCP port nobody listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** nginx's configuration for one port, everything under `dir`. */
export const NGINX_CONF = (dir: string, port: number) => `worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/www;
    location /api/ { return 200 "ok $request_uri\\n"; }
  }
}
`;

/** The site every nginx test serves (world-readable: workers run as nobody). */
export const NGINX_DIR = mkdtempSync(join(tmpdir(), "sysfence-nginx-site-"));

export function nginxSite(): (port: number) => string[] {
  const dir = NGINX_DIR;
  mkdirSync(join(dir, "www"), { mode: 0o755, recursive: true });
  writeFileSync(join(dir, "www", "index.html"), "<h1>hello</h1>\n");
  writeFileSync(join(dir, "www", "big.bin"), Buffer.alloc(300_000, 7));
  execFileSync("chmod", ["-R", "a+rX", dir]);
  return (port: number) => {
    const conf = join(dir, `nginx-${port}.conf`);
    writeFileSync(conf, NGINX_CONF(dir, port));
    return ["nginx", "-c", conf, "-g", "daemon off;"];
  };
}

/** Recording load: Node's http client, keep-alive, pages, a large file, 404s, the API. */
export async function nodeHttpLoad(port: number): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
  const failures: string[] = [];
  const get = (path: string, want: number) =>
    new Promise<void>((resolve) => {
      http
        .get({ host: "127.0.0.1", port, path, agent }, (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode !== want) failures.push(`${path}: ${res.statusCode}`);
            resolve();
          });
        })
        .on("error", (e) => {
          failures.push(`${path}: ${e.message}`);
          resolve();
        });
    });
  await Promise.all(
    Array.from({ length: 6 }, async (_, c) => {
      for (let i = 0; i < 40; i++) {
        await get("/index.html", 200);
        await get(`/api/item/${c}/${i}`, 200);
        if (i % 4 === 0) await get("/big.bin", 200);
        if (i % 5 === 0) await get(`/missing-${i}`, 404);
      }
    }),
  );
  agent.destroy();
  return failures;
}

/** Enforcement load: another client (curl), other requests: HEAD, ranges, conditional GETs, HTTP/1.0. */
export async function curlLoad(port: number): Promise<string[]> {
  const run = promisify(execFile);
  const base = `http://127.0.0.1:${port}`;
  const checks: [string[], RegExp][] = [
    [["-sI", `${base}/index.html`], /^HTTP\/1\.1 200/],
    [["-s", "-r", "0-99", "-o", "/dev/null", "-w", "%{http_code}", `${base}/big.bin`], /^206$/],
    // If-Modified-Since: the file's own mtime (nginx's default if_modified_since is "exact")
    [
      [
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-z",
        join(NGINX_DIR, "www", "index.html"),
        `${base}/index.html`,
      ],
      /^304$/,
    ],
    [["-s", "--http1.0", `${base}/api/x`], /^ok \/api\/x$/m],
    [["-s", `${base}/api/a`, `${base}/api/b`, `${base}/index.html`], /ok \/api\/a\nok \/api\/b\n<h1>hello/],
    [["-s", "-o", "/dev/null", "-w", "%{http_code}", `${base}/nope`], /^404$/],
    [["-s", "-o", "/dev/null", "-w", "%{size_download}", `${base}/big.bin`], /^300000$/],
  ];
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let round = 0; round < 4; round++)
        for (const [args, want] of checks) {
          try {
            const { stdout } = await run("curl", ["--max-time", "10", ...args]);
            if (!want.test(stdout))
              failures.push(`curl ${args.join(" ")}: ${JSON.stringify(stdout.slice(0, 80))}`);
          } catch (e) {
            failures.push(`curl ${args.join(" ")}: ${(e as Error).message}`);
          }
        }
    }),
  );
  return failures;
}

/** 300 requests for missing pages over keep-alive connections, every answer a 404. */
export async function storm404(port: number): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
  const failures: string[] = [];
  await Promise.all(
    Array.from(
      { length: 300 },
      (_, i) =>
        new Promise<void>((resolve) => {
          http
            .get({ host: "127.0.0.1", port, path: `/storm/${i}`, agent }, (res) => {
              res.resume();
              res.on("end", () => {
                if (res.statusCode !== 404) failures.push(`/storm/${i}: ${res.statusCode}`);
                resolve();
              });
            })
            .on("error", (e) => {
              failures.push(`/storm/${i}: ${e.message}`);
              resolve();
            });
        }),
    ),
  );
  agent.destroy();
  return failures;
}
