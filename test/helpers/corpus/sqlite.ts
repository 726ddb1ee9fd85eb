// sqlite3: recorded a select; then writes, WAL mode (fcntl locks of new kinds, a -wal and -shm file),
// vacuum, a dump, an attached second database and a backup.
import { type CliProgram, must } from "./types.js";

/** Why every write fails under today's policy (found by the harness's strace diagnosis). */
const sql = (s: string) => ["sqlite3", "db.sqlite", s];

export const sqlite: CliProgram = {
  kind: "cli",
  name: "sqlite3",
  needs: ["sqlite3"],
  exes: ["sqlite3"],
  setup: (dir) => {
    must(sql("create table t(a integer primary key, b text); insert into t(b) values ('one'), ('two');"), {
      cwd: dir,
    });
    return undefined;
  },
  record: { name: "select", argv: sql("select * from t;") },
  uses: [
    { name: "select", argv: sql("select count(*), max(b) from t;") },
    {
      name: "create and insert",
      argv: sql("create table u(x); insert into u values (1), (2), (3);"),
    },
    {
      name: "insert in a transaction",
      argv: sql("begin; insert into t(b) values ('three'); commit;"),
    },
    {
      name: "journal_mode=wal",
      argv: sql("pragma journal_mode=wal; insert into t(b) values ('wal');"),
    },
    { name: "read in WAL mode", argv: sql("select b from t order by a;") },
    {
      name: "checkpoint and back to delete mode",
      argv: sql("pragma wal_checkpoint(truncate); pragma journal_mode=delete;"),
    },
    {
      name: "vacuum",
      argv: sql("delete from u; vacuum; select count(*) from u;"),
    },
    { name: "integrity_check", argv: sql("pragma integrity_check;") },
    { name: ".dump", argv: ["sqlite3", "db.sqlite", ".dump t"] },
    {
      name: "attach a second database",
      argv: sql(
        "attach 'other.sqlite' as o; create table o.v(y); insert into o.v values (42); select * from o.v;",
      ),
    },
    {
      name: ".backup",
      argv: ["sqlite3", "db.sqlite", ".backup copy.sqlite"],
      after: ["sqlite3", "copy.sqlite", "select count(*) from t;"],
    },
  ],
};
