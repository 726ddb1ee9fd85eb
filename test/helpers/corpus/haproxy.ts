// HAProxy 2.6 in master-worker mode (-W): the master forks a worker and passes signals on to it (SIGTERM
// ends both). Recorded one answered request; then a request proxied to a backend over a UNIX socket, the
// stats page, a 503 (no server), parallel requests, HEAD, and SIGHUP (the master dumps server states).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitForPort } from "../memcache-client.js";
import { curl, type DaemonProgram, localUrl, parallelGets, signalThenGet } from "./types.js";

const CONF = (dir: string, port: number) => `global
  master-worker
  stats socket ${dir}/admin.sock mode 600 level admin

defaults
  mode http
  timeout connect 5s
  timeout client 10s
  timeout server 10s

frontend web
  bind 127.0.0.1:${port}
  stats enable
  stats uri /stats
  http-request return status 200 content-type text/plain string "ok" if { path /ok }
  use_backend app if { path_beg /app }
  use_backend none if { path_beg /none }

backend app
  server s1 unix@${dir}/app.sock

backend none

listen inner
  bind unix@${dir}/app.sock
  http-request return status 200 content-type text/plain string "from the backend"
`;

export const haproxy: DaemonProgram = {
  kind: "daemon",
  name: "haproxy (master-worker)",
  needs: ["haproxy", "curl"],
  exes: ["haproxy"],
  setup: () => undefined,
  argv: (port, dir) => {
    writeFileSync(join(dir, "haproxy.cfg"), CONF(dir, port));
    return ["haproxy", "-W", "-db", "-f", join(dir, "haproxy.cfg")];
  },
  ready: (port) => waitForPort(port, 20_000),
  recordLoad: (port) => {
    const r = curl(localUrl(port, "/ok"));
    if (r !== "exit 0: ok") throw new Error(`GET /ok: ${r}`);
  },
  uses: [
    { name: "GET answered by a rule", run: (p) => curl(localUrl(p, "/ok")) },
    { name: "proxied to a backend (UNIX socket)", run: (p) => curl(localUrl(p, "/app/x")) },
    { name: "stats page", run: (p) => curl("-o", "/dev/null", "-w", "%{http_code}", localUrl(p, "/stats")) },
    {
      name: "503 without a server",
      run: (p) => curl("-o", "/dev/null", "-w", "%{http_code}", localUrl(p, "/none")),
    },
    { name: "HEAD", run: (p) => curl("-I", "-o", "/dev/null", "-w", "%{http_code}", localUrl(p, "/ok")) },
    {
      name: "parallel requests",
      run: (p) => parallelGets(p, "/app/y"),
    },
    {
      name: "SIGHUP (the master dumps server states), then serves",
      run: signalThenGet("SIGHUP", "/app/z"),
    },
  ],
};
