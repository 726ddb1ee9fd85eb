// lighttpd with two worker processes (server.max-worker = 2: the parent forks them and passes SIGTERM on).
// Recorded one GET; then a directory listing, ranges, HEAD, 404, a large file (sendfile), parallel requests
// and SIGUSR1 (a graceful restart... of the log files: lighttpd reopens its logs).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitForPort } from "../memcache-client.js";
import { curl, type DaemonProgram, localUrl, parallelGets, signalThenGet } from "./types.js";

const CONF = (dir: string, port: number) => `server.document-root = "${dir}/www"
server.port = ${port}
server.bind = "127.0.0.1"
server.errorlog = "${dir}/error.log"
server.max-worker = 2
server.modules = ("mod_dirlisting", "mod_accesslog")
accesslog.filename = "${dir}/access.log"
dir-listing.activate = "enable"
mimetype.assign = (".html" => "text/html", ".txt" => "text/plain")
`;

export const lighttpd: DaemonProgram = {
  kind: "daemon",
  name: "lighttpd (workers)",
  needs: ["lighttpd", "curl"],
  exes: ["lighttpd"],
  setup: (dir) => {
    mkdirSync(join(dir, "www/docs"), { recursive: true });
    writeFileSync(join(dir, "www/index.html"), "<h1>lighttpd</h1>\n");
    writeFileSync(join(dir, "www/docs/a.txt"), "a\n");
    writeFileSync(join(dir, "www/big.bin"), Buffer.alloc(400_000, 3));
  },
  argv: (port, dir) => {
    writeFileSync(join(dir, "lighttpd.conf"), CONF(dir, port));
    return ["lighttpd", "-D", "-f", join(dir, "lighttpd.conf")];
  },
  ready: (port) => waitForPort(port, 20_000),
  recordLoad: (port) => {
    const r = curl(localUrl(port, "/index.html"));
    if (r !== "exit 0: <h1>lighttpd</h1>") throw new Error(`GET: ${r}`);
  },
  uses: [
    { name: "GET", run: (p) => curl(localUrl(p, "/docs/a.txt")) },
    {
      name: "directory listing",
      run: (p) => curl("-o", "/dev/null", "-w", "%{http_code}", localUrl(p, "/docs/")),
    },
    {
      name: "range, HEAD, 404",
      run: (p) =>
        curl(
          "-w",
          "%{http_code} ",
          "-r",
          "0-9",
          "-o",
          "/dev/null",
          localUrl(p, "/big.bin"),
          "-o",
          "/dev/null",
          localUrl(p, "/nope"),
        ),
    },
    {
      name: "large file",
      run: (p) => curl("-o", "/dev/null", "-w", "%{size_download}", localUrl(p, "/big.bin")),
    },
    {
      name: "parallel requests",
      run: (p) => parallelGets(p, "/index.html"),
    },
    {
      name: "SIGUSR1 (reopen logs), then serves",
      run: signalThenGet("SIGUSR1", "/index.html"),
    },
  ],
};
