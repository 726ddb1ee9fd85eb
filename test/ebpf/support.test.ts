// ebpfSupport() says yes as root on this kernel, and as an unprivileged user says why not, in a sentence,
// without throwing.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { ebpfSupport } from "../../src/ebpf/support.js";
import { REPO } from "../helpers/paths.js";
import { kernelSkip } from "./kernel.js";

/** Whether uid 65534 can read `path` (every directory above it searchable). */
function readableByNobody(path: string): boolean {
  const args = ["--reuid=65534", "--regid=65534", "--clear-groups", "test", "-r", path];
  return spawnSync("setpriv", args).status === 0;
}

describe("eBPF support check", { skip: kernelSkip }, () => {
  it("is ok as root on a kernel with BTF", {
    skip: !existsSync("/sys/kernel/btf/vmlinux") && "no BTF",
  }, () => {
    assert.deepEqual(ebpfSupport(), { ok: true, btf: true, ringbuf: true, load: true });
  });

  it("says an unprivileged process needs root", {
    skip: !existsSync("/usr/bin/setpriv")
      ? "needs setpriv"
      : !readableByNobody(`${REPO}dist/src/ebpf/support.js`) &&
        "the checkout is not readable by uid 65534 (e.g. a clone inside a 0700 mktemp directory)",
  }, () => {
    const r = spawnSync(
      "setpriv",
      [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        process.execPath,
        "-e",
        `import(${JSON.stringify(`${REPO}dist/src/ebpf/support.js`)}).then((m) => process.stdout.write(JSON.stringify(m.ebpfSupport())))`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const support = JSON.parse(r.stdout);
    assert.equal(support.ok, false);
    assert.match(support.reason, /^Loading eBPF needs root \(CAP_BPF and CAP_PERFMON\)/);
  });
});
