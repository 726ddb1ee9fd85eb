// The demo's server: a small JSON key-value HTTP API with one deliberate hole, /debug?cmd=…, which runs a
// shell command — the "injected attack" that the generated policy must stop. Prints its port and pid.
import { exec } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";

const items = new Map();
const motd = readFileSync(new URL("./motd.txt", import.meta.url), "utf8");
let served = 0;

const server = http.createServer((req, res) => {
  served++;
  const url = new URL(req.url ?? "/", "http://localhost");
  const send = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === "/debug") {
    // the hole: a command injection
    try {
      exec(url.searchParams.get("cmd") ?? "id", (err, stdout) => {
        if (err) send(500, { error: String(err.message).split("\n")[0], signal: err.signal ?? null });
        else send(200, { output: stdout });
      });
    } catch (err) {
      send(500, { error: String(err.message) });
    }
    return;
  }
  const m = /^\/items\/(\w+)$/.exec(url.pathname);
  if (m && req.method === "PUT") {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      items.set(m[1], JSON.parse(body || "null"));
      send(201, { stored: m[1] });
    });
    return;
  }
  if (m && req.method === "GET") return items.has(m[1]) ? send(200, items.get(m[1])) : send(404, { missing: m[1] });
  if (m && req.method === "DELETE") return send(200, { deleted: items.delete(m[1]) });
  if (url.pathname === "/stats") return send(200, { items: items.size, served, uptime: process.uptime() });
  if (url.pathname === "/motd") return send(200, { motd });
  send(404, { error: "no such route" });
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(`listening ${server.address().port} pid ${process.pid}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
