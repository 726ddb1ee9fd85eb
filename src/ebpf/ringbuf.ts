// Reading a BPF_MAP_TYPE_RINGBUF map from user space by mmap, as kernel/bpf/ringbuf.c lays it out: page 0
// holds consumer_pos (the only page user space may write), page 1 producer_pos, then the data area mapped
// twice in a row so a record that wraps around its end reads as one piece. Each record is an 8-byte
// header (u32 length with BPF_RINGBUF_BUSY_BIT while the program still writes it and
// BPF_RINGBUF_DISCARD_BIT when it threw the record away; u32 page offset) and the data, padded to 8 bytes.
// Positions only grow; position & (size - 1) is the offset in the data area.
import {
  BPF_MAP_TYPE_RINGBUF,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
} from "../abi/ebpf.js";
import { SysfenceError } from "../errors.js";
import { createMap, type EbpfMap } from "./maps.js";
import { callError, ebpfSys, type Mapping, PROT_READ, PROT_WRITE } from "./sys.js";

/** Creates a ring buffer map of `byteSize` bytes (a power of 2 and a multiple of the page size). */
export function createRingBuffer(byteSize: number, name = ""): EbpfMap {
  const page = ebpfSys().pageSize();
  if (byteSize < page || (byteSize & (byteSize - 1)) !== 0)
    throw new SysfenceError(
      "E_EBPF",
      `Ring buffer size ${byteSize} is not a power of 2 of at least the page size (${page} bytes).`,
    );
  return createMap({ type: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: byteSize, name });
}

/** The consumer side of one ring buffer map. */
export class RingBufferReader {
  readonly size: number;
  private readonly mask: number;
  private consumerMap: Mapping | undefined;
  private producerMap: Mapping | undefined;
  private consumerPos: BigUint64Array;
  private producerPos: BigUint64Array;
  /** The data area, twice. */
  private data: Buffer;
  /** The same, as 32-bit words for atomic header loads. */
  private words: Int32Array;

  constructor(mapFd: number, byteSize: number) {
    const sys = ebpfSys();
    const page = sys.pageSize();
    if (byteSize < page || (byteSize & (byteSize - 1)) !== 0)
      throw new SysfenceError(
        "E_EBPF",
        `Ring buffer size ${byteSize} is not a power of 2 of at least ${page} bytes.`,
      );
    this.size = byteSize;
    this.mask = byteSize - 1;
    const consumer = sys.mmapRaw(page, PROT_READ | PROT_WRITE, mapFd, 0);
    if (typeof consumer === "number")
      throw callError("mmap", consumer, `of ring buffer fd ${mapFd}'s consumer page`);
    const producer = sys.mmapRaw(page + 2 * byteSize, PROT_READ, mapFd, page);
    if (typeof producer === "number") {
      sys.munmap(consumer);
      throw callError(
        "mmap",
        producer,
        `of ring buffer fd ${mapFd}'s producer page and data (${byteSize} bytes)`,
      );
    }
    this.consumerMap = consumer;
    this.producerMap = producer;
    this.consumerPos = new BigUint64Array(sys.view(consumer), 0, 1);
    const area = sys.view(producer);
    this.producerPos = new BigUint64Array(area, 0, 1);
    this.data = Buffer.from(area, page, 2 * byteSize);
    this.words = new Int32Array(area, page, (2 * byteSize) / 4);
  }

  /** Bytes written by the kernel and not yet consumed (records, headers and padding, discarded ones included). */
  pending(): number {
    if (!this.producerMap) return 0;
    return Number(Atomics.load(this.producerPos, 0) - Atomics.load(this.consumerPos, 0));
  }

  /**
   * Calls onRecord with each committed record in order and consumes it; skips discarded records; stops at
   * a record still being written (BUSY) or when none is left. The Buffer is a view into the ring, valid
   * only during the call: copy what you keep. Returns how many records it gave.
   */
  drain(onRecord: (data: Buffer) => void): number {
    if (!this.producerMap) throw new SysfenceError("E_EBPF", "Ring buffer reader used after close().");
    let cons = Number(Atomics.load(this.consumerPos, 0));
    let given = 0;
    for (;;) {
      const prod = Number(Atomics.load(this.producerPos, 0));
      if (cons >= prod) return given;
      while (cons < prod) {
        const off = cons & this.mask;
        const header = Atomics.load(this.words, off / 4) >>> 0;
        if (header & BPF_RINGBUF_BUSY_BIT) return given;
        const length = header & 0x3fffffff; // the bits below BUSY and DISCARD
        const next = cons + ((length + BPF_RINGBUF_HDR_SZ + 7) & ~7);
        try {
          if (!(header & BPF_RINGBUF_DISCARD_BIT)) {
            given++;
            onRecord(this.data.subarray(off + BPF_RINGBUF_HDR_SZ, off + BPF_RINGBUF_HDR_SZ + length));
          }
        } finally {
          cons = next;
          Atomics.store(this.consumerPos, 0, BigInt(cons));
        }
      }
    }
  }

  /** Unmaps the ring (the map itself stays open: close its fd separately). */
  close(): void {
    const sys = ebpfSys();
    if (this.producerMap) sys.munmap(this.producerMap);
    if (this.consumerMap) sys.munmap(this.consumerMap);
    this.producerMap = undefined;
    this.consumerMap = undefined;
    const empty = new ArrayBuffer(8);
    this.consumerPos = new BigUint64Array(empty);
    this.producerPos = new BigUint64Array(empty);
    this.data = Buffer.alloc(0);
    this.words = new Int32Array(empty);
  }
}
