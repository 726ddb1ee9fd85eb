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

/** The structs and unions of a BTF blob: members by type id, struct ids by name. */
export class Btf {
  private readonly members = new Map<number, Member[]>();
  private readonly structs = new Map<string, number>();
  /** Type id → the id it refers to (typedef, const, volatile …), for anonymous members. */
  private readonly kinds = new Map<number, number>();

  constructor(b: Buffer) {
    if (b.readUInt16LE(0) !== 0xeb9f)
      throw new SysfenceError("E_IO", "the kernel's BTF has a bad magic number.");
    const hdr = b.readUInt32LE(4);
    const typeOff = hdr + b.readUInt32LE(8);
    const typeLen = b.readUInt32LE(12);
    const strOff = hdr + b.readUInt32LE(16);
    const str = (o: number) => b.toString("latin1", strOff + o, b.indexOf(0, strOff + o));
    let at = typeOff;
    let id = 1;
    while (at < typeOff + typeLen) {
      const nameOff = b.readUInt32LE(at);
      const info = b.readUInt32LE(at + 4);
      const kind = (info >> 24) & 0x1f;
      const vlen = info & 0xffff;
      const kflag = info >>> 31;
      this.kinds.set(id, kind);
      if (kind === STRUCT || kind === UNION) {
        const ms: Member[] = [];
        for (let i = 0; i < vlen; i++) {
          const m = at + 12 + 12 * i;
          const off = b.readUInt32LE(m + 8);
          ms.push({
            name: str(b.readUInt32LE(m)),
            type: b.readUInt32LE(m + 4),
            offset: kflag ? off & 0xffffff : off,
          });
        }
        this.members.set(id, ms);
        if (nameOff && kind === STRUCT) {
          const name = str(nameOff);
          if (!this.structs.has(name)) this.structs.set(name, id);
        }
      }
      at += 12 + extra(kind, vlen);
      id++;
    }
  }

  /** The byte offset of member `path` ("a.b") of struct `name`, looking into anonymous members. */
  offset(name: string, path: string): number {
    let id = this.structs.get(name);
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
    for (const m of this.members.get(id) ?? []) {
      if (m.name === name) return { offset: m.offset, type: m.type };
      if (m.name === "" && this.members.has(m.type)) {
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
