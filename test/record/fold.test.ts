import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { selectCalls } from "../../src/generate/select.js";
import { profileFromLog } from "../../src/record/engines/strace/strace.js";
import { imageCount, KEEP_IMAGES_PER_EXE, type Profile } from "../../src/record/profile.js";
import { parseProfile } from "../../src/record/read-profile.js";
import { reportOfProfile } from "../../src/report/model.js";
import { renderText } from "../../src/report/render-text.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-fold-"));
const CHILDREN = 50;

/** A shell (pid 1) starting 50 children that exec cat; every tenth cat starts a thread; one is killed. */
function shellLog(): string {
  const lines = ['1 execve("/bin/sh", ["sh"], 0x7ffd /* 3 vars */) = 0'];
  for (let i = 0; i < CHILDREN; i++) {
    const p = 100 + i * 3;
    lines.push(
      `1 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = ${p}`,
      `${p} execve("/bin/cat", ["cat"], 0x7ffd /* 3 vars */) = 0`,
      `${p} read(0, "", 131072) = 0`,
      `${p} ioctl(1, TCGETS, 0x7ffd) = -1 ENOTTY (Inappropriate ioctl for device)`,
    );
    if (i % 10 === 0)
      lines.push(
        `${p} clone(child_stack=0x7f, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM) = ${p + 1}`,
        `${p + 1} futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0`,
        `${p + 1} +++ exited with 0 +++`,
      );
    if (i === 45) lines.push(`${p} +++ killed by SIGKILL +++`);
    else lines.push(`${p} exit_group(${i % 3}) = ?`, `${p} +++ exited with ${i % 3} +++`);
    lines.push(`1 wait4(-1, NULL, 0, NULL) = ${p}`);
  }
  lines.push("1 exit_group(0) = ?", "1 +++ exited with 0 +++", "");
  return lines.join("\n");
}

/** Calls by (program, thread role), summed over every entry. */
function byRole(p: Profile): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const x of p.processes)
    for (const t of x.threads) {
      const role = `${x.exe} ${t.tid === x.pid ? "main" : "workers"}`;
      out[role] ??= {};
      for (const [n, c] of Object.entries(t.syscalls)) out[role][n] = (out[role][n] ?? 0) + c.setup + c.work;
    }
  return out;
}

describe("many images of one program are folded into one entry", () => {
  it("past the first 32 images of a program, the others are one entry: calls by role whole, endings counted", async () => {
    const f = join(dir, "shell.log");
    writeFileSync(f, shellLog());
    const { profile } = await profileFromLog(f, { threads: 1 });
    const cats = profile.processes.filter((x) => x.exe === "/bin/cat");
    const apart = cats.filter((x) => x.images === undefined);
    const folded = cats.filter((x) => x.images !== undefined);
    assert.equal(apart.length, KEEP_IMAGES_PER_EXE);
    assert.equal(folded.length, 1);
    assert.equal(folded[0].images, CHILDREN - KEEP_IMAGES_PER_EXE);
    assert.equal(folded[0].pid, 100 + KEEP_IMAGES_PER_EXE * 3, "the first folded image's pid");
    assert.equal(folded[0].parent, 1);
    // images 32..49: statuses i % 3, and 45 killed
    const endings: Record<string, number> = {};
    for (let i = KEEP_IMAGES_PER_EXE; i < CHILDREN; i++) {
      const k = i === 45 ? "SIGKILL" : String(i % 3);
      endings[k] = (endings[k] ?? 0) + 1;
    }
    assert.deepEqual({ ...folded[0].endings }, endings);
    assert.deepEqual(
      folded[0].threads.map((t) => t.tid),
      [folded[0].pid, 0],
      "main threads under the pid, other threads under tid 0",
    );
    // every call is where it was: per program and role, and in the totals
    assert.deepEqual(byRole(profile), {
      // (the log's first image: its exec is of a program the log does not name)
      "? main": { execve: 1 },
      "/bin/sh main": { clone: CHILDREN, exit_group: 1, execve: CHILDREN, wait4: CHILDREN },
      "/bin/cat main": { read: CHILDREN, ioctl: CHILDREN, clone: 5, exit_group: CHILDREN - 1 },
      "/bin/cat workers": { futex: 5 },
      // (each child's first image is the shell's fork, which only calls execve)
    });
    assert.equal(profile.syscalls.ioctl.errors, CHILDREN);
    assert.equal(profile.syscalls.ioctl.args?.["1"]?.TCGETS, CHILDREN);
    const cat = folded[0].threads[0].syscalls;
    assert.equal(cat.ioctl.errors, CHILDREN - KEEP_IMAGES_PER_EXE);
    assert.equal(cat.ioctl.args?.["1"]?.TCGETS, CHILDREN - KEEP_IMAGES_PER_EXE);
    // the launch is never folded; images stand for what they fold
    assert.ok(profile.processes.some((x) => x.exe === "/bin/sh" && x.parent === undefined && !x.images));
    assert.equal(imageCount(profile), 2 + CHILDREN * 2);
  });

  it("the folded entry is read back, selected by role and counted as its images", async () => {
    const f = join(dir, "shell2.log");
    writeFileSync(f, shellLog());
    const { profile } = await profileFromLog(f, { threads: 1 });
    const back = parseProfile(JSON.stringify(profile), "p.json");
    const workers = selectCalls([back], { threadRole: "workers" });
    assert.deepEqual([...workers.calls.keys()], ["futex"]);
    const cat = selectCalls([back], { exe: ["cat"] }).calls.get("read");
    assert.equal(cat?.count, CHILDREN);
    assert.deepEqual(
      [...(cat?.where.get("cat main")?.values() ?? [])].reduce((a, n) => a + n, 0),
      CHILDREN,
      "50 processes: 32 apart and one entry of 18",
    );
    assert.match(
      renderText(reportOfProfile(back, "p.json")),
      /\/bin\/cat \(18 images, the first pid 196\): \d+ calls/,
    );
  });

  it("an entry's images and endings are checked on reading", () => {
    const profile = (proc: object) =>
      JSON.stringify({
        format: "sysfence-profile",
        version: 1,
        command: ["x"],
        engine: { name: "strace" },
        arch: "x86_64",
        complete: true,
        syscalls: {},
        processes: [{ pid: 1, exe: "/x", threads: [], ...proc }],
        paths: {},
        signals: {},
      });
    assert.throws(
      () => parseProfile(profile({ images: 0 }), "p.json"),
      /p\.json.*processes\[0\]\.images is not a positive/,
    );
    assert.throws(() => parseProfile(profile({ images: 1.5 }), "p.json"), /images is not a positive/);
    assert.throws(
      () => parseProfile(profile({ endings: { 0: "x" } }), "p.json"),
      /processes\[0\]\.endings\["0"\] is not a count/,
    );
    assert.equal(parseProfile(profile({ images: 3, endings: { 0: 3 } }), "p.json").processes[0].images, 3);
  });
});
