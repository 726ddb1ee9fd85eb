import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CLI_PATH } from "../helpers/cli.js";

describe("private stores (the analysis and program caches)", () => {
  it("never create a missing home directory (a service user's HOME=/nonexistent), and still work without one", () => {
    const home = join(mkdtempSync(join(tmpdir(), "sysfence-home-")), "nonexistent");
    const r = spawnSync(process.execPath, [CLI_PATH, "analyze", "/bin/true"], {
      env: { ...process.env, HOME: home, XDG_CACHE_HOME: "" },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(home), false, `${home} was created`);
  });
  it("create a missing $XDG_CACHE_HOME (its parents are the user's)", () => {
    const xdg = join(mkdtempSync(join(tmpdir(), "sysfence-xdg-")), "cache");
    const r = spawnSync(process.execPath, [CLI_PATH, "analyze", "/bin/true"], {
      env: { ...process.env, XDG_CACHE_HOME: xdg },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(join(xdg, "sysfence")), true);
  });
  it("write entries without an fsync each, the secret with one (strace counts them)", {
    skip: spawnSync("strace", ["-V"]).status === 0 ? false : "needs strace",
  }, () => {
    const xdg = mkdtempSync(join(tmpdir(), "sysfence-xdg-"));
    const log = join(xdg, "strace.log");
    const r = spawnSync(
      "strace",
      [
        "-f",
        "-qq",
        "-e",
        "trace=fsync,fdatasync",
        "-o",
        log,
        process.execPath,
        CLI_PATH,
        "analyze",
        "/bin/true",
      ],
      { env: { ...process.env, XDG_CACHE_HOME: xdg }, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const entries = readdirSync(join(xdg, "sysfence", "analysis")).filter((f) => f.endsWith(".entry"));
    assert.ok(entries.length >= 3, `the program, libc and ld.so were stored: ${entries.join(", ")}`);
    const syncs = readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => /\bf(data)?sync\(/.test(l));
    assert.equal(syncs.length, 1, `one fsync, the secret's:\n${syncs.join("\n")}`);
  });
});
