// eBPF maps through bpf(2): create, look up, update, delete, walk keys, and drain in batches
// (BPF_MAP_LOOKUP_BATCH where the kernel has it, GET_NEXT_KEY + lookup where it does not). Per-CPU maps
// hand user space one value slot per possible CPU, each rounded up to 8 bytes. bpf_attr layouts from
// include/uapi/linux/bpf.h (union bpf_attr: the BPF_MAP_CREATE, BPF_MAP_*_ELEM and batch members).
import { readFileSync } from "node:fs";
import {
  BPF_ANY,
  BPF_MAP_CREATE,
  BPF_MAP_DELETE_ELEM,
  BPF_MAP_GET_NEXT_KEY,
  BPF_MAP_LOOKUP_BATCH,
  BPF_MAP_LOOKUP_ELEM,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_UPDATE_BATCH,
  BPF_MAP_UPDATE_ELEM,
  BPF_OBJ_NAME_LEN,
} from "../abi/ebpf.js";
import { SysfenceError } from "../errors.js";
import { bpfAttr, bpfCall, callError, ebpfSys } from "./sys.js";

export interface MapSpec {
  /** BPF_MAP_TYPE_* (src/abi/ebpf.ts). */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** Up to 15 of [A-Za-z0-9_.]; shown by bpftool. */
  name?: string;
  /** BPF_F_* map flags. */
  flags?: number;
}

const ENOENT = 2;
const ENOSPC = 28;
const EINVAL = 22;
const ENOTSUPP = 524;

/** Checks a program or map name against what the kernel takes (bpf_obj_name_cpy). */
export function checkObjectName(name: string, what: string): Buffer {
  if (name.length >= BPF_OBJ_NAME_LEN || !/^[A-Za-z0-9_.]*$/.test(name))
    throw new SysfenceError(
      "E_EBPF",
      `eBPF ${what} name "${name}" is not up to ${BPF_OBJ_NAME_LEN - 1} of A-Z a-z 0-9 _ . (the kernel refuses it).`,
    );
  return Buffer.from(name, "latin1");
}

let possible: number | undefined;

/** The number of possible CPUs (/sys/devices/system/cpu/possible: "0-3", "0,2-5"), which sizes per-CPU values. */
export function possibleCpus(): number {
  if (possible !== undefined) return possible;
  const text = readFileSync("/sys/devices/system/cpu/possible", "utf8");
  possible = parseCpuList(text);
  return possible;
}

/** How many CPUs a cpu list ("0-3,5") names. */
export function parseCpuList(text: string): number {
  let n = 0;
  for (const part of text.trim().split(",")) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m)
      throw new SysfenceError("E_EBPF", `CPU list "${text.trim()}" has "${part}", which is not N or N-M.`);
    n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return n;
}

export const isPerCpu = (type: number): boolean =>
  type === BPF_MAP_TYPE_PERCPU_HASH ||
  type === BPF_MAP_TYPE_PERCPU_ARRAY ||
  type === BPF_MAP_TYPE_LRU_PERCPU_HASH;

/** The sum of a per-CPU value's u64 counters at `offset` in each CPU's slot (slots are `slot` bytes apart). */
export function sumPerCpuU64(value: Buffer, slot: number, offset = 0): bigint {
  let sum = 0n;
  for (let p = offset; p + 8 <= value.length; p += slot) sum += value.readBigUInt64LE(p);
  return sum;
}

/** A per-CPU value's slots, one per possible CPU (views into `value`). */
export function perCpuSlots(value: Buffer, slot: number): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p + slot <= value.length; p += slot) out.push(value.subarray(p, p + slot));
  return out;
}

/** Map types whose batch calls this kernel refused (EINVAL, ENOTSUPP): by key walk from then on. */
const batchMissing = new Set<number>();

/** Entries read in one call: `count` keys back to back, and as many values (EbpfMap.userValueSize each). */
export interface EntryBatch {
  count: number;
  keys: Buffer;
  values: Buffer;
}

/** An open map; its fd lives until close() or the process ends. */
export class EbpfMap {
  readonly fd: number;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly name: string;
  /** Whether values are per CPU. */
  readonly perCpu: boolean;
  /** Bytes of one CPU's slot in a per-CPU value (valueSize rounded up to 8); valueSize otherwise. */
  readonly slotSize: number;
  /** Bytes of a value as user space reads and writes it (slotSize × possible CPUs for per-CPU maps). */
  readonly userValueSize: number;
  private closed = false;

  constructor(fd: number, spec: MapSpec) {
    this.fd = fd;
    this.type = spec.type;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.name = spec.name ?? "";
    this.perCpu = isPerCpu(spec.type);
    this.slotSize = this.perCpu ? Math.ceil(spec.valueSize / 8) * 8 : spec.valueSize;
    this.userValueSize = this.perCpu ? this.slotSize * possibleCpus() : spec.valueSize;
  }

