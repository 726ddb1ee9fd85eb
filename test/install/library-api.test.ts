// The library as a consumer meets it: `import … from "sysfence"` (the package's own exports), every form a
// policy comes in, the typed example compiled against the published types, and the README's snippets run
// as written. Filters are irreversible, so every install happens in a child process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import { REPO } from "../helpers/paths.js";

/** Runs an ES module placed inside the package (so "sysfence" resolves to this package's exports). */
function runModule(
  code: string,
  name = "snippet",
): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(`${REPO}dist/.${name}-`);
  const file = `${dir}/main.mjs`;
  writeFileSync(file, code);
  try {
    const r = spawnSync(process.execPath, [file], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SECCOMP_MODE = `import { readFileSync as readStatus } from "node:fs";
const seccompMode = () => /^Seccomp:\\s+(\\d)/m.exec(readStatus("/proc/self/status", "utf8"))[1];`;

describe("library: lockdown() takes a policy in any form", () => {
  const forms: [string, string][] = [
    ["a policy file path (YAML)", `"${REPO}examples/lockdown-server/policy.yaml"`],
    [
      "a Docker/moby profile object",
      `{ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["execve", "execveat"], action: "SCMP_ACT_ERRNO" }] }`,
    ],
    [
      "an OCI runtime-spec object",
      `{ ociVersion: "1.0.2", linux: { seccomp: { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["execve", "execveat"], action: "SCMP_ACT_ERRNO" }] } } }`,
    ],
    [
      "a sysfence-format object",
      `{ version: 1, defaultAction: "allow", syscalls: [{ names: ["execve", "execveat"], action: "errno EPERM" }] }`,
    ],
    [
      "a parsePolicy() result",
      `(await import("sysfence")).parsePolicy("defaultAction: allow\\nsyscalls:\\n  - names: [execve, execveat]\\n    action: errno EPERM\\n")`,
    ],
    [
      "the internal model",
      `{ defaultAction: "allow", rules: [{ names: ["execve", "execveat"], action: "errno EPERM" }] }`,
    ],
  ];
  for (const [what, expr] of forms) {
    it(`${what}: installed on every thread, exec then fails with EPERM`, () => {
      const r = runModule(`
        import { spawnSync } from "node:child_process";
        import { lockdown } from "sysfence";
        ${SECCOMP_MODE}
        lockdown(${expr});
        const child = spawnSync("true");
        console.log(seccompMode(), child.error?.code);
      `);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), "2 EPERM", r.stderr);
    });
  }

  it("anything else is a SysfenceError before the kernel is touched (no_new_privs and seccomp stay off)", () => {
    const r = runModule(`
      import { lockdown, install, SysfenceError } from "sysfence";
      ${SECCOMP_MODE}
      const nnp = () => /^NoNewPrivs:\\s+(\\d)/m.exec(readStatus("/proc/self/status", "utf8"))[1];
      const out = [];
      for (const x of [42, null, undefined, () => 1, "/nonexistent/policy.yaml", "", { wrong: true }, [{ code: 6 }],
                       { defaultAction: "SCMP_ACT_NOPE", syscalls: [] }, { defaultAction: "allow", rules: [{ names: ["nosuchcall"], action: "allow" }] }]) {
        try { lockdown(x); out.push("INSTALLED"); } catch (e) { out.push(e instanceof SysfenceError ? e.code : "TypeError:" + e.message); }
      }
      try { lockdown("${REPO}examples/lockdown-server/policy.yaml", { caps: "all" }); } catch (e) { out.push(e.code); }
      try { install([], { tsync: "yes" }); } catch (e) { out.push(e.code); }
      console.log(JSON.stringify(out), seccompMode(), nnp());
    `);
    assert.equal(r.status, 0, r.stderr);
    const [list, mode, nnp] = r.stdout.trim().split(" ");
    const codes = JSON.parse(list) as string[];
    assert.deepEqual(codes.slice(0, 4), ["E_USAGE", "E_USAGE", "E_USAGE", "E_USAGE"]);
    assert.deepEqual(codes.slice(4, 6), ["E_IO", "E_IO"]);
    for (const c of codes.slice(6))
      assert.match(c, /^E_(POLICY_INVALID|BPF_INVALID|USAGE|UNKNOWN_SYSCALL)$/, list);
    assert.equal(mode, "0", "no filter");
    assert.equal(nnp, "0", "no_new_privs untouched");
  });
});

describe("library: the typed example and the README's snippets", () => {
  it("examples/library compiles against the published types (no skipLibCheck) and runs", () => {
    const tsc = spawnSync(
      process.execPath,
      [`${REPO}node_modules/typescript/bin/tsc`, "-p", `${REPO}examples/library`],
      {
        cwd: REPO,
        encoding: "utf8",
      },
    );
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    const r = spawnSync(process.execPath, [`${REPO}dist/examples/library/pipeline.js`], {
      cwd: REPO,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^policy: \d+ of \d+ syscalls allowed$/m);
    assert.match(r.stdout, /^drift against its own recording: false$/m);
    assert.match(r.stdout, /^after lockdown, running a program: EPERM$/m);
  });

  it("every ```js block of the README runs as written", () => {
    const readme = readFileSync(`${REPO}README.md`, "utf8");
    const blocks = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
    assert.ok(blocks.length >= 2, "the README shows the library");
    for (const code of blocks) {
      const r = runModule(code, "readme");
      assert.equal(r.status, 0, `README snippet failed:\n${code}\n${r.stdout}${r.stderr}`);
    }
  });
});
