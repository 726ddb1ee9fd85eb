// The demo's client load: concurrent keep-alive HTTP requests against the demo server, every reply checked.
import http from "node:http";

/** What a load did. */
export interface HttpLoadResult {
  requests: number;
  failures: string[];
}

function request(agent: http.Agent, port: number, method: string, path: string, body?: unknown) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** `clients` concurrent clients, each doing `rounds` put/get/delete/stats/motd rounds. */
export async function httpLoad(port: number, clients: number, rounds: number): Promise<HttpLoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const result: HttpLoadResult = { requests: 0, failures: [] };
  const check = async (method: string, path: string, want: number, body?: unknown) => {
    result.requests++;
    try {
      const r = await request(agent, port, method, path, body);
      if (r.status !== want) result.failures.push(`${method} ${path}: ${r.status} ${r.body.slice(0, 80)}`);
      return r.body;
    } catch (e) {
      result.failures.push(`${method} ${path}: ${(e as Error).message}`);
      return "";
    }
  };
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < rounds; i++) {
        const key = `c${c}i${i}`;
        await check("PUT", `/items/${key}`, 201, { client: c, round: i });
        const got = await check("GET", `/items/${key}`, 200);
        if (got && JSON.parse(got).round !== i) result.failures.push(`GET /items/${key}: wrong value ${got}`);
        if (i % 5 === 0) await check("GET", "/stats", 200);
        if (i % 7 === 0) await check("GET", "/motd", 200);
        await check("DELETE", `/items/${key}`, 200);
        await check("GET", `/items/${key}`, 404);
      }
    }),
  );
  agent.destroy();
  return result;
}

/** One attack request: the injected shell command. */
export async function attack(port: number, cmd: string): Promise<{ status: number; body: string }> {
  const agent = new http.Agent({ keepAlive: false });
  try {
    return await request(agent, port, "GET", `/debug?cmd=${encodeURIComponent(cmd)}`);
  } finally {
    agent.destroy();
  }
}
