// Answers about the running kernel's BTF, kept per kernel build: reading and indexing vmlinux BTF costs
// ~50 ms of CPU (and far more wall time on a busy machine), the answers a program needs (a few type ids
// and member offsets) are bytes. They are stored in the private "btf" store (util/private-store.ts), keyed
// by the kernel's GNU build id (/sys/kernel/notes), the BTF's size and the caller's key.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { openPrivateStore } from "../util/private-store.js";
import { type Btf, VMLINUX_BTF, vmlinuxBtf } from "./btf.js";

/** ELF note type of a GNU build id (elf.h NT_GNU_BUILD_ID). */
const NT_GNU_BUILD_ID = 3;

/** The GNU build id in a run of ELF notes (the bytes of /sys/kernel/notes), as hex; undefined if none. */
export function buildIdOfNotes(notes: Buffer): string | undefined {
  const pad = (n: number) => (n + 3) & ~3;
  for (let p = 0; p + 12 <= notes.length; ) {
    const namesz = notes.readUInt32LE(p);
    const descsz = notes.readUInt32LE(p + 4);
    const type = notes.readUInt32LE(p + 8);
    const name = p + 12;
    const desc = name + pad(namesz);
    if (desc + descsz > notes.length) return undefined;
    if (type === NT_GNU_BUILD_ID && namesz === 4 && notes.toString("latin1", name, name + 3) === "GNU")
      return notes.toString("hex", desc, desc + descsz);
    p = desc + pad(descsz);
  }
  return undefined;
}

/** The running kernel's build id, or undefined when /sys/kernel/notes is missing or has none. */
export function kernelBuildId(): string | undefined {
  try {
    return buildIdOfNotes(readFileSync("/sys/kernel/notes"));
  } catch {
    return undefined;
  }
}

export interface AnswerOptions {
  /** false: compute without reading or writing the store. */
  cache?: boolean;
  /** Told when the store is unusable for a reason worth saying (an unsafe directory). */
  onNote?: (note: string) => void;
}

/**
 * `compute(vmlinuxBtf())`, or its stored result for this kernel build and `key` (name the questions and
 * their version in the key: "bpf-engine-v1"). The result goes through JSON.
 */
export function vmlinuxAnswers<T>(key: string, compute: (btf: Btf) => T, options: AnswerOptions = {}): T {
  const id = options.cache === false ? undefined : kernelBuildId();
  if (!id) return compute(vmlinuxBtf());
  let size = 0;
  try {
    size = statSync(VMLINUX_BTF).size;
  } catch {
    return compute(vmlinuxBtf()); // no BTF: vmlinuxBtf() throws the error that says so
  }
  const entry = `btf-${id.slice(0, 40)}-${createHash("sha256").update(`${size}\0${key}`).digest("hex").slice(0, 32)}`;
  const store = openPrivateStore("btf", true, process.env, "BTF cache");
  if (!("get" in store)) {
    if (store.note) options.onNote?.(store.note);
    return compute(vmlinuxBtf());
  }
  const hit = store.get(entry);
  if (hit) {
    try {
      return JSON.parse(hit.toString("utf8")) as T;
    } catch {
      // an entry this sysfence wrote but cannot read: compute again and replace it
    }
  }
  const value = compute(vmlinuxBtf());
  store.put(entry, Buffer.from(JSON.stringify(value) ?? "null"));
  return value;
}
