// `import`: BPF the kernel would refuse is refused with the verifier's reason; every arch a program
// dispatches on is kept (a two-arch program sysfence compiled reads back with both); and what import
// writes reads back to the same decisions (the round-trip check refuses a policy its format cannot say).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as O from "../../src/abi/opcodes.js";
import { encodeProgram, insn } from "../../src/bpf/insn.js";
import { SysfenceError } from "../../src/errors.js";
import { exportBpf } from "../../src/export/bpf.js";
import { importBpf } from "../../src/policy/formats/bpf/read.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { checkRoundTrip, firstDecisionDifference } from "../../src/policy/round-trip.js";
import { runCli } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const dir = mkdtempSync(join(tmpdir(), "sysfence-import-"));
const TWO_ARCH =
  "defaultAction: kill-process\narchitectures: [x86_64, i386]\nsyscalls:\n  - names: [read, write, exit_group]\n    action: allow\n";

describe("import refuses what the kernel refuses", () => {
  it("a program whose last instruction is not a return (never reached by any call) is refused with the reason", async () => {
    const p = parsePolicy(TWO_ARCH, { file: "p.yaml" }).policy;
    const bytes = Buffer.concat([exportBpf(p).bytes, encodeProgram([insn(O.BPF_LD | O.BPF_IMM, 0)])]);
    const f = join(dir, "tail.bpf");
    writeFileSync(f, bytes);
    const r = await runCli("import", f);
    assert.equal(r.code, 2, r.stdout);
    assert.match(
      r.stderr,
      /tail\.bpf: the kernel would refuse this program: the last instruction \(\d+\) must be a return/,
    );
    assert.equal(r.stdout, "");
  });
});

describe("import keeps every architecture a program checks for", () => {
  it("x86_64 + i386 compiled by sysfence, default = bad-arch action: both arches are kept", async () => {
    const src = join(dir, "two.yaml");
    const bpf = join(dir, "two.bpf");
    writeFileSync(src, TWO_ARCH);
    assert.equal((await runCli("compile", src, "--format", "bpf", "-o", bpf)).code, 0);
    const imported = importBpf(
      (await import("../../src/bpf/insn.js")).decodeProgram(readFileSync(bpf)),
      "two.bpf",
    );
    assert.deepEqual(imported.architectures, ["x86_64", "i386"]);
    const r = await runCli("import", bpf, "--json");
    assert.equal(r.code, 0, r.stderr);
    const back = parsePolicy(JSON.parse(r.stdout).policy, { file: "back.yaml" }).policy;
    // the written policy decides every call on both arches as the original does
    assert.equal(firstDecisionDifference(parsePolicy(TWO_ARCH).policy, back), undefined);
  });
});

describe("what import writes reads back to the same decisions", () => {
  it("the check passes for faithful text and names the first call a lossy writer changes", () => {
    const p = parsePolicy(
      "defaultAction: errno EPERM\nsyscalls:\n  - names: [read]\n    action: allow\n  - names: [ioctl]\n    action: allow\n    args: ['arg1 == 0x5401']\n",
      { file: "p.yaml" },
    ).policy;
    const read = (t: string) => parsePolicy(t, { file: "back.yaml" }).policy;
    checkRoundTrip(
      p,
      "defaultAction: errno EPERM\nsyscalls:\n  - names: [read]\n    action: allow\n  - names: [ioctl]\n    action: allow\n    args: ['arg1 == 0x5401']\n",
      read,
      "p.yaml",
    );
    assert.throws(
      () =>
        checkRoundTrip(
          p,
          "defaultAction: errno EPERM\nsyscalls:\n  - names: [read, ioctl]\n    action: allow\n",
          read,
          "p.yaml",
        ),
      (e: unknown) =>
        e instanceof SysfenceError &&
        /p\.yaml: the policy sysfence wrote .* ioctl\(0x0, 0x0.* is 'errno EPERM' against 'allow'/.test(
          e.message,
        ),
    );
  });
  it("an OCI unsigned comparison on an int argument, which the sysfence format cannot say, is refused, not written", async () => {
    const f = join(dir, "gt.json");
    const out = join(dir, "gt.yaml");
    writeFileSync(
      f,
      JSON.stringify({
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [
          { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 10, op: "SCMP_CMP_GT" }] },
        ],
      }),
    );
    const r = await runCli("import", f, "-o", out);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /gt\.json: the policy sysfence wrote from it reads back to other decisions: socket\(0xffffffffffffffff/,
    );
    assert.throws(() => readFileSync(out), /ENOENT/);
  });
  it("imports of Docker's default profile and of the server example read back", async () => {
    for (const f of ["examples/docker-default.json", "examples/server-policy.yaml"]) {
      const r = await runCli("import", `${REPO}${f}`);
      assert.equal(r.code, 0, r.stderr);
    }
  });
});
