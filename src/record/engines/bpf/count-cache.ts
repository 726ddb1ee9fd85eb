// sys_enter's per-CPU count cache (cachedCount in program-parts.ts) on the reader's side: the map, and the
// counts of calls without values read back — the count map's, plus the repeats the cache's slots still
// hold (a slot moves them to the count map only when another key takes it over).
import { BPF_MAP_TYPE_PERCPU_ARRAY } from "../../../abi/ebpf.js";
import { createMap, type EbpfMap, perCpuSlots, sumPerCpuU64 } from "../../../ebpf/maps.js";
import { COUNT_CACHE_SLOT, COUNT_CACHE_SLOTS } from "./layout.js";

/** The cache: COUNT_CACHE_SLOTS slots per CPU, each the two key words and the calls not in the count map. */
export function countCacheMap(): EbpfMap {
  return createMap({
    type: BPF_MAP_TYPE_PERCPU_ARRAY,
    keySize: 4,
    valueSize: COUNT_CACHE_SLOT,
    maxEntries: COUNT_CACHE_SLOTS,
    name: "sf_dc",
  });
}

/** Each 16-byte key of the count map `d` (or of a slot only) with its calls: summed over CPUs and slots. */
export function plainCounts(d: EbpfMap, dc: EbpfMap): [Buffer, number][] {
  const counts = new Map<string, [Buffer, number]>();
  for (const [k, value] of d.entries()) counts.set(k.toString("hex"), [k, Number(sumPerCpuU64(value, 8))]);
  // (every slot in one batched read: an array holds all its keys)
  for (const [, value] of dc.entries()) {
    for (const slot of perCpuSlots(value, COUNT_CACHE_SLOT)) {
      const n = Number(slot.readBigUInt64LE(16));
      if (n === 0) continue;
      const key = Buffer.from(slot.subarray(0, 16));
      const id = key.toString("hex");
      // (a key not in d did not fit there: its first call is in totals.lostCalls, its repeats counted here)
      const c = counts.get(id);
      if (c) c[1] += n;
      else counts.set(id, [key, n]);
    }
  }
  return [...counts.values()];
}
