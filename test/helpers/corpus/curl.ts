// curl: recorded one GET over IPv4; then IPv6 ([::1]: AF_INET6 sockets), HEAD, a download to a file,
// localhost (both families resolved), a POST, a 404 and several URLs on one connection. The server is
// Python's http.server on [::] (both families), started untraced by the setup.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../daemon-loads.js";
import { waitForPort } from "../memcache-client.js";
import type { CliProgram, Step } from "./types.js";

const url = (dir: string, host: string, path = "/index.html") =>
  `http://${host}:${readFileSync(join(dir, "port"), "utf8")}${path}`;
const curl = (name: string, f: (dir: string) => string[], more: Partial<Step> = {}): Step => ({
  name,
  argv: (dir) => ["curl", "-sS", "--max-time", "10", ...f(dir)],
  ...more,
});

export const curlProgram: CliProgram = {
  kind: "cli",
  name: "curl",
  needs: ["curl", "/usr/bin/python3"],
  exes: ["curl"],
  setup: async (dir) => {
    writeFileSync(join(dir, "index.html"), "<h1>corpus</h1>\n");
    const port = await freePort();
    writeFileSync(join(dir, "port"), String(port));
    const server = spawn("/usr/bin/python3", ["-m", "http.server", "--bind", "::", String(port)], {
      cwd: dir,
      stdio: "ignore",
    });
    await waitForPort(port, 15_000);
    return () => server.kill("SIGKILL");
  },
  record: curl("GET over IPv4", (d) => [url(d, "127.0.0.1")]),
  uses: [
    curl("GET over IPv4", (d) => [url(d, "127.0.0.1")]),
    curl("GET over IPv6 ([::1])", (d) => ["-g", url(d, "[::1]")]),
    curl("HEAD", (d) => ["-I", "-o", "/dev/null", "-w", "%{http_code}", url(d, "127.0.0.1")]),
    curl("download to a file", (d) => ["-o", "got.html", url(d, "[::1]")], {
      after: ["cat", "got.html"],
      todo: 'openat("<dir>/got.html", O_WRONLY|O_CREAT) → EACCES: the recording wrote no file, and the file layer lets a program write only where the recording saw it write (generate --writable DIR adds one)',
    }),
    curl("localhost (both families resolved)", (d) => [url(d, "localhost")]),
    curl("POST (the server answers 501)", (d) => [
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-d",
      "x=1",
      url(d, "127.0.0.1"),
    ]),
    curl("404", (d) => ["-o", "/dev/null", "-w", "%{http_code}", url(d, "127.0.0.1", "/missing")]),
    curl("several URLs, one connection", (d) => [url(d, "127.0.0.1"), url(d, "127.0.0.1", "/port")], {
      key: (o) => `exit ${o.status}\n${o.stdout.replace(/\d+$/, "<port>")}`,
    }),
  ],
};