  private what(): string {
    return `on map ${this.name ? `"${this.name}" ` : ""}(fd ${this.fd})`;
  }

  private checkKey(key: Buffer): void {
    if (key.length !== this.keySize)
      throw new SysfenceError(
        "E_EBPF",
        `Key of ${key.length} bytes ${this.what()}, whose keys are ${this.keySize} bytes.`,
      );
  }

  private elemAttr(key: Buffer | null, value: Buffer | null, flags: number): Buffer {
    const sys = ebpfSys();
    const attr = bpfAttr();
    attr.writeUInt32LE(this.fd, 0);
    if (key) attr.writeBigUInt64LE(sys.address(key), 8);
    if (value) attr.writeBigUInt64LE(sys.address(value), 16);
    attr.writeBigUInt64LE(BigInt(flags), 24);
    return attr;
  }

  /** The value under key (for per-CPU maps, every CPU's slot), or null when there is none. */
  lookup(key: Buffer): Buffer | null {
    this.checkKey(key);
    const value = Buffer.alloc(this.userValueSize);
    const r = ebpfSys().bpfRaw(BPF_MAP_LOOKUP_ELEM, this.elemAttr(key, value, 0));
    if (r === -ENOENT) return null;
    if (r < 0) throw callError("bpf(BPF_MAP_LOOKUP_ELEM)", r, this.what());
    return value;
  }

  /** Sets key's value (BPF_ANY, BPF_NOEXIST or BPF_EXIST). */
  update(key: Buffer, value: Buffer, flags = BPF_ANY): void {
    this.checkKey(key);
    if (value.length !== this.userValueSize)
      throw new SysfenceError(
        "E_EBPF",
        `Value of ${value.length} bytes ${this.what()}, whose values are ${this.userValueSize} bytes${this.perCpu ? " (per CPU: slot × possible CPUs)" : ""}.`,
      );
    bpfCall(BPF_MAP_UPDATE_ELEM, this.elemAttr(key, value, flags), this.what());
  }

  /** Removes key; false when it was not there. */
  delete(key: Buffer): boolean {
    this.checkKey(key);
    const r = ebpfSys().bpfRaw(BPF_MAP_DELETE_ELEM, this.elemAttr(key, null, 0));
    if (r === -ENOENT) return false;
    if (r < 0) throw callError("bpf(BPF_MAP_DELETE_ELEM)", r, this.what());
    return true;
  }

  /** Every key (BPF_MAP_GET_NEXT_KEY); keys deleted meanwhile may restart the walk, as the kernel documents. */
  *keys(): Generator<Buffer> {
    let key: Buffer | null = null;
    for (;;) {
      const next = Buffer.alloc(this.keySize);
      const r = ebpfSys().bpfRaw(BPF_MAP_GET_NEXT_KEY, this.elemAttr(key, next, 0));
      if (r === -ENOENT) return;
      if (r < 0) throw callError("bpf(BPF_MAP_GET_NEXT_KEY)", r, this.what());
      yield next;
      key = next;
    }
  }

  /**
   * Every [key, value], in batches of up to `batchSize` (BPF_MAP_LOOKUP_BATCH); by keys() and lookup()
   * on kernels without it, or with `batch: false`. The buffers of one batch are views into one allocation.
   */
  *entries(options: { batchSize?: number; batch?: boolean } = {}): Generator<[Buffer, Buffer]> {
    for (const { count, keys, values } of this.entryBatches(options))
      for (let i = 0; i < count; i++)
        yield [
          keys.subarray(i * this.keySize, (i + 1) * this.keySize),
          values.subarray(i * this.userValueSize, (i + 1) * this.userValueSize),
        ];
  }

  /**
   * The map's entries as batches: `count` keys back to back in `keys`, their values back to back in
   * `values` (userValueSize each). The fastest drain: decode straight from these buffers.
   */
  *entryBatches(options: { batchSize?: number; batch?: boolean } = {}): Generator<EntryBatch> {
    if (!batchMissing.has(this.type) && options.batch !== false) {
      const it = this.lookupBatches(options.batchSize ?? 8192);
      let first: IteratorResult<EntryBatch, boolean>;
      try {
        first = it.next();
      } catch (e) {
        const errno = (e as { errno?: number }).errno;
        if (errno !== EINVAL && errno !== ENOTSUPP) throw e;
        batchMissing.add(this.type);
        first = { done: true, value: false };
      }
      if (!batchMissing.has(this.type)) {
        for (let r = first; !r.done; r = it.next()) yield r.value;
        return;
      }
    }
    // keys first, then values: a walk interleaved with lookups of entries being deleted could restart
    const keys = [...this.keys()];
    const found: Buffer[] = [];
    const values: Buffer[] = [];
    for (const key of keys) {
      const value = this.lookup(key);
      if (!value) continue;
      found.push(key);
      values.push(value);
    }
    if (found.length)
      yield { count: found.length, keys: Buffer.concat(found), values: Buffer.concat(values) };
  }

