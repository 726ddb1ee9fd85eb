// A small Node.js HTTP server that locks itself down after start-up (sysfence lockdown()).
// Start: node examples/lockdown-server/server.mjs [--no-lockdown]; it prints "listening PORT locked|unlocked".
import { exec } from "node:child_process";
import { readFileSync, writeFile } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const lock = !process.argv.includes("--no-lockdown");
// Everything that needs the file system or loads code happens before lockdown.
const sysfence = lock ? await import("../../dist/src/index.js") : undefined;
const policy = lock ? sysfence.parsePolicy(readFileSync(join(here, "policy.yaml"), "utf8"), { file: "policy.yaml" }).policy : undefined;

// Runs fn(done) and answers with its outcome; a denied call may throw synchronously (spawn EPERM).
const attempt = (res, fn) => {
  const done = (err, detail) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(err ? { ok: false, code: err.code ?? String(err.errno ?? err.message) } : { ok: true, detail }));
  };
  try {
    fn(done);
  } catch (err) {
    done(err);
  }
};

const server = createHttpServer((req, res) => {
  switch (req.url) {
    case "/exec":
      return attempt(res, (done) => exec("id", (err, out) => done(err, out)));
    case "/listen":
      return attempt(res, (done) => {
        const s = createNetServer();
        s.once("error", (err) => done(err));
        s.listen(0, "127.0.0.1", () => {
          const port = s.address().port;
          s.close();
          done(null, port);
        });
      });
    case "/write":
      return attempt(res, (done) => writeFile(join("/tmp", `sysfence-lockdown-${process.pid}.txt`), "pwned", (err) => done(err)));
    case "/read":
      return attempt(res, (done) => done(null, readFileSync("/etc/hostname", "utf8").length));
    default:
      res.end(`hello ${req.url}\n`);
  }
});

// SIGTERM/SIGINT: stop accepting, let open requests finish, and leave through Node's normal exit path
// (which syncs stdout and stderr: the policy allows fsync for it)
for (const sig of ["SIGTERM", "SIGINT"]) process.once(sig, () => server.close());

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  if (lock) sysfence.lockdown(policy);
  process.stdout.write(`listening ${server.address().port} ${lock ? "locked" : "unlocked"}\n`);
});
