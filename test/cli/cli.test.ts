import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const run = runCli;
const DOCKER = `${REPO}examples/docker-default.json`;

describe("sysfence CLI", () => {
  it("compile prints a summary of the Docker profile", async () => {
    const r = await run("compile", DOCKER);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /program\s+\d+ instructions/);
    assert.match(r.stdout, /x86_64\s+\d+ \/ \d+ \/ \d+/);
  });
  it("compile -o writes BPF that disasm lists with syscall names", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-cli-"));
    const out = join(dir, "docker.bpf");
    assert.equal((await run("compile", DOCKER, "-o", out)).code, 0);
    assert.equal(readFileSync(out).length % 8, 0);
    assert.deepEqual(readdirSync(dir), ["docker.bpf"], "no temp files left behind");
    const d = await run("disasm", out);
    assert.equal(d.code, 0);
    assert.match(d.stdout, /arch == x86_64/);
    assert.match(d.stdout, /; socket/);
    const e = await run("emu", out, "--arch", "x86_64", "--syscall", "clone3", "--json");
    assert.equal(JSON.parse(e.stdout).text, "errno ENOSYS");
  });
  it("compile --format c writes one sock_filter initialiser per instruction", async () => {
    const c = await run("compile", DOCKER, "--format", "c");
    const hex = await run("compile", DOCKER, "--format", "hex");
    assert.match(
      c.stdout,
      /^#include <linux\/filter\.h>\n\nstatic struct sock_filter sysfence_filter\[\] = \{\n/,
    );
    assert.equal(
      c.stdout.match(/^ {2}\{ 0x[0-9a-f]{2}, \d+, \d+, 0x[0-9a-f]{8} \},$/gm)?.length,
      hex.stdout.trim().length / 16,
    );
  });
  it("emu answers as Docker documents", async () => {
    const r = await run("emu", DOCKER, "--syscall", "socket", "--args", "AF_VSOCK,SOCK_STREAM", "--json");
    const a = JSON.parse(r.stdout);
    assert.equal(a.action, "errno");
    assert.equal(a.data, 1);
    assert.equal(a.readArgs, true);
  });
  it("emu --batch answers JSON lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-cli-"));
    const q = join(dir, "q.jsonl");
    writeFileSync(
      q,
      [
        '{"syscall":"getpid"}',
        '{"syscall":"clone","args":["CLONE_NEWUSER"]}',
        '{"arch":"i386","syscall":"getpid"}',
      ].join("\n"),
    );
    const r = await run("emu", DOCKER, "--batch", q);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.text),
      ["allow", "errno EPERM", "allow"],
    );
    writeFileSync(q, '{"syscall":"getpid"}\nnot json\n');
    const bad = await run("emu", DOCKER, "--batch", q);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /q\.jsonl:2: not a JSON object/);
  });
  it("syscalls resolves names, numbers and groups", async () => {
    const r = await run("syscalls", "ioctl", "0", "--json");
    const j = JSON.parse(r.stdout);
    assert.deepEqual(
      j.syscalls.map((s: { name: string }) => s.name),
      ["ioctl", "read"],
    );
    assert.deepEqual(j.syscalls[0].args, ["u32", "u32", "u64"]);
    const g = await run("syscalls", "@swap", "--arch", "aarch64");
    assert.match(g.stdout, /swapon/);
    const bad = await run("syscalls", "getpidd");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /did you mean 'getpid'/);
  });
  it("bad policy: exit 1, every problem named, nothing written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sysfence-cli-"));
    const p = join(dir, "bad.yaml");
    writeFileSync(p, "defaultAction: allow\nsyscalls:\n  - names: [opne]\n    action: allow\n");
    const out = join(dir, "out.bpf");
    const r = await run("compile", p, "-o", out);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.yaml:3:13: error: unknown syscall 'opne' — did you mean 'open'/);
    assert.ok(!existsSync(out));
  });
  it("--version prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(`${REPO}package.json`, "utf8"));
    for (const flag of ["--version", "-V"]) {
      const r = await run(flag);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
    }
    // a package whose package.json says another version: the built CLI prints that one
    const pkg = mkdtempSync(join(tmpdir(), "sysfence-version-"));
    mkdirSync(join(pkg, "dist"));
    cpSync(`${REPO}dist/src`, join(pkg, "dist/src"), { recursive: true });
    symlinkSync(`${REPO}node_modules`, join(pkg, "node_modules"));
    writeFileSync(
      join(pkg, "package.json"),
      JSON.stringify({ name: "sysfence", version: "9.8.7", type: "module" }),
    );
    const other = spawnSync(process.execPath, [join(pkg, "dist/src/cli/main.js"), "--version"], {
      encoding: "utf8",
    });
    assert.equal(other.stdout, "9.8.7\n", other.stderr);
    rmSync(pkg, { recursive: true, force: true });
  });
  it("usage errors exit 2", async () => {
    assert.equal((await run("compile")).code, 2);
    assert.equal((await run("nonsense")).code, 2);
  });
  it("check and schema", async () => {
    const r = await run("check", `${REPO}examples/server-policy.yaml`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ok \(sysfence format/);
    const s = JSON.parse((await run("schema")).stdout);
    assert.equal(s.title, "sysfence policy");
    assert.ok(s.properties.syscalls);
  });
});

describe("published JSON Schema", () => {
  it("schema/policy.schema.json is what `sysfence schema` prints (regenerate with npm run gen:schema)", async () => {
    const committed = JSON.parse(readFileSync(`${REPO}schema/policy.schema.json`, "utf8"));
    assert.deepEqual(committed, JSON.parse((await run("schema")).stdout));
  });
});

describe("standard input", () => {
  it("- reads the policy from stdin for check, compile, report, export, import and fmt", async () => {
    const { spawnCli } = await import("../helpers/cli.js");
    const { readFileSync } = await import("node:fs");
    const { REPO } = await import("../helpers/paths.js");
    const input = readFileSync(`${REPO}examples/server-policy.yaml`, "utf8");
    for (const args of [
      ["check", "-"],
      ["compile", "-"],
      ["report", "-"],
      ["export", "-", "--format", "oci"],
      ["import", "-"],
      ["fmt", "-"],
    ]) {
      const r = spawnCli(args, { input });
      assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(r.stdout.length > 0, args.join(" "));
    }
    const w = spawnCli(["fmt", "-w", "-"], { input });
    assert.equal(w.status, 2);
    assert.match(w.stderr, /standard input has none/);
  });
});
