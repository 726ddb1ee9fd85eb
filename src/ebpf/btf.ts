// A BTF reader (the kernel's type format: include/uapi/linux/btf.h, docs.kernel.org/bpf/btf.html): type
// ids by name, struct layouts and member offsets through anonymous unions and typedefs. Pure: parseBtf
// takes the bytes; vmlinuxBtf() reads /sys/kernel/btf/vmlinux once per process. Parsing only records
// where each type starts; names are compared in place when asked, so a lookup costs one scan and no
// string is built for the ~100,000 types nobody asks about.
import { readFileSync } from "node:fs";
import { SysfenceError } from "../errors.js";

/** BTF_MAGIC (btf.h). */
const BTF_MAGIC = 0xeb9f;

/** BTF_KIND_* (btf.h), by number. */
export const BTF_KINDS = [
  "void",
  "int",
  "ptr",
  "array",
  "struct",
  "union",
  "enum",
  "fwd",
  "typedef",
  "volatile",
  "const",
  "restrict",
  "func",
  "func_proto",
  "var",
  "datasec",
  "float",
  "decl_tag",
  "type_tag",
  "enum64",
] as const;
export type BtfKind = (typeof BTF_KINDS)[number];
const KIND = Object.fromEntries(BTF_KINDS.map((k, i) => [k, i])) as Record<BtfKind, number>;

/** Bytes after the 12-byte struct btf_type, per kind: a fixed part plus vlen × a record (btf.h). */
function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // int
    case 14: // var
    case 17: // decl_tag
      return 4;
    case 3: // array
      return 12;
    case 4: // struct
    case 5: // union
    case 15: // datasec
    case 19: // enum64
      return 12 * vlen;
    case 6: // enum
    case 13: // func_proto
      return 8 * vlen;
    case 2: // ptr
    case 7: // fwd
    case 8: // typedef
    case 9: // volatile
    case 10: // const
    case 11: // restrict
    case 12: // func
    case 16: // float
    case 18: // type_tag
      return 0;
    default:
      return -1;
  }
}

export interface BtfMember {
  /** "" for an anonymous struct or union member. */
  name: string;
  typeId: number;
  /** Bits from the start of the enclosing struct. */
  bitOffset: number;
  /** Bits of a bitfield; 0 for a whole member. */
  bitSize: number;
}

export interface BtfStruct {
  id: number;
  kind: "struct" | "union";
  name: string;
  size: number;
  members: BtfMember[];
}

export interface MemberLocation {
  /** Bytes from the start of the outer struct (rounded down for a bitfield). */
  byteOffset: number;
  /** Bits from the start of the outer struct. */
  bitOffset: number;
  /** Bits of a bitfield; absent for a whole member. */
  bitSize?: number;
  /** Bytes of the member's type (typedefs and qualifiers resolved). */
  size: number;
  /** The member's type id as declared. */
  typeId: number;
}

/** "a struct", "an int". */
const aKind = (k: string): string => `${/^[aeiou]/.test(k) ? "an" : "a"} ${k}`;

const fail = (message: string): never => {
  throw new SysfenceError("E_EBPF", message);
};

/** A parsed BTF blob. Type ids are 1-based; 0 is void. */
export class Btf {
  private readonly buf: Buffer;
  private readonly strOff: number;
  private readonly strLen: number;
  /** Byte offset of each type's struct btf_type, by id (index 0 unused). */
  private readonly at: Int32Array;
  readonly count: number;
  private readonly source: string;