  private *lookupBatches(batchSize: number): Generator<EntryBatch, boolean> {
    const sys = ebpfSys();
    const tokenSize = Math.max(this.keySize, 8);
    let inBatch: Buffer | null = null;
    let size = Math.max(1, Math.min(batchSize, this.maxEntries));
    for (;;) {
      const outBatch = Buffer.alloc(tokenSize);
      const keys = Buffer.alloc(size * this.keySize);
      const values = Buffer.alloc(size * this.userValueSize);
      const attr = bpfAttr();
      if (inBatch) attr.writeBigUInt64LE(sys.address(inBatch), 0);
      attr.writeBigUInt64LE(sys.address(outBatch), 8);
      attr.writeBigUInt64LE(sys.address(keys), 16);
      attr.writeBigUInt64LE(sys.address(values), 24);
      attr.writeUInt32LE(size, 32);
      attr.writeUInt32LE(this.fd, 36);
      const r = sys.bpfRaw(BPF_MAP_LOOKUP_BATCH, attr);
      if (r === -ENOSPC && size < this.maxEntries * 2) {
        // a hash bucket holds more entries than the batch: retry it with room for them
        size *= 2;
        continue;
      }
      if (r < 0 && r !== -ENOENT) throw callError("bpf(BPF_MAP_LOOKUP_BATCH)", r, this.what());
      const count = attr.readUInt32LE(32);
      if (count) yield { count, keys, values };
      if (r === -ENOENT) return true;
      inBatch = outBatch;
    }
  }

  /**
   * Sets many entries in one call (BPF_MAP_UPDATE_BATCH): `keys` and `values` hold count keys and count
   * values back to back. Where the kernel lacks it, one update per entry.
   */
  updateBatch(keys: Buffer, values: Buffer, flags = BPF_ANY): void {
    const count = keys.length / this.keySize;
    if (!Number.isInteger(count) || values.length !== count * this.userValueSize)
      throw new SysfenceError(
        "E_EBPF",
        `Batch of ${keys.length} key bytes and ${values.length} value bytes ${this.what()} is not whole entries of ${this.keySize} + ${this.userValueSize} bytes.`,
      );
    if (count === 0) return;
    if (!batchMissing.has(this.type)) {
      const sys = ebpfSys();
      const attr = bpfAttr();
      attr.writeBigUInt64LE(sys.address(keys), 16);
      attr.writeBigUInt64LE(sys.address(values), 24);
      attr.writeUInt32LE(count, 32);
      attr.writeUInt32LE(this.fd, 36);
      attr.writeBigUInt64LE(BigInt(flags), 40);
      const r = sys.bpfRaw(BPF_MAP_UPDATE_BATCH, attr);
      if (r >= 0) return;
      if (r !== -EINVAL && r !== -ENOTSUPP)
        throw callError(
          "bpf(BPF_MAP_UPDATE_BATCH)",
          r,
          `${this.what()} after ${attr.readUInt32LE(32)} of ${count} entries`,
        );
      batchMissing.add(this.type);
    }
    for (let i = 0; i < count; i++)
      this.update(
        keys.subarray(i * this.keySize, (i + 1) * this.keySize),
        values.subarray(i * this.userValueSize, (i + 1) * this.userValueSize),
        flags,
      );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    ebpfSys().close(this.fd);
  }
}

/** The keys 0 … n-1 of an array map, as u32 back to back: updateBatch's keys to fill it in one call. */
export function arrayKeys(n: number): Buffer {
  const keys = Buffer.alloc(4 * n);
  for (let i = 0; i < n; i++) keys.writeUInt32LE(i, 4 * i);
  return keys;
}

/** Creates a map (BPF_MAP_CREATE). Throws E_EBPF naming the map and the errno. */
export function createMap(spec: MapSpec): EbpfMap {
  const name = checkObjectName(spec.name ?? "", "map");
  for (const [what, v] of [
    ["keySize", spec.keySize],
    ["valueSize", spec.valueSize],
    ["maxEntries", spec.maxEntries],
  ] as const)
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
      throw new SysfenceError("E_EBPF", `eBPF map ${what} ${v} is not a 32-bit unsigned integer.`);
  const attr = bpfAttr();
  attr.writeUInt32LE(spec.type, 0);
  attr.writeUInt32LE(spec.keySize, 4);
  attr.writeUInt32LE(spec.valueSize, 8);
  attr.writeUInt32LE(spec.maxEntries, 12);
  attr.writeUInt32LE(spec.flags ?? 0, 16);
  name.copy(attr, 28);
  const fd = bpfCall(
    BPF_MAP_CREATE,
    attr,
    `creating map "${spec.name ?? ""}" (type ${spec.type}, key ${spec.keySize} B, value ${spec.valueSize} B, ${spec.maxEntries} entries)`,
  );
  return new EbpfMap(fd, spec);
}
