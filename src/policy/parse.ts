import { programTooBig } from "../bpf/insn.js";
import { SysfenceError } from "../errors.js";
import { readUpTo } from "../util/read-input.js";
import { readBpfPolicy } from "./formats/bpf/read.js";
import { detectFormat, type PolicyFormat } from "./formats/detect.js";
import { checkSize, MAX_POLICY_BYTES, parseTextDocument } from "./formats/document.js";
import type { OciOptions } from "./formats/oci/read.js";
import { readMobyPolicy, readOciPolicy } from "./formats/oci/read.js";
import type { ParsedPolicy } from "./formats/parsed.js";
import { readSpoPolicy } from "./formats/spo.js";
import { readSysfencePolicy } from "./formats/sysfence.js";
import { readSystemdPolicy } from "./formats/systemd/read.js";

/** Options for reading a policy. */
export interface ParseOptions extends OciOptions {
  /** Name used in messages (a path). */
  file?: string;
  /** The format the caller expects; it must agree with the file's structure (formats/detect.ts). */
  format?: PolicyFormat;
}

export type { ParsedPolicy } from "./formats/parsed.js";

/**
 * Reads a policy in any format sysfence knows — sysfence YAML/JSON, OCI runtime-spec, moby (Docker), SPO
 * SeccompProfile, systemd unit or drop-in, raw BPF — decided by its structure (formats/detect.ts);
 * every problem is reported with file:line:column. Everything after this sees only the Policy model.
 */
export function parsePolicy(input: string | Uint8Array, options: ParseOptions = {}): ParsedPolicy {
  const file = options.file ?? "<policy>";
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  checkSize(bytes.length, file);
  const found = detectFormat(bytes, file, options.format);
  const doc = () => found.doc ?? parseTextDocument(new TextDecoder().decode(bytes), file);
  switch (found.format) {
    case "bpf":
      return readBpfPolicy(bytes, file);
    case "systemd":
      return readSystemdPolicy(found.text ?? new TextDecoder().decode(bytes), file, options.arch);
    case "spo":
      return readSpoPolicy(doc(), options);
    case "moby":
      return readMobyPolicy(doc(), options);
    case "oci":
      return readOciPolicy(doc(), options, found.at);
    case "sysfence":
      return readSysfencePolicy(doc(), options.arch);
  }
}

/** Reads and parses a policy file from disk ("-" is standard input). */
export async function readPolicyFile(
  path: string,
  options: Omit<ParseOptions, "file"> = {},
): Promise<ParsedPolicy> {
  const file = path === "-" ? "<stdin>" : path;
  // at most MAX_POLICY_BYTES + 1 bytes are read: a huge file, /dev/zero or an endless pipe is refused by size
  let read: Awaited<ReturnType<typeof readUpTo>>;
  try {
    read = await readUpTo(path, MAX_POLICY_BYTES);
  } catch (e) {
    const cause = (e as Error).cause as NodeJS.ErrnoException | undefined;
    throw new SysfenceError(
      "E_IO",
      `cannot read policy ${path}: ${cause?.message ?? (e as Error).message}.`,
      {
        cause: e,
      },
    );
  }
  if (read.more) {
    // raw BPF has the kernel's smaller limit; anything else the policy limit
    if (read.bytes.includes(0) || options.format === "bpf") throw programTooBig(file, sizeOf(read));
    checkSize(read.size ?? MAX_POLICY_BYTES + 1, file, read.size === undefined);
  }
  return parsePolicy(read.bytes, { ...options, file });
}

const sizeOf = (r: { size?: number }) =>
  r.size !== undefined ? `${r.size} bytes` : `more than ${MAX_POLICY_BYTES} bytes`;
