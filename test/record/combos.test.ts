// The values of a call's interesting arguments are recorded together (profile.ts combos), through the strace
// engine, folded images, kernel-count rows with a value missing, merges and the profile's JSON.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { mergeProfiles } from "../../src/generate/merge.js";
import { ProfileBuilder } from "../../src/record/builder.js";
import { profileFromLog } from "../../src/record/engines/strace/strace.js";
import { EventBatch, StringTable } from "../../src/record/events.js";
import { pushImage } from "../../src/record/image-rows.js";
import { KEEP_IMAGES_PER_EXE } from "../../src/record/profile.js";
import { parseProfile } from "../../src/record/read-profile.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-combos-"));
const CHILDREN = KEEP_IMAGES_PER_EXE + 8;
const plain = <T>(o: T): T => JSON.parse(JSON.stringify(o));

/** A shell starting children that each open a unix datagram socket and a TCP socket (strace -X raw). */
function log(): string {
  const lines = ['1 execve("/bin/sh", ["sh"], 0x7ffd /* 3 vars */) = 0'];
  for (let i = 0; i < CHILDREN; i++) {
    const p = 100 + i;
    lines.push(
      `1 clone(child_stack=NULL, flags=0x1200011, child_tidptr=0x7f) = ${p}`,
      `${p} execve("/bin/client", ["client"], 0x7ffd /* 3 vars */) = 0`,
      `${p} socket(0x1, 0x80002, 0) = 3`,
      `${p} socket(0x2, 0x80001, 0) = 4`,
      `${p} setsockopt(4, 0x1, 0x2, [1], 4) = 0`,
      `${p} setsockopt(4, 0x6, 0x1, [1], 4) = 0`,
      `${p} exit_group(0) = ?`,
      `${p} +++ exited with 0 +++`,
      `1 wait4(-1, NULL, 0, NULL) = ${p}`,
    );
  }
  lines.push("1 exit_group(0) = ?", "1 +++ exited with 0 +++", "");
  return lines.join("\n");
}

describe("argument values recorded together (combos)", () => {
  it("strace: per call, in the totals and in folded images, and through the profile's JSON", async () => {
    const f = join(dir, "socks.log");
    writeFileSync(f, log());
    const { profile } = await profileFromLog(f, { threads: 1 });
    assert.deepEqual(plain(profile.syscalls.socket.combos), {
      "1,524290,0": CHILDREN,
      "2,524289,0": CHILDREN,
    });
    assert.deepEqual(plain(profile.syscalls.setsockopt.combos), { "1,2": CHILDREN, "6,1": CHILDREN });
    const folded = profile.processes.find((p) => p.images !== undefined && p.exe === "/bin/client");
    assert.ok(folded, "past KEEP_IMAGES_PER_EXE images, one folded entry");
    assert.deepEqual(plain(folded.threads[0].syscalls.socket.combos), {
      "1,524290,0": folded.images,
      "2,524289,0": folded.images,
    });
    const back = parseProfile(JSON.stringify(profile), "socks.json");
    assert.deepEqual(plain(back.syscalls.socket.combos), plain(profile.syscalls.socket.combos));
    const merged = mergeProfiles([profile, back]);
    assert.equal(merged.syscalls.setsockopt.combos?.["1,2"], 2 * CHILDREN);
  });

  it("a row with a value missing counts its values apart, never a combination", () => {
    const builder = new ProfileBuilder(["/bin/x"]);
    const out = new EventBatch();
    const strings = new StringTable();
    pushImage(out, strings, { pid: 10, exe: "/bin/x" }, [
      { tid: 10, name: "socket", values: ["2", "1", "0"], n: 2, errors: 0, work: true },
      { tid: 10, name: "socket", values: ["10", "2", undefined], n: 1, errors: 0, work: false },
    ]);
    builder.addBatch(out.columns, strings.list);
    const c = builder.build({ engine: { name: "bpf" }, arch: "x86_64", complete: true }).syscalls.socket;
    assert.deepEqual(plain(c.combos), { "2,1,0": 2 });
    assert.deepEqual(plain(c.workCombos), { "2,1,0": 2 });
    assert.deepEqual(plain(c.args), { "0": { "2": 2, "10": 1 }, "1": { "1": 2, "2": 1 }, "2": { "0": 2 } });
  });

  it("a profile's combos must be counts", () => {
    const p = {
      format: "sysfence-profile",
      version: 1,
      command: ["x"],
      engine: { name: "strace" },
      arch: "x86_64",
    };
    const bad = {
      ...p,
      complete: true,
      syscalls: { socket: { setup: 1, work: 0, errors: 0, combos: { "1,1,0": "x" } } },
    };
    assert.throws(
      () => parseProfile(JSON.stringify({ ...bad, processes: [], paths: {}, signals: {} }), "bad.json"),
      /combos/,
    );
  });
});
