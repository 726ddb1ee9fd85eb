// A memcached text-protocol client load: several connections doing set/get/delete/incr/stats,
// every reply checked. Used to drive memcached while recording and again under the policy.
import net from "node:net";

/** What a load did. */
export interface LoadResult {
  requests: number;
  failures: string[];
}

function session(port: number, id: number, rounds: number, result: LoadResult): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = "";
    let step = 0;
    const steps: { send: string; expect: (r: string) => boolean; done: (r: string) => boolean }[] = [];
    for (let i = 0; i < rounds; i++) {
      const key = `k${id}_${i}`;
      const val = `value-${id}-${i}-${"x".repeat(i % 50)}`;
      steps.push({
        send: `set ${key} 0 0 ${val.length}\r\n${val}\r\n`,
        expect: (r) => r === "STORED\r\n",
        done: (r) => r.endsWith("\r\n"),
      });
      steps.push({
        send: `get ${key}\r\n`,
        expect: (r) => r === `VALUE ${key} 0 ${val.length}\r\n${val}\r\nEND\r\n`,
        done: (r) => r.endsWith("END\r\n"),
      });
      steps.push({
        send: `set n${key} 0 0 1\r\n5\r\n`,
        expect: (r) => r === "STORED\r\n",
        done: (r) => r.endsWith("\r\n"),
      });
      steps.push({
        send: `incr n${key} 3\r\n`,
        expect: (r) => r === "8\r\n",
        done: (r) => r.endsWith("\r\n"),
      });
      steps.push({
        send: `delete ${key}\r\n`,
        expect: (r) => r === "DELETED\r\n",
        done: (r) => r.endsWith("\r\n"),
      });
      steps.push({
        send: `get ${key}\r\n`,
        expect: (r) => r === "END\r\n",
        done: (r) => r.endsWith("END\r\n"),
      });
      if (i % 10 === 0)
        steps.push({
          send: "stats\r\n",
          expect: (r) => r.startsWith("STAT pid "),
          done: (r) => r.endsWith("END\r\n"),
        });
    }
    const next = () => {
      if (step >= steps.length) {
        sock.end("quit\r\n");
        return;
      }
      sock.write(steps[step].send);
    };
    sock.on("connect", next);
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      const s = steps[step];
      if (!s?.done(buf)) return;
      result.requests++;
      if (!s.expect(buf))
        result.failures.push(
          `conn ${id} step ${step}: sent ${JSON.stringify(s.send.slice(0, 40))}, got ${JSON.stringify(buf.slice(0, 80))}`,
        );
      buf = "";
      step++;
      next();
    });
    sock.on("error", (e) => {
      result.failures.push(`conn ${id}: ${e.message}`);
      resolve();
    });
    sock.on("close", () => {
      if (step < steps.length)
        result.failures.push(`conn ${id}: closed after ${step} of ${steps.length} requests`);
      resolve();
    });
  });
}

/** Runs `connections` concurrent sessions of `rounds` rounds each against 127.0.0.1:port. */
export async function memcacheLoad(port: number, connections: number, rounds: number): Promise<LoadResult> {
  const result: LoadResult = { requests: 0, failures: [] };
  await Promise.all(Array.from({ length: connections }, (_, i) => session(port, i, rounds, result)));
  return result;
}

/** Resolves when a TCP port accepts connections (or rejects after timeoutMs). */
export async function waitForPort(port: number, timeoutMs = 15000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect(port, "127.0.0.1");
      s.on("connect", () => {
        s.destroy();
        res(true);
      });
      s.on("error", () => res(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One request → the reply text up to a terminator that `done` recognises. */
function exchange(sock: net.Socket, send: string | Buffer, done: (r: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = "";
    const onData = (d: Buffer) => {
      reply += d.toString("latin1");
      if (done(reply)) {
        sock.off("data", onData);
        resolve(reply);
      }
    };
    sock.on("data", onData);
    sock.once("error", reject);
    sock.write(send);
  });
}

/**
 * What a get/set recording never sees: stats, stats slabs/items/settings/conns, verbosity, version,
 * flush_all, touch, large values (512 KiB), over `connections` connections at once. Returns failures.
 */
export async function memcacheBroadLoad(port: number, connections: number): Promise<string[]> {
  const failures: string[] = [];
  const ends = (r: string) =>
    /(END|OK|STORED|DELETED|NOT_FOUND|TOUCHED|ERROR[^\n]*|VERSION [^\r]*|\d+)\r\n$/.test(r);
  await Promise.all(
    Array.from({ length: connections }, async (_, id) => {
      const sock = net.connect(port, "127.0.0.1");
      try {
        await new Promise((r, j) => sock.once("connect", r).once("error", j));
        const big = "v".repeat(512 * 1024);
        const steps: [string, RegExp][] = [
          [`set big${id} 0 0 ${big.length}\r\n${big}\r\n`, /^STORED\r\n$/],
          [`get big${id}\r\n`, new RegExp(`^VALUE big${id} 0 ${big.length}\r\n`)],
          ["stats\r\n", /STAT pid \d+/],
          ["stats slabs\r\n", /STAT active_slabs/],
          ["stats items\r\n", /END\r\n$/],
          ["stats settings\r\n", /STAT maxconns/],
          ["stats conns\r\n", /END\r\n$/],
          ["verbosity 1\r\n", /^OK\r\n$/],
          ["version\r\n", /^VERSION /],
          [`touch big${id} 100\r\n`, /^(TOUCHED|NOT_FOUND)\r\n$/],
          ["flush_all\r\n", /^OK\r\n$/],
          [`get big${id}\r\n`, /^END\r\n$/],
        ];
        for (const [send, want] of steps) {
          const reply = await exchange(sock, send, (r) =>
            send.startsWith("get big") && r.startsWith("VALUE") ? r.endsWith("END\r\n") : ends(r),
          );
          if (!want.test(reply)) {
            failures.push(`conn ${id}: ${send.slice(0, 20).trim()}: ${JSON.stringify(reply.slice(0, 60))}`);
            break;
          }
        }
      } catch (e) {
        failures.push(`conn ${id}: ${(e as Error).message}`);
      } finally {
        sock.destroy();
      }
    }),
  );
  return failures;
}

/** memcached as the end-to-end tests run it: on `port`, as nobody, 4 threads, no UDP. */
export const memcachedArgs = (port: number) => [
  "memcached",
  "-u",
  "nobody",
  "-p",
  String(port),
  "-U",
  "0",
  "-l",
  "127.0.0.1",
  "-t",
  "4",
  "-c",
  "256",
];
