// redis-server: recorded PING/SET/GET; then SAVE (writes temp-PID.rdb, renames it to dump.rdb), BGSAVE (a
// forked child does the same), BGREWRITEAOF, CONFIG, INFO, expiry, FLUSHALL. SIGTERM saves and exits.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { waitForPort } from "../memcache-client.js";
import { type DaemonProgram, exec, sleep, until } from "./types.js";

const cli = (port: number, ...args: string[]) => {
  const r = exec(["redis-cli", "-p", String(port), ...args]);
  return `exit ${r.status}: ${r.stdout.trim()}${r.stderr.trim()}`;
};
const lastsave = (port: number) => Number(exec(["redis-cli", "-p", String(port), "LASTSAVE"]).stdout);

export const redis: DaemonProgram = {
  kind: "daemon",
  name: "redis-server",
  needs: ["redis-server", "redis-cli"],
  exes: ["redis-server", "redis-check"],
  setup: () => undefined,
  argv: (port, dir) => [
    "redis-server",
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "3600 1",
    "--appendonly",
    "no",
    "--logfile",
    "",
    "--daemonize",
    "no",
  ],
  ready: (port) => waitForPort(port, 20_000),
  recordLoad: (port) => {
    for (const args of [["PING"], ["SET", "k", "v"], ["GET", "k"]]) {
      const r = cli(port, ...args);
      if (!/^exit 0: (PONG|OK|v)$/.test(r)) throw new Error(`redis-cli ${args.join(" ")}: ${r}`);
    }
  },
  uses: [
    {
      name: "SET, GET, INCR, lists",
      run: (p) =>
        [
          cli(p, "SET", "a", "1"),
          cli(p, "INCR", "a"),
          cli(p, "RPUSH", "l", "x", "y"),
          cli(p, "LRANGE", "l", "0", "-1"),
        ].join("\n"),
    },
    {
      name: "SAVE (temp file renamed to dump.rdb)",
      run: (p, dir) => `${cli(p, "SAVE")} dump.rdb: ${existsSync(join(dir, "dump.rdb"))}`,
    },
    {
      name: "BGSAVE (a forked child saves)",
      run: async (p, dir) => {
        const before = lastsave(p);
        await sleep(1100); // LASTSAVE has a resolution of a second
        const r = cli(p, "BGSAVE");
        await until("BGSAVE done", () => lastsave(p) > before, 10_000).catch(() => undefined);
        return `${r.replace(/Background saving started/, "started")} saved: ${lastsave(p) > before} ${existsSync(join(dir, "dump.rdb"))}`;
      },
    },
    {
      name: "BGREWRITEAOF (a forked child writes the append-only file)",
      run: async (p, dir) => {
        const r = cli(p, "BGREWRITEAOF");
        await until(
          "rewrite done",
          () => !/aof_rewrite_in_progress:1/.test(cli(p, "INFO", "persistence")),
          10_000,
        ).catch(() => undefined);
        return `${r} ${/aof_last_bgrewrite_status:(\w+)/.exec(cli(p, "INFO", "persistence"))?.[1]} ${existsSync(join(dir, "appendonlydir"))}`;
      },
    },
    {
      name: "CONFIG GET and SET",
      run: (p) =>
        [cli(p, "CONFIG", "SET", "maxmemory", "10mb"), cli(p, "CONFIG", "GET", "maxmemory")].join("\n"),
    },
    {
      name: "INFO and CLIENT LIST",
      run: (p) => `${/redis_version/.test(cli(p, "INFO"))} ${/cmd=client/.test(cli(p, "CLIENT", "LIST"))}`,
    },
    {
      name: "expiry",
      run: async (p) => {
        const r = [cli(p, "SET", "e", "1", "PX", "200")];
        await sleep(400);
        return [...r, cli(p, "EXISTS", "e")].join("\n");
      },
    },
    {
      name: "DBSIZE, FLUSHALL",
      run: (p) => [cli(p, "DBSIZE"), cli(p, "FLUSHALL"), cli(p, "DBSIZE")].join("\n"),
    },
  ],
};
