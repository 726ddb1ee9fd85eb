import { BPF_MAXINSNS, MAX_INSNS_PER_PATH } from "../abi/opcodes.js";
import { SysfenceError } from "../errors.js";

/** One classic BPF instruction, as struct sock_filter: { __u16 code; __u8 jt; __u8 jf; __u32 k; }. */
export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Size of struct sock_filter in bytes. */
export const INSN_SIZE = 8;

/** Encodes a program as the kernel reads it (host byte order: little-endian on every arch sysfence runs on). */
export function encodeProgram(program: readonly Insn[], littleEndian = true): Buffer {
  const buf = Buffer.alloc(program.length * INSN_SIZE);
  program.forEach((insn, i) => {
    const o = i * INSN_SIZE;
    if (littleEndian) {
      buf.writeUInt16LE(insn.code, o);
      buf.writeUInt32LE(insn.k >>> 0, o + 4);
    } else {
      buf.writeUInt16BE(insn.code, o);
      buf.writeUInt32BE(insn.k >>> 0, o + 4);
    }
    buf.writeUInt8(insn.jt, o + 2);
    buf.writeUInt8(insn.jf, o + 3);
  });
  return buf;
}

/** The most bytes a raw seccomp program file can hold: BPF_MAXINSNS instructions. */
export const MAX_PROGRAM_BYTES = BPF_MAXINSNS * INSN_SIZE;

/** The error for a raw BPF input larger than any program the kernel takes; `size` is "N bytes" or "more than N bytes". */
export function programTooBig(source: string, size: string): SysfenceError {
  return new SysfenceError(
    "E_BPF_INVALID",
    `${source}: ${size} is more than a seccomp BPF program can be: the kernel takes at most ${BPF_MAXINSNS} instructions (${MAX_PROGRAM_BYTES} bytes) in one program (BPF_MAXINSNS) and ${MAX_INSNS_PER_PATH} over a whole filter stack; check that this is a raw struct sock_filter program.`,
  );
}

/** Decodes raw struct sock_filter bytes; the length must be a multiple of 8. */
export function decodeProgram(bytes: Uint8Array, source = "program", littleEndian = true): Insn[] {
  if (bytes.length === 0 || bytes.length % INSN_SIZE !== 0) {
    throw new SysfenceError(
      "E_BPF_INVALID",
      `${source}: ${bytes.length} bytes is not a whole number of 8-byte BPF instructions (struct sock_filter).`,
    );
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let o = 0; o < buf.length; o += INSN_SIZE) {
    out.push({
      code: littleEndian ? buf.readUInt16LE(o) : buf.readUInt16BE(o),
      jt: buf.readUInt8(o + 2),
      jf: buf.readUInt8(o + 3),
      k: littleEndian ? buf.readUInt32LE(o + 4) : buf.readUInt32BE(o + 4),
    });
  }
  return out;
}

/** Builds an instruction. */
export function insn(code: number, k = 0, jt = 0, jf = 0): Insn {
  return { code, jt, jf, k: k >>> 0 };
}

/** The C initialisers of a program, one `{ code, jt, jf, k },` line per instruction (struct sock_filter). */
export function sockFilterLines(program: readonly Insn[]): string {
  return program
    .map(
      (i) =>
        `  { 0x${i.code.toString(16).padStart(2, "0")}, ${i.jt}, ${i.jf}, 0x${(i.k >>> 0).toString(16).padStart(8, "0")} },`,
    )
    .join("\n");
}
