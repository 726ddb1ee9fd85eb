// The bpf engine's start-up. Maps by pid are sized by pid_max (a hash map's buckets are allocated at
// creation: 262,144 keys cost ~20 ms of kernel CPU per map, and no more pids than pid_max exist). Everything a recording needs from the kernel's BTF (struct offsets, argument
// registers, the btf_trace_sys_exit id of sys_exit's tp_btf program) is cached per kernel build, so a
// recording with the cache warm never reads /sys/kernel/btf/vmlinux. The tp_btf id was once looked up on
// every recording, parsing the whole BTF (~60 ms of CPU) although the layout beside it was cached.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BPF_PROG_LOAD, BPF_PROG_TYPE_RAW_TRACEPOINT } from "../../src/abi/ebpf.js";
import { EBPF_LICENSE } from "../../src/ebpf/load.js";
import type { EbpfMap } from "../../src/ebpf/maps.js";
import { bpfAttr, ebpfSys } from "../../src/ebpf/sys.js";
import { MAP_KEYS, pidKeys } from "../../src/record/engines/bpf/bpf.js";
import { KernelRecorder } from "../../src/record/engines/bpf/kernel.js";
import { kernelLayout } from "../../src/record/engines/bpf/kernel-layout.js";
import { loadPathProgram } from "../../src/record/engines/bpf/path-setup.js";
import type { MapFds } from "../../src/record/engines/bpf/program-parts.js";
import { nativeArch } from "../../src/syscalls/arches.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  requireOrSkip(process.getuid?.() === 0, "root") ||
  requireOrSkip(existsSync("/sys/kernel/btf/vmlinux"), "the kernel's BTF");

/** In a fresh Node: counts the reads of vmlinux BTF while the engine's maps and programs are attached. */
const CHILD = `
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
let reads = 0;
const read = fs.readFileSync;
fs.readFileSync = (p, ...rest) => {
  if (String(p).includes("btf/vmlinux")) reads++;
  return read(p, ...rest);
};
syncBuiltinESMExports();
const { KernelRecorder } = await import(${JSON.stringify(`${REPO}dist/src/record/engines/bpf/kernel.js`)});
const rec = new KernelRecorder({ phase: { kind: "none" }, mapKeys: 64 });
try {
  await rec.attach();
} finally {
  rec.close();
}
console.log(reads);
`;

describe("bpf engine: BTF answers cached per kernel build", { skip }, () => {
  it("a recording with the cache warm reads no BTF (the tp_btf id is cached with the layout)", () => {
    const env = { ...process.env, XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "sysfence-btf-")) };
    const attach = () => {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", CHILD], { env, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      return Number(r.stdout.trim());
    };
    assert.ok(attach() >= 1, "the first recording reads BTF (the cache is empty)");
    assert.equal(attach(), 0, "the second reads none");
  });
});

describe("bpf engine: maps by pid sized by pid_max", { skip }, () => {
  it("pidKeys is pid_max, at most MAP_KEYS", () => {
    const max = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8"));
    assert.equal(pidKeys(), Math.min(max, MAP_KEYS));
  });

  it("the process-state and image maps get pidKeys entries, the count maps mapKeys", async () => {
    const rec = new KernelRecorder({ phase: { kind: "none" }, mapKeys: 1024, pidKeys: 16 });
    try {
      await rec.attach(); // (the count maps are made there, while the path program verifies)
      const maps = (rec as unknown as { maps: Record<string, EbpfMap> }).maps;
      assert.deepEqual(Object.fromEntries(["st", "img", "c", "d", "e"].map((k) => [k, maps[k].maxEntries])), {
        st: 16,
        img: 16,
        c: 1024,
        d: 1024,
        e: 1024,
      });
    } finally {
      rec.close();
    }
  });
});

/** Loads a raw tracepoint program with the verifier's statistics (log level 4): its fd and the log. */
function loadWithStats(code: Buffer): { fd: number; log: string } {
  const sys = ebpfSys();
  const license = Buffer.from(`${EBPF_LICENSE}\0`);
  const log = Buffer.alloc(1 << 16);
  const attr = bpfAttr();
  attr.writeUInt32LE(BPF_PROG_TYPE_RAW_TRACEPOINT, 0);
  attr.writeUInt32LE(code.length / 8, 4);
  attr.writeBigUInt64LE(sys.address(code), 8);
  attr.writeBigUInt64LE(sys.address(license), 16);
  attr.writeUInt32LE(4, 24);
  attr.writeUInt32LE(log.length, 28);
  attr.writeBigUInt64LE(sys.address(log), 32);
  const fd = sys.bpfRaw(BPF_PROG_LOAD, attr);
  return { fd, log: log.toString("latin1", 0, Math.max(0, log.indexOf(0))) };
}

describe("bpf engine: the path program's verification", { skip }, () => {
  it("checks one use's code once for both of a call's uses (it looped back for the second: 200,605 instructions processed, ~100 ms)", async (t) => {
    const rec = new KernelRecorder({ phase: { kind: "none" }, mapKeys: 64 });
    let log = "";
    try {
      await rec.attach();
      const fds = (rec as unknown as { fds: MapFds }).fds;
      const p = loadPathProgram(fds, kernelLayout(nativeArch()).paths, nativeArch(), (code) => {
        const r = loadWithStats(code);
        log = r.log;
        if (r.fd < 0) throw new Error(`refused: ${r.log.slice(-500)}`);
        return r.fd;
      });
      for (const m of p.maps) m.close();
      if (p.prog !== undefined) ebpfSys().close(p.prog);
      assert.equal(p.refused, undefined);
    } finally {
      rec.close();
    }
    const processed = Number(/processed (\d+) insns/.exec(log)?.[1]);
    // (55,874 on 6.18 before the walk went past the task's root and the hash took the root: 43,957 after)
    t.diagnostic(`${processed} instructions processed`);
    assert.ok(processed > 0 && processed < 100_000, `${processed} instructions processed`);
  });
});
