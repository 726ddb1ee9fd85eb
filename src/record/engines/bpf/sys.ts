// bpf(2) for the bpf engine, through koffi: maps, program load, raw tracepoint links, a ring buffer
// mapped read-only. (A small stand-in until src/ebpf/'s loader, maps and ring buffer serve the engine.)
// Attribute layouts from include/uapi/linux/bpf.h, union bpf_attr.
import { createRequire } from "node:module";
import { SysfenceError } from "../../../errors.js";

const NR_BPF: Record<string, number> = { x64: 321, arm64: 280 };
const CMD = {
  mapCreate: 0,
  lookup: 1,
  update: 2,
  progLoad: 5,
  rawTracepointOpen: 17,
  lookupBatch: 24,
} as const;
const ATTR_SIZE = 144;
/** mmap(2) flags: PROT_READ, PROT_WRITE, MAP_SHARED. */
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;

interface Native {
  bpf(cmd: number, attr: Buffer): number;
  errno(): number;
  address(b: Buffer): bigint;
  mmap(len: number, prot: number, fd: number, off: number): unknown;
  view(ptr: unknown, len: number): ArrayBuffer;
  munmap(ptr: unknown, len: number): number;
  close(fd: number): number;
}

let native: Native | undefined;
function sys(): Native {
  if (native) return native;
  const nr = NR_BPF[process.arch];
  if (nr === undefined || process.platform !== "linux")
    throw new SysfenceError(
      "E_IO",
      `the bpf engine needs Linux on x86_64 or arm64; this is ${process.arch}.`,
    );
  const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
  const lib = koffi.load("libc.so.6");
  const call = lib.func("long syscall(long nr, long cmd, void *attr, unsigned int size)");
  const errnoLoc = lib.func("int *__errno_location()");
  const mmap = lib.func("void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)");
  const munmap = lib.func("int munmap(void *addr, size_t len)");
  const close = lib.func("int close(int fd)");
  native = {
    bpf: (cmd, attr) => Number(call(nr, cmd, attr, ATTR_SIZE)),
    errno: () => koffi.decode(errnoLoc(), "int") as number,
    address: (b) => koffi.address(b) as bigint,
    mmap: (len, prot, fd, off) => mmap(null, len, prot, MAP_SHARED, fd, off),
    view: (ptr, len) => koffi.view(ptr, len) as ArrayBuffer,
    munmap: (ptr, len) => munmap(ptr, len) as number,
    close: (fd) => close(fd) as number,
  };
  return native;
}

/** bpf(cmd, attr), or an E_IO error naming the command and errno (with `log`: the verifier's last lines). */
function bpf(cmd: number, attr: Buffer, what: string, log?: Buffer): number {
  const n = sys();
  const r = n.bpf(cmd, attr);
  if (r >= 0) return r;
  const errno = n.errno();
  const tail = log
    ? `: ${log
        .toString("utf8", 0, log.indexOf(0) < 0 ? log.length : log.indexOf(0))
        .trim()
        .split("\n")
        .slice(-6)
        .join(" | ")}`
    : "";
  throw Object.assign(new SysfenceError("E_IO", `bpf(2) ${what} failed with errno ${errno}${tail}.`), {
    errno,
  });
}

const attr = () => Buffer.alloc(ATTR_SIZE);

/** A map: its fd and the sizes its keys and values have. */
export class BpfMap {
  constructor(
    readonly fd: number,
    readonly keySize: number,
    readonly valueSize: number,
    readonly maxEntries: number,
  ) {}

  /** The value of key (null: none); per-CPU maps give one value per possible CPU, back to back. */
  lookup(key: Buffer, valueBytes = this.valueSize): Buffer | null {
    const value = Buffer.alloc(valueBytes);
    const a = attr();
    a.writeUInt32LE(this.fd, 0);
    a.writeBigUInt64LE(sys().address(key), 8);
    a.writeBigUInt64LE(sys().address(value), 16);
    if (sys().bpf(CMD.lookup, a) < 0) return null;
    return value;
  }

  update(key: Buffer, value: Buffer, flags = 0): void {
    const a = attr();
    a.writeUInt32LE(this.fd, 0);
    a.writeBigUInt64LE(sys().address(key), 8);
    a.writeBigUInt64LE(sys().address(value), 16);
    a.writeBigUInt64LE(BigInt(flags), 24);
    bpf(CMD.update, a, "BPF_MAP_UPDATE_ELEM");
  }

  /**
   * Every entry (BPF_MAP_LOOKUP_BATCH, `batch` keys a call): keys and values back to back; a value is
   * `valueBytes` long (per-CPU maps: valueSize rounded up to 8, times the possible CPUs).
   */
  entries(valueBytes = this.valueSize, batch = 4096): { key: Buffer; value: Buffer }[] {
    const out: { key: Buffer; value: Buffer }[] = [];
    const keys = Buffer.alloc(this.keySize * batch);
    const values = Buffer.alloc(valueBytes * batch);
    const inBatch = Buffer.alloc(Math.max(8, this.keySize));
    const outBatch = Buffer.alloc(Math.max(8, this.keySize));
    let first = true;
    for (;;) {
      const a = attr();
      a.writeBigUInt64LE(first ? 0n : sys().address(inBatch), 0);
      a.writeBigUInt64LE(sys().address(outBatch), 8);
      a.writeBigUInt64LE(sys().address(keys), 16);
      a.writeBigUInt64LE(sys().address(values), 24);
      a.writeUInt32LE(batch, 32);
      a.writeUInt32LE(this.fd, 36);
      const r = sys().bpf(CMD.lookupBatch, a);
      const errno = r < 0 ? sys().errno() : 0;
      if (r < 0 && errno !== 2) bpf(CMD.lookupBatch, a, "BPF_MAP_LOOKUP_BATCH"); // (throws)
      const n = a.readUInt32LE(32);
      for (let i = 0; i < n; i++)
        out.push({
          key: Buffer.from(keys.subarray(i * this.keySize, (i + 1) * this.keySize)),
          value: Buffer.from(values.subarray(i * valueBytes, (i + 1) * valueBytes)),
        });
      if (errno === 2) return out; // ENOENT: the last batch
      outBatch.copy(inBatch);
      first = false;
    }
  }

