import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
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
});