  constructor(buf: Buffer, source = "BTF") {
    this.buf = buf;
    this.source = source;
    if (buf.length < 24 || buf.readUInt16LE(0) !== BTF_MAGIC)
      fail(`${source} does not start with the BTF magic 0xeb9f (${buf.length} bytes); it is not BTF.`);
    const hdrLen = buf.readUInt32LE(4);
    const typeOff = hdrLen + buf.readUInt32LE(8);
    const typeLen = buf.readUInt32LE(12);
    this.strOff = hdrLen + buf.readUInt32LE(16);
    this.strLen = buf.readUInt32LE(20);
    if (typeOff + typeLen > buf.length || this.strOff + this.strLen > buf.length)
      fail(
        `${source} is cut short: its header promises ${typeOff + typeLen} bytes of types and ${this.strOff + this.strLen} of strings, it has ${buf.length}.`,
      );
    // Every record is a multiple of 4 bytes: walk them as 32-bit words (a copy when the buffer is unaligned).
    if (typeOff % 4 !== 0 || typeLen % 4 !== 0)
      fail(`${source} has its types at byte ${typeOff}, ${typeLen} long: not 4-byte aligned.`);
    const aligned = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf);
    const words = new Uint32Array(aligned.buffer, aligned.byteOffset + typeOff, typeLen / 4);
    let offsets = new Int32Array(1 << 17);
    let n = 1;
    for (let w = 0; w < words.length; ) {
      if (n === offsets.length) {
        const grown = new Int32Array(offsets.length * 2);
        grown.set(offsets);
        offsets = grown;
      }
      offsets[n++] = typeOff + w * 4;
      const info = words[w + 1];
      const extra = extraBytes((info >>> 24) & 0x1f, info & 0xffff);
      if (extra < 0)
        fail(
          `${source} has type ${n - 1} of unknown kind ${(info >>> 24) & 0x1f} at byte ${typeOff + w * 4}.`,
        );
      w += 3 + extra / 4;
    }
    if (n > 1 && offsets[n - 1] > typeOff + typeLen - 12)
      fail(`${source}'s last type runs past the end of its type section.`);
    this.at = offsets;
    this.count = n - 1;
  }

  private check(id: number): number {
    if (!Number.isInteger(id) || id < 1 || id > this.count)
      fail(`${this.source} has no type ${id} (1 … ${this.count}).`);
    return this.at[id];
  }

  /** The kind of type id. */
  kind(id: number): BtfKind {
    if (id === 0) return "void";
    return BTF_KINDS[(this.buf.readUInt32LE(this.check(id) + 4) >>> 24) & 0x1f];
  }

  /** The name of type id ("" when anonymous). */
  name(id: number): string {
    if (id === 0) return "void";
    return this.str(this.buf.readUInt32LE(this.check(id)));
  }

  private str(off: number): string {
    const start = this.strOff + off;
    const end = this.buf.indexOf(0, start);
    return this.buf.toString("latin1", start, end < 0 ? this.strOff + this.strLen : end);
  }

  /** The type a typedef, qualifier, pointer, var or func refers to. */
  private ref(id: number): number {
    return this.buf.readUInt32LE(this.check(id) + 8);
  }

  /** The id of the first type named `name` (of `kind` when given), or undefined. */
  typeId(name: string, kind?: BtfKind): number | undefined {
    const want = Buffer.from(`${name}\0`, "latin1");
    const wantKind = kind === undefined ? -1 : KIND[kind];
    const { buf } = this;
    const first = want[0];
    for (let id = 1; id <= this.count; id++) {
      const p = this.at[id];
      const s = this.strOff + buf.readUInt32LE(p);
      if (buf[s] !== first) continue;
      if (wantKind >= 0 && ((buf.readUInt32LE(p + 4) >>> 24) & 0x1f) !== wantKind) continue;
      if (buf.compare(want, 0, want.length, s, s + want.length) === 0) return id;
    }
    return undefined;
  }

  /** Follows typedefs and const/volatile/restrict/type_tag qualifiers to the type they name. */
  resolve(id: number): number {
    for (let hops = 0; hops < 64; hops++) {
      const k = this.kind(id);
      if (k !== "typedef" && k !== "const" && k !== "volatile" && k !== "restrict" && k !== "type_tag")
        return id;
      id = this.ref(id);
    }
    return fail(`${this.source} type ${id} is a chain of more than 64 typedefs or qualifiers.`);
  }

  /** Bytes of type id (pointers are 8: BTF here describes 64-bit kernels). */
  sizeOf(id: number): number {
    id = this.resolve(id);
    const k = this.kind(id);
    const p = this.at[id];
    switch (k) {
      case "int":
      case "struct":
      case "union":
      case "enum":
      case "enum64":
      case "float":
      case "datasec":
        return this.buf.readUInt32LE(p + 8);
      case "ptr":
        return 8;
      case "array":
        return this.buf.readUInt32LE(p + 20) * this.sizeOf(this.buf.readUInt32LE(p + 12));
      default:
        return 0;
    }
  }

  /** The struct or union with id `id`, its members decoded. */
  structById(id: number): BtfStruct {
    const k = this.kind(id);
    if (k !== "struct" && k !== "union")
      fail(`${this.source} type ${id} (${this.name(id)}) is ${aKind(k)}, not a struct or union.`);
    const p = this.at[id];
    const info = this.buf.readUInt32LE(p + 4);
    const bitfields = info >>> 31 === 1;
    const members: BtfMember[] = [];
    for (let i = 0, m = p + 12; i < (info & 0xffff); i++, m += 12) {
      const off = this.buf.readUInt32LE(m + 8);
      members.push({
        name: this.str(this.buf.readUInt32LE(m)),
        typeId: this.buf.readUInt32LE(m + 4),
        bitOffset: bitfields ? off & 0xffffff : off,
        bitSize: bitfields ? off >>> 24 : 0,
      });
    }
    return {
      id,
      kind: k as "struct" | "union",
      name: this.name(id),
      size: this.buf.readUInt32LE(p + 8),
      members,
    };
  }

  /** The struct (or union) named `name`. Throws E_EBPF when there is none. */
  struct(name: string): BtfStruct {
    const id = this.typeId(name, "struct") ?? this.typeId(name, "union");
    if (id === undefined) return fail(`${this.source} has no struct or union named "${name}".`);
    return this.structById(id);
  }

  /**
   * Where member `path` ("a.b.c") lies in struct `struct` (a name or id), looking through anonymous
   * struct and union members and through typedefs and qualifiers of the members on the path.
   */
  memberOffset(struct: string | number, path: string): MemberLocation {
    let s = typeof struct === "number" ? this.structById(this.resolve(struct)) : this.struct(struct);
    const outer = s.name;
    let bits = 0;
    let found: { member: BtfMember; bits: number } | undefined;
    const parts = path.split(".");
    for (const [i, part] of parts.entries()) {
      found = this.findMember(s, part, 0);
      if (!found)
        return fail(
          `${this.source}: struct ${s.name || "(anonymous)"} has no member "${part}" (looking for ${outer}.${path}).`,
        );
      bits += found.bits;
      if (i < parts.length - 1) {
        const next = this.resolve(found.member.typeId);
        const k = this.kind(next);
        if (k !== "struct" && k !== "union")
          return fail(
            `${this.source}: ${outer}.${parts.slice(0, i + 1).join(".")} is ${aKind(k)}, not a struct; it has no member "${parts[i + 1]}".`,
          );
        s = this.structById(next);
      }
    }
    const { member } = found!;
    return {
      byteOffset: Math.floor(bits / 8),
      bitOffset: bits,
      ...(member.bitSize ? { bitSize: member.bitSize } : {}),
      size: this.sizeOf(member.typeId),
      typeId: member.typeId,
    };
  }

  private findMember(
    s: BtfStruct,
    name: string,
    depth: number,
  ): { member: BtfMember; bits: number } | undefined {
    for (const m of s.members) if (m.name === name) return { member: m, bits: m.bitOffset };
    if (depth > 16) return undefined;
    for (const m of s.members) {
      if (m.name !== "") continue;
      const inner = this.resolve(m.typeId);
      const k = this.kind(inner);
      if (k !== "struct" && k !== "union") continue;
      const hit = this.findMember(this.structById(inner), name, depth + 1);
      if (hit) return { member: hit.member, bits: m.bitOffset + hit.bits };
    }
    return undefined;
  }
}