  close(): void {
    sys().close(this.fd);
  }
}

/** bpf(BPF_MAP_CREATE). */
export function createMap(
  type: number,
  keySize: number,
  valueSize: number,
  maxEntries: number,
  flags = 0,
  name = "",
): BpfMap {
  const a = attr();
  a.writeUInt32LE(type, 0);
  a.writeUInt32LE(keySize, 4);
  a.writeUInt32LE(valueSize, 8);
  a.writeUInt32LE(maxEntries, 12);
  a.writeUInt32LE(flags, 16);
  a.write(name.slice(0, 15), 28, "latin1");
  return new BpfMap(bpf(CMD.mapCreate, a, `BPF_MAP_CREATE (${name})`), keySize, valueSize, maxEntries);
}

/** bpf(BPF_PROG_LOAD) of a raw tracepoint program (type 17) under license; the verifier's log in errors. */
export function loadRawTracepoint(code: Buffer, name: string, license: string): number {
  const a = attr();
  const lic = Buffer.from(`${license}\0`, "latin1");
  const log = Buffer.alloc(1 << 16);
  a.writeUInt32LE(17, 0);
  a.writeUInt32LE(code.length / 8, 4);
  a.writeBigUInt64LE(sys().address(code), 8);
  a.writeBigUInt64LE(sys().address(lic), 16);
  a.write(name.slice(0, 15), 48, "latin1");
  // the verifier gives up with EAGAIN when a signal is pending (a child's SIGCHLD, a profiler's SIGPROF)
  for (let i = 0; i < 5; i++) {
    const fd = sys().bpf(CMD.progLoad, a);
    if (fd >= 0) return fd;
    if (sys().errno() !== 11) break;
  }
  // again with the verifier's log, for the error
  a.writeUInt32LE(1, 24);
  a.writeUInt32LE(log.length, 28);
  a.writeBigUInt64LE(sys().address(log), 32);
  return bpf(CMD.progLoad, a, `BPF_PROG_LOAD (${name})`, log);
}

/** bpf(BPF_RAW_TRACEPOINT_OPEN): the link's fd (closing it detaches the program). */
export function attachRawTracepoint(progFd: number, tracepoint: string): number {
  const a = attr();
  const name = Buffer.from(`${tracepoint}\0`, "latin1");
  a.writeBigUInt64LE(sys().address(name), 0);
  a.writeUInt32LE(progFd, 8);
  return bpf(CMD.rawTracepointOpen, a, `BPF_RAW_TRACEPOINT_OPEN (${tracepoint})`);
}

export function closeFd(fd: number): void {
  sys().close(fd);
}

/**
 * A BPF ring buffer read from user space (kernel/bpf/ringbuf.c): the consumer position page (mapped
 * writable), then the producer page and the data pages twice over (read-only), so a record that wraps is
 * contiguous. Records: u32 length (bit 31 busy, bit 30 discarded), u32 page offset, data padded to 8.
 */
export class RingBuffer {
  private readonly cons: unknown;
  private readonly prod: unknown;
  private readonly consView: DataView;
  private readonly prodView: DataView;
  private readonly data: Uint8Array;
  private readonly page = 4096;

  constructor(
    fd: number,
    private readonly size: number,
  ) {
    const n = sys();
    this.cons = n.mmap(this.page, PROT_READ | PROT_WRITE, fd, 0);
    this.prod = n.mmap(this.page + 2 * size, PROT_READ, fd, this.page);
    if (!this.cons || !this.prod)
      throw new SysfenceError("E_IO", `mmap of the bpf ring buffer failed (errno ${n.errno()}).`);
    this.consView = new DataView(n.view(this.cons, this.page));
    const all = n.view(this.prod, this.page + 2 * size);
    this.prodView = new DataView(all, 0, this.page);
    this.data = new Uint8Array(all, this.page, 2 * size);
  }

  /** Calls cb with each committed record (a view valid during the call); the records read are released. */
  drain(cb: (record: Buffer) => void): number {
    let cons = this.consView.getBigUint64(0, true);
    const prod = this.prodView.getBigUint64(0, true);
    let n = 0;
    const mask = BigInt(this.size - 1);
    while (cons < prod) {
      const at = Number(cons & mask);
      const len = new DataView(this.data.buffer, this.data.byteOffset + at, 8).getUint32(0, true);
      if (len & 0x80000000) break; // still being written
      const size = len & 0x3fffffff;
      if (!(len & 0x40000000)) {
        cb(Buffer.from(this.data.buffer, this.data.byteOffset + at + 8, size));
        n++;
      }
      cons += BigInt((size + 8 + 7) & ~7);
      this.consView.setBigUint64(0, cons, true);
    }
    return n;
  }

  close(): void {
    const n = sys();
    n.munmap(this.cons, this.page);
    n.munmap(this.prod, this.page + 2 * this.size);
  }
}
