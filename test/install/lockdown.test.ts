import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { REPO } from "../helpers/paths.js";

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false, timeout: 10000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`timeout on ${path}`)));
    req.end();
  });
}

describe("lockdown() in a real Node.js server", {
  skip: process.platform === "linux" ? false : "needs Linux",
}, () => {
  let server: ChildProcess;
  let port = 0;
  let stderr = "";
  before(async () => {
    server = spawn(process.execPath, [`${REPO}examples/lockdown-server/server.mjs`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stderr!.on("data", (c) => {
      stderr += c;
    });
    port = await new Promise<number>((resolve, reject) => {
      server.stdout!.once("data", (c: Buffer) => {
        const m = /listening (\d+) locked/.exec(c.toString());
        if (m) resolve(Number(m[1]));
        else reject(new Error(`unexpected output: ${c}`));
      });
      server.once("exit", (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
    });
  });
  after(() => {
    server?.kill("SIGKILL");
  });

  it("answers every one of 400 concurrent requests after lockdown", async () => {
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => get(port, `/r${i}`)));
    assert.equal(
      results.filter((r) => r.status === 200 && r.body === `hello /r${results.indexOf(r)}\n`).length,
      400,
    );
  });
  it("child_process.exec fails with EPERM", async () => {
    const r = JSON.parse((await get(port, "/exec")).body);
    assert.equal(r.ok, false);
    assert.equal(r.code, "EPERM");
  });
  it("opening a new listening socket fails with EACCES", async () => {
    const r = JSON.parse((await get(port, "/listen")).body);
    assert.deepEqual(r, { ok: false, code: "EACCES" });
  });
  it("fs.writeFile fails with EACCES while reading still works", async () => {
    assert.deepEqual(JSON.parse((await get(port, "/write")).body), { ok: false, code: "EACCES" });
    assert.equal(JSON.parse((await get(port, "/read")).body).ok, true);
  });
  it("keeps serving afterwards", async () => {
    const results = await Promise.all(Array.from({ length: 100 }, () => get(port, "/again")));
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(server.exitCode, null, stderr);
  });
  it("exits cleanly on SIGTERM, through Node's normal exit path (a hang is the failure)", async () => {
    const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
    server.kill("SIGTERM");
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => setTimeout(() => resolve("still running after 10 s"), 10_000)),
    ]);
    assert.equal(code, 0, `${code} ${stderr}`);
  });
});