/** Parses a BTF blob (the bytes of /sys/kernel/btf/vmlinux, or a .BTF section). */
export function parseBtf(buf: Buffer, source?: string): Btf {
  return new Btf(buf, source);
}

export const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";
let vmlinux: Btf | undefined;

/** The running kernel's BTF, read and indexed once per process. Throws E_EBPF when the kernel has none. */
export function vmlinuxBtf(): Btf {
  if (vmlinux) return vmlinux;
  let buf: Buffer;
  try {
    buf = readFileSync(VMLINUX_BTF);
  } catch (e) {
    return fail(
      `This kernel has no BTF (${VMLINUX_BTF}: ${(e as Error).message}); tp_btf programs and BTF offsets need CONFIG_DEBUG_INFO_BTF.`,
    );
  }
  vmlinux = parseBtf(buf, VMLINUX_BTF);
  return vmlinux;
}

/** The id of vmlinux's btf_trace_<name> typedef: the attach_btf_id of a tp_btf program on tracepoint `name`. */
export function btfTraceId(name: string, btf: Btf = vmlinuxBtf()): number {
  const id = btf.typeId(`btf_trace_${name}`, "typedef");
  if (id === undefined)
    return fail(
      `The kernel's BTF has no btf_trace_${name}: there is no raw tracepoint "${name}" for tp_btf.`,
    );
  return id;
}
