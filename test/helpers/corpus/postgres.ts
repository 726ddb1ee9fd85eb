// PostgreSQL 15, run as nobody (postgres refuses root): a postmaster that forks a backend per connection and
// its helpers (checkpointer, WAL writer, autovacuum), and signals them. Recorded `select 1`; then DDL and
// writes, an index, VACUUM, CHECKPOINT, pg_reload_conf() (SIGHUP to every child), a backend ended by
// pg_terminate_backend, CREATE DATABASE (copies a directory), a sort spilling to temporary files.
// SIGTERM is a smart shutdown: the children are told to stop, a last checkpoint, exit 0.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { AS_NOBODY } from "../cli.js";
import { waitForPort } from "../memcache-client.js";
import { scratch } from "./common.js";
import { type DaemonProgram, exec, must, sleep } from "./types.js";

const BIN = "/usr/lib/postgresql/15/bin";
let template: string | undefined;

/** One initdb for every instance (a copy each): initdb takes seconds. */
function initdbOnce(): string {
  if (template) return template;
  const dir = scratch("pg-template");
  must(["chown", "nobody", dir]);
  must(
    [
      ...AS_NOBODY,
      `${BIN}/initdb`,
      "-D",
      join(dir, "data"),
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--no-sync",
    ],
    {
      timeout: 120_000,
      env: { LC_ALL: "C" },
    },
  );
  template = join(dir, "data");
  return template;
}

const psql = (port: number, sql: string, db = "postgres") => {
  const r = exec([
    "psql",
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-U",
    "postgres",
    "-d",
    db,
    "-XAtq",
    "-v",
    "ON_ERROR_STOP=1",
    "-c",
    sql,
  ]);
  return `exit ${r.status}: ${r.stdout.trim()}${r.status ? r.stderr.trim() : ""}`;
};

export const postgres: DaemonProgram = {
  kind: "daemon",
  name: "postgres",
  needs: [`${BIN}/postgres`, `${BIN}/initdb`, "psql", "setpriv"],
  exes: ["postgres"],
  asNobody: true,
  setup: (dir) => {
    must(["cp", "-a", initdbOnce(), join(dir, "data")]);
    must(["chown", "-R", "nobody", dir]);
  },
  argv: (port, dir) => [
    `${BIN}/postgres`,
    "-D",
    join(dir, "data"),
    "-p",
    String(port),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "logging_collector=off",
  ],
  env: { LC_ALL: "C" },
  ready: async (port) => {
    await waitForPort(port, 30_000);
    for (let i = 0; i < 100 && !psql(port, "select 1").startsWith("exit 0"); i++) await sleep(100);
  },
  recordLoad: (port) => {
    const r = psql(port, "select 1");
    if (r !== "exit 0: 1") throw new Error(`select 1: ${r}`);
  },
  uses: [
    {
      name: "create table, insert, select",
      run: (p) =>
        psql(
          p,
          "create table t(a int primary key, b text); insert into t select g, md5(g::text) from generate_series(1, 5000) g; select count(*) from t;",
        ),
    },
    {
      name: "create index, update",
      run: (p) =>
        psql(
          p,
          "create index on t(b); update t set b = b || 'x' where a % 7 = 0; select count(*) from t where b like '%x';",
        ),
    },
    { name: "vacuum analyze", run: (p) => psql(p, "vacuum analyze t; select 'done';") },
    { name: "checkpoint", run: (p) => psql(p, "checkpoint; select 'done';") },
    {
      name: "pg_reload_conf (SIGHUP to the children)",
      run: async (p) => {
        const r = psql(p, "select pg_reload_conf();");
        await sleep(300);
        return `${r} ${psql(p, "select 1")}`;
      },
    },
    {
      name: "pg_terminate_backend of another connection",
      run: async (p) => {
        const victim = spawn(
          "psql",
          ["-h", "127.0.0.1", "-p", String(p), "-U", "postgres", "-XAtq", "-c", "select pg_sleep(20)"],
          { stdio: "ignore" },
        );
        const ended = new Promise<number | null>((r) => victim.on("exit", (c) => r(c)));
        await sleep(700);
        const r = psql(
          p,
          "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(20)%' and pid <> pg_backend_pid()) x;",
        );
        return `${r} victim exit ${await ended}`;
      },
    },
    {
      name: "create database (copies a directory)",
      run: (p) =>
        `${psql(p, "create database d2;")} ${psql(p, "create table x(y int); insert into x values (1); select * from x;", "d2")}`,
    },
    {
      name: "a sort spilling to temporary files",
      run: (p) =>
        psql(
          p,
          "set work_mem = '64kB'; select count(distinct md5(g::text)) from generate_series(1, 200000) g;",
        ),
    },
    {
      name: "temporary table, drop",
      run: (p) => psql(p, "create temp table tt as select * from t; drop table t; select count(*) from tt;"),
    },
    { name: "WAL on disk", run: (_p, dir) => `pg_wal: ${existsSync(join(dir, "data", "pg_wal"))}` },
  ],
};
