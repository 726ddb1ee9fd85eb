// Maps on the real kernel: element calls and their errors, walking keys, draining 100,000 entries by
// batch and by keys + lookup, per-CPU values; CPU lists parsed without a kernel.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BPF_EXIST,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PROG_ARRAY,
  BPF_NOEXIST,
} from "../../src/abi/ebpf.js";
import { createMap, parseCpuList, perCpuSlots, possibleCpus, sumPerCpuU64 } from "../../src/ebpf/maps.js";
import { kernelSkip } from "./kernel.js";

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};

describe("CPU lists", () => {
  it("counts the CPUs a list names", () => {
    assert.equal(parseCpuList("0-3\n"), 4);
    assert.equal(parseCpuList("0"), 1);
    assert.equal(parseCpuList("0,2-5,7"), 6);
    assert.throws(() => parseCpuList("0-x"), /"0-x", which is not N or N-M/);
  });
  it("sums per-CPU u64 slots", () => {
    const v = Buffer.concat([u64(3n), u64(0n), u64(4n), u64(9n)]);
    assert.equal(sumPerCpuU64(v, 16), 7n);
    assert.equal(sumPerCpuU64(v, 16, 8), 9n);
    assert.equal(perCpuSlots(v, 16).length, 2);
  });
});

describe("eBPF maps on the kernel", { skip: kernelSkip }, () => {
  it("looks up, updates with flags, deletes and walks keys", () => {
    const m = createMap({
      type: BPF_MAP_TYPE_HASH,
      keySize: 4,
      valueSize: 8,
      maxEntries: 16,
      name: "test_hash",
    });
    try {
      assert.equal(m.lookup(u32(1)), null);
      m.update(u32(1), u64(10n));
      m.update(u32(2), u64(20n), BPF_NOEXIST);
      assert.throws(
        () => m.update(u32(2), u64(21n), BPF_NOEXIST),
        /BPF_MAP_UPDATE_ELEM\) failed on map "test_hash" \(fd \d+\): EEXIST/,
      );
      assert.throws(() => m.update(u32(3), u64(30n), BPF_EXIST), /ENOENT/);
      assert.equal(m.lookup(u32(2))!.readBigUInt64LE(0), 20n);
      assert.deepEqual([...m.keys()].map((k) => k.readUInt32LE(0)).sort(), [1, 2]);
      assert.equal(m.delete(u32(1)), true);
      assert.equal(m.delete(u32(1)), false);
      assert.throws(
        () => m.lookup(Buffer.alloc(8)),
        /Key of 8 bytes on map "test_hash" \(fd \d+\), whose keys are 4 bytes/,
      );
      assert.throws(() => m.update(u32(1), Buffer.alloc(4)), /Value of 4 bytes .* whose values are 8 bytes/);
    } finally {
      m.close();
    }
  });

  it("refuses a bad name before the kernel does", () => {
    assert.throws(
      () =>
        createMap({ type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 1, name: "has space" }),
      /map name "has space" is not up to 15 of/,
    );
  });

  /** A hash map of n entries i → 3i, filled by one BPF_MAP_UPDATE_BATCH. */
  function filled(n: number) {
    const m = createMap({
      type: BPF_MAP_TYPE_HASH,
      keySize: 4,
      valueSize: 8,
      maxEntries: n,
      name: "test_drain",
    });
    const keys = Buffer.alloc(4 * n);
    const values = Buffer.alloc(8 * n);
    for (let i = 0; i < n; i++) {
      keys.writeUInt32LE(i, 4 * i);
      values.writeBigUInt64LE(BigInt(i) * 3n, 8 * i);
    }
    m.updateBatch(keys, values);
    return m;
  }

  /** Checks that entries() gives each of the n entries once, with its value. */
  function drainsAll(m: ReturnType<typeof createMap>, n: number, batch: boolean) {
    let count = 0;
    const seen = new Uint8Array(n);
    for (const [k, v] of m.entries({ batch })) {
      const key = k.readUInt32LE(0);
      assert.equal(v.readBigUInt64LE(0), BigInt(key) * 3n);
      seen[key]++;
      count++;
    }
    assert.equal(count, n, `batch: ${batch}`);
    assert.ok(seen.every((x) => x === 1));
  }

  it("drains 100,000 entries by batch", () => {
    const m = filled(100_000);
    try {
      drainsAll(m, 100_000, true);
      let total = 0;
      for (const b of m.entryBatches({ batchSize: 1000 })) {
        assert.ok(b.count <= 2000); // a bucket may need a bigger batch, never the whole map
        assert.ok(b.keys.length >= 4 * b.count && b.values.length >= 8 * b.count);
        total += b.count;
      }
      assert.equal(total, 100_000);
    } finally {
      m.close();
    }
  });

  it("drains by keys + lookup the same (kernels without batch calls)", () => {
    const m = filled(5000);
    try {
      drainsAll(m, 5000, false);
    } finally {
      m.close();
    }
  });

  it("a map type without batch calls falls back alone; other types keep their batches", () => {
    // BPF_MAP_TYPE_PROG_ARRAY has no BPF_MAP_LOOKUP_BATCH (ENOTSUPP): drained by key walk
    const progs = createMap({
      type: BPF_MAP_TYPE_PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
      name: "test_progs",
    });
    const m = filled(3000);
    try {
      assert.deepEqual([...progs.entries()], []); // empty slots: no entries
      const counts = [...m.entryBatches({ batchSize: 1000 })].map((b) => b.count);
      assert.ok(
        counts.length >= 2,
        `one hash map drained in ${counts.length} batch(es): ${counts.join(", ")}`,
      );
      assert.equal(
        counts.reduce((a, b) => a + b, 0),
        3000,
      );
    } finally {
      progs.close();
      m.close();
    }
  });

  it("drains an array map whole, batch sizes smaller than the map", () => {
    const m = createMap({
      type: BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1000,
      name: "test_array",
    });
    try {
      m.update(u32(999), u32(7));
      const all = [...m.entries({ batchSize: 64 })];
      assert.equal(all.length, 1000);
      assert.equal(all[999][1].readUInt32LE(0), 7);
    } finally {
      m.close();
    }
  });

  it("reads and writes per-CPU values, one 8-byte-rounded slot per possible CPU", () => {
    const m = createMap({
      type: BPF_MAP_TYPE_PERCPU_HASH,
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
      name: "test_pcpu",
    });
    try {
      assert.equal(m.slotSize, 8);
      assert.equal(m.userValueSize, 8 * possibleCpus());
      const v = Buffer.alloc(m.userValueSize);
      for (let cpu = 0; cpu < possibleCpus(); cpu++) v.writeUInt32LE(cpu + 1, cpu * 8);
      m.update(u32(5), v);
      const back = m.lookup(u32(5))!;
      assert.deepEqual(back, v);
      assert.equal(sumPerCpuU64(back, m.slotSize), BigInt((possibleCpus() * (possibleCpus() + 1)) / 2));
      const [[k, val]] = [...m.entries()];
      assert.equal(k.readUInt32LE(0), 5);
      assert.deepEqual(val, v);
    } finally {
      m.close();
    }
  });
});
