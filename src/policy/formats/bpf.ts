import { decodeProgram, MAX_PROGRAM_BYTES, programTooBig } from "../../bpf/insn.js";
import { SysfenceError } from "../../errors.js";
import { importBpf } from "../bpf-import.js";
import type { ParsedPolicy } from "./parsed.js";

// Raw seccomp BPF (struct sock_filter[], as written by `sysfence compile -o`, libseccomp's
// seccomp_export_bpf or bwrap's --seccomp input): decompiled by asking the program.

/** Reads a raw BPF program as a policy; programs that read arguments are refused by importBpf. */
export function readBpfPolicy(bytes: Uint8Array, file: string): ParsedPolicy {
  if (bytes.length > MAX_PROGRAM_BYTES) throw programTooBig(file, `${bytes.length} bytes`);
  try {
    return { policy: importBpf(decodeProgram(bytes, file), file), warnings: [], format: "bpf" };
  } catch (e) {
    if (!(e instanceof SysfenceError) || e.message.includes(file)) throw e;
    throw new SysfenceError(e.code, `${file}: read as raw BPF (binary content): ${e.message}`, { cause: e });
  }
}
