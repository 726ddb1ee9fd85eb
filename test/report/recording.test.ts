// A recording's summary page (report PROFILE): calls by phase, by program (every process of one executable
// together), the most frequent calls split by phase, and a timeline from the profile's times.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Profile } from "../../src/record/profile.js";
import { summarizeRecording } from "../../src/report/recording.js";
import { CHROMIUM, measure } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { syntheticProfile } from "../helpers/profiles.js";

/** A server (two processes of one program, work phase after a marker) and a helper it ran once. */
function serverProfile(): Profile {
  const p = syntheticProfile(
    { read: { setup: 10, work: 90 }, openat: { setup: 5, work: 0 }, accept4: { work: 40 } },
    { boundary: "marker:ready", exe: "/usr/sbin/demod" },
  );
  const first = p.processes[0];
  const start = Date.parse("2026-12-01T10:00:00.000Z") / 1000;
  first.workStartedAt = start + 2.5;
  p.processes.push(
    { ...first, pid: 200, workStartedAt: start + 3 },
    {
      pid: 300,
      exe: "/usr/bin/helper",
      parent: 100,
      threads: [{ tid: 300, syscalls: { write: { setup: 7, work: 0, errors: 0 } } }],
    },
  );
  p.syscalls.write = { setup: 7, work: 0, errors: 0 };
  p.syscalls.read = { setup: 20, work: 180, errors: 0 };
  p.syscalls.openat = { setup: 10, work: 0, errors: 0 };
  p.syscalls.accept4 = { setup: 0, work: 80, errors: 0 };
  p.startedAt = "2026-12-01T10:00:00.000Z";
  p.endedAt = "2026-12-01T10:00:10.000Z";
  return p;
}

describe("report PROFILE: the recording's summary", () => {
  it("calls by phase, by program and over time", () => {
    const s = summarizeRecording(serverProfile());
    assert.equal(s.setup, 37);
    assert.equal(s.work, 260);
    assert.deepEqual(s.byCall[0], { name: "read", setup: 20, work: 180 });
    assert.deepEqual(
      s.byProgram.map((x) => [x.exe, x.processes, x.setup, x.work]),
      [
        ["/usr/sbin/demod", 2, 30, 260],
        ["/usr/bin/helper", 1, 7, 0],
      ],
    );
    const start = Date.parse("2026-12-01T10:00:00.000Z") / 1000;
    assert.deepEqual(s.timeline, {
      start,
      end: start + 10,
      work: [{ exe: "/usr/sbin/demod", at: start + 2.5 }],
      recordings: [],
    });
  });

  it("the page shows them, phases told by pattern and word", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-recording-"));
    const file = join(dir, "server.json");
    writeFileSync(file, JSON.stringify(serverProfile()));
    const r = await runCli("report", "--format", "html", file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /<i class="s-setup"><\/i>setup \(before the work phase\)/);
    assert.match(r.stdout, /<h3>Calls by program<\/h3>/);
    assert.match(r.stdout, /<th scope="row"><code>\/usr\/sbin\/demod<\/code><\/th><td class="num">2<\/td>/);
    assert.match(r.stdout, /<h3>Over time \(10 s\)<\/h3>/);
    assert.match(
      r.stdout,
      /<th scope="row" class="num">\+2\.50 s<\/th><td>▲ work phase of \/usr\/sbin\/demod begins<\/td>/,
    );
    assert.match(r.stdout, /aria-label="20 setup, 180 work"/);
    const text = await runCli("report", file);
    assert.match(text.stdout, /^phases {6}setup 37 calls \(12\.5%\) · work 260 calls \(87\.5%\)$/m);
    assert.match(text.stdout, /^ {2}\/usr\/sbin\/demod +30 \+ +260 {2}\(2 process\(es\)\)$/m);
    if (CHROMIUM)
      for (const width of [1280, 390]) {
        const m = await measure(r.stdout, width, "recording");
        assert.deepEqual(m.problems, [], `${width} px: ${m.screenshot}`);
      }
  });
});
