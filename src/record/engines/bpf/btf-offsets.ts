// Struct member offsets from the running kernel's BTF (/sys/kernel/btf/vmlinux; format in the kernel's
// Documentation/bpf/btf.rst, include/uapi/linux/btf.h): the bpf engine reads task_struct, linux_binprm and
// pt_regs at these. (A small stand-in until src/ebpf/btf.ts serves the engine.)
import { readFileSync } from "node:fs";
import { SysfenceError } from "../../../errors.js";

/** BTF kinds (btf.h BTF_KIND_*) and the bytes that follow a type's 12-byte header. */
const STRUCT = 4;
const UNION = 5;
function extra(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
    case 19: // ENUM64
      return 12 * vlen;
    case 6: // ENUM
    case 13: // FUNC_PROTO
      return 8 * vlen;
    default:
      return 0;
  }
}

interface Member {
  name: string;
  type: number;
  /** In bits. */
  offset: number;
}

/**
 * The structs and unions of a BTF blob. The types are scanned once for where each starts (numbers only);
 * names and members are decoded only for the structs asked about and their anonymous members.
 */
export class Btf {
  private readonly at: Int32Array;
  private readonly strOff: number;
  private readonly strEnd: number;

  constructor(private readonly b: Buffer) {
    if (b.readUInt16LE(0) !== 0xeb9f)
      throw new SysfenceError("E_IO", "the kernel's BTF has a bad magic number.");
    const hdr = b.readUInt32LE(4);
    const typeOff = hdr + b.readUInt32LE(8);
    const typeLen = b.readUInt32LE(12);
    this.strOff = hdr + b.readUInt32LE(16);
    this.strEnd = this.strOff + b.readUInt32LE(20);
    const starts: number[] = [0];
    let at = typeOff;
    while (at < typeOff + typeLen) {
      starts.push(at);
      const info = b.readUInt32LE(at + 4);
      at += 12 + extra((info >> 24) & 0x1f, info & 0xffff);
    }
    this.at = Int32Array.from(starts);
  }

  private kind(id: number): number {
    return (this.b.readUInt32LE(this.at[id] + 4) >> 24) & 0x1f;
  }

  private str(o: number): string {
    const from = this.strOff + o;
    return this.b.toString("latin1", from, this.b.indexOf(0, from));
  }

  /** The first struct named `name` with members (a declaration's forward is not one). */
  private structId(name: string): number | undefined {
    // the name's offsets in the string section, compared as numbers while scanning
    const want = new Set<number>();
    const needle = Buffer.from(`\0${name}\0`, "latin1");
    for (
      let i = this.b.indexOf(needle, this.strOff);
      i >= 0 && i < this.strEnd;
      i = this.b.indexOf(needle, i + 1)
    )
      want.add(i + 1 - this.strOff);
    for (let id = 1; id < this.at.length; id++) {
      const t = this.at[id];
      if (
        want.has(this.b.readUInt32LE(t)) &&
        this.kind(id) === STRUCT &&
        (this.b.readUInt32LE(t + 4) & 0xffff) > 0
      )
        return id;
    }
    return undefined;
  }

  private members(id: number): Member[] {
    const t = this.at[id];
    const info = this.b.readUInt32LE(t + 4);
    const kind = (info >> 24) & 0x1f;
    if (kind !== STRUCT && kind !== UNION) return [];
    const ms: Member[] = [];
    for (let i = 0; i < (info & 0xffff); i++) {
      const m = t + 12 + 12 * i;
      const off = this.b.readUInt32LE(m + 8);
      ms.push({
        name: this.str(this.b.readUInt32LE(m)),
        type: this.b.readUInt32LE(m + 4),
        offset: info >>> 31 ? off & 0xffffff : off,
      });
    }
    return ms;
  }

  /** The byte offset of member `path` ("a.b") of struct `name`, looking into anonymous members. */
  offset(name: string, path: string): number {
    let id = this.structId(name);
    if (id === undefined) throw new SysfenceError("E_IO", `the kernel's BTF has no struct ${name}.`);
    let bits = 0;
    for (const part of path.split(".")) {
      const found = this.find(id as number, part);
      if (!found)
        throw new SysfenceError("E_IO", `the kernel's BTF has no member ${path} in struct ${name}.`);
      bits += found.offset;
      id = found.type;
    }
    return bits / 8;
  }

  private find(id: number, name: string): { offset: number; type: number } | undefined {
    for (const m of this.members(id)) {
      if (m.name === name) return { offset: m.offset, type: m.type };
      if (m.name === "") {
        const inner = this.find(m.type, name);
        if (inner) return { offset: m.offset + inner.offset, type: inner.type };
      }
    }
    return undefined;
  }
}

let vmlinux: Btf | undefined;
/** The running kernel's BTF (parsed once). */
export function kernelBtf(): Btf {
  vmlinux ??= new Btf(readFileSync("/sys/kernel/btf/vmlinux"));
  return vmlinux;
}
