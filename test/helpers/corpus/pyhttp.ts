// A Python web server started by a `#!/usr/bin/env python3` script (the kernel runs env, env runs python3):
// recorded one GET; then a directory listing, an upload (a file written), HEAD, 404 and parallel requests
// (ThreadingHTTPServer: a thread per request). SIGTERM exits 0 (the script's handler).
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitForPort } from "../memcache-client.js";
import { curl, type DaemonProgram, localUrl, parallelGets } from "./types.js";

const SCRIPT = `#!/usr/bin/env python3
import http.server, os, signal, sys

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
port, root = int(sys.argv[1]), sys.argv[2]

class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=os.path.join(root, "www"), **k)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(os.path.join(root, "uploads", "upload.bin"), "wb") as f:
            f.write(body)
        self.send_response(201)
        self.end_headers()
        self.wfile.write(b"stored %d\\n" % len(body))

    def log_message(self, *a):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
`;

/**
 * Why the upload fails under the policy: the recording (one GET) never wrote, so the file layer grants no
 * write directory and the open of uploads/upload.bin is refused (EACCES). (It was a kill of write(2) before
 * static analysis followed the script's interpreter as the recording found it.)
 */
const PY_WRITE =
  'openat("<dir>/uploads/upload.bin", O_WRONLY|O_CREAT) → EACCES: the recording never wrote; the file layer lets a program write only where the recording saw it write (generate --writable DIR adds one)';

export const pyhttp: DaemonProgram = {
  kind: "daemon",
  name: "python3 http.server (shebang script)",
  needs: ["/usr/bin/python3", "curl"],
  exes: ["python3", "env"],
  env: { PATH: "/usr/bin:/bin" },
  setup: (dir) => {
    mkdirSync(join(dir, "www/docs"), { recursive: true });
    mkdirSync(join(dir, "uploads"));
    writeFileSync(join(dir, "www/index.html"), "<h1>py</h1>\n");
    writeFileSync(join(dir, "www/docs/a.txt"), "a\n");
    writeFileSync(join(dir, "serve"), SCRIPT);
    chmodSync(join(dir, "serve"), 0o755);
  },
  argv: (port, dir) => [join(dir, "serve"), String(port), dir],
  ready: (port) => waitForPort(port, 20_000),
  recordLoad: (port) => {
    const r = curl(localUrl(port, "/index.html"));
    if (r !== "exit 0: <h1>py</h1>") throw new Error(`GET: ${r}`);
  },
  uses: [
    { name: "GET a file", run: (p) => curl(localUrl(p, "/docs/a.txt")) },
    { name: "directory listing", run: (p) => curl(localUrl(p, "/docs/")) },
    {
      name: "upload (POST writes a file)",
      todo: PY_WRITE,
      run: (p) => curl("--data-binary", "x".repeat(5000), localUrl(p, "/up")),
    },
    {
      name: "HEAD and 404",
      run: (p) =>
        curl(
          "-w",
          "%{http_code} ",
          "-I",
          "-o",
          "/dev/null",
          localUrl(p),
          "-o",
          "/dev/null",
          localUrl(p, "/nope"),
        ),
    },
    {
      name: "parallel requests (a thread each)",
      run: (p) => parallelGets(p, "/index.html"),
    },
  ],
};
