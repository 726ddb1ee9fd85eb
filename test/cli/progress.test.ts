// Live progress of generate and analyze: drawn on stderr when it is a terminal (a real pseudo-terminal,
// util-linux's script), erased at the end, and never under -q, with --json, or when stderr is a pipe.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CLI_PATH } from "../helpers/cli.js";
import { syntheticProfile } from "../helpers/profiles.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-progress-"));
const env = { ...process.env, XDG_CACHE_HOME: join(dir, "cache") };
const quote = (w: string) => `'${w.replace(/'/g, "'\\''")}'`;

/** Runs the CLI with stderr on a pseudo-terminal (stdout to a file); what the terminal and the file got. */
function onTerminal(
  name: string,
  args: string[],
  columns = 200,
): { terminal: string; stdout: string; status: number } {
  const transcript = join(dir, `${name}.tty`);
  const out = join(dir, `${name}.out`);
  const cmd = `stty cols ${columns}; ${["node", CLI_PATH, ...args].map(quote).join(" ")} > ${quote(out)}`;
  const r = spawnSync("script", ["-qfec", cmd, transcript], { env, encoding: "utf8" });
  assert.equal(r.error, undefined);
  const raw = readFileSync(transcript, "utf8");
  // script frames the session with a "Script started/done" line of its own
  const terminal = raw.replace(/^Script started[^\n]*\n/, "").replace(/\nScript done[^\n]*\n?$/, "");
  return { terminal, stdout: readFileSync(out, "utf8"), status: r.status ?? -1 };
}

const progressLines = (t: string, prefix: string) =>
  t.split("\r").filter((s) => s.startsWith(`${prefix}: `) && s.includes(" s · "));

test("analyze draws its progress on a terminal and erases it at the end", () => {
  const r = onTerminal("analyze", ["analyze", "--no-cache", "/usr/bin/true"]);
  assert.equal(r.status, 0, r.terminal);
  const lines = progressLines(r.terminal, "sysfence analyze");
  assert.ok(
    lines.some((l) => /\d object\(s\) done, reading libc\.so\.6/.test(l)),
    r.terminal,
  );
  assert.ok(
    lines.some((l) => /objects read, reaching across them/.test(l)),
    r.terminal,
  );
  // every redraw ends by erasing the rest of the line; the last write erases the whole line
  assert.ok(lines.every((l) => l.endsWith("\x1b[K")));
  assert.match(r.terminal, /\r\x1b\[K$/);
  assert.ok(!r.stdout.includes("\r") && !r.stdout.includes("\x1b"), "stdout holds no progress");
  assert.match(r.stdout, /^\/usr\/bin\/true \(x86_64\): \d+ syscalls reachable/);
});

test("analyze: no progress with --json or -q, even on a terminal", () => {
  for (const [name, args] of [
    ["json", ["analyze", "--json", "/usr/bin/true"]],
    ["quiet", ["-q", "analyze", "/usr/bin/true"]],
    ["quiet-after", ["analyze", "-q", "/usr/bin/true"]],
  ] as const) {
    const r = onTerminal(name, [...args]);
    assert.equal(r.status, 0, r.terminal);
    assert.equal(progressLines(r.terminal, "sysfence analyze").length, 0, `${name}: ${r.terminal}`);
    assert.ok(!r.terminal.includes("\x1b[K"), name);
  }
  const json = JSON.parse(readFileSync(join(dir, "json.out"), "utf8"));
  assert.equal(json.program, "/usr/bin/true");
});

test("analyze: no progress when stderr is a pipe", () => {
  const r = spawnSync("node", [CLI_PATH, "analyze", "/usr/bin/true"], { env, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stderr.includes("\r") && !r.stderr.includes("\x1b"), r.stderr);
  assert.ok(!r.stdout.includes("\r"));
});

test("generate shows the static analysis's progress on a terminal, not in its output or --json", () => {
  const profile = join(dir, "true.json");
  const p = syntheticProfile({ read: {}, write: {}, exit_group: {} }, { exe: "/usr/bin/true" });
  writeFileSync(profile, JSON.stringify(p));
  const r = onTerminal("generate", ["generate", "--static", "on", profile]);
  assert.equal(r.status, 0, r.terminal);
  const lines = progressLines(r.terminal, "sysfence generate");
  assert.ok(
    lines.some((l) => /reading 1 profile\(s\)/.test(l)),
    r.terminal,
  );
  assert.ok(
    lines.some((l) => /analysing true: \d object\(s\) done, reading /.test(l)),
    r.terminal,
  );
  // the notes and the summary come after the progress was erased, as whole lines of their own
  assert.match(r.terminal, /\r\x1b\[K(sysfence generate: [^\r\n]*\r?\n)+$/);
  assert.match(r.terminal, /\nsysfence generate: \d+ of \d+ syscalls allowed/);
  assert.ok(!r.stdout.includes("\r") && !r.stdout.includes("\x1b"));
  assert.match(r.stdout, /^# /m);
  const j = onTerminal("generate-json", ["generate", "--static", "on", "--json", profile]);
  assert.equal(j.status, 0, j.terminal);
  assert.equal(progressLines(j.terminal, "sysfence generate").length, 0, j.terminal);
  assert.ok(JSON.parse(j.stdout).policy.includes("syscalls:"));
  const piped = spawnSync("node", [CLI_PATH, "generate", "--static", "on", profile], {
    env,
    encoding: "utf8",
  });
  assert.equal(piped.status, 0, piped.stderr);
  assert.ok(!piped.stderr.includes("\r"), piped.stderr);
});

test("the line is clipped to the terminal's width", () => {
  const r = onTerminal("narrow", ["analyze", "/usr/bin/true"], 40);
  assert.equal(r.status, 0, r.terminal);
  const lines = progressLines(r.terminal, "sysfence analyze");
  assert.ok(lines.length > 0, r.terminal);
  for (const l of lines) assert.ok(l.replace("\x1b[K", "").length <= 39, l);
});

test("an error erases the progress line before it is printed", () => {
  const r = onTerminal("error", ["analyze", "--arch", "aarch64", "/usr/bin/true"]);
  assert.equal(r.status, 2, r.terminal);
  assert.match(r.terminal, /\r\x1b\[Ksysfence: \/usr\/bin\/true is an x86_64 program, not aarch64\./);
});
