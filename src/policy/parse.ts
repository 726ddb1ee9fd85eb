import { SysfenceError } from "../errors.js";
import { readAllStdin } from "../util/read-input.js";
import { readBpfPolicy } from "./formats/bpf.js";
import { detectFormat, type PolicyFormat } from "./formats/detect.js";
import { checkSize, parseTextDocument } from "./formats/document.js";
import { readMobyPolicy, readOciPolicy } from "./formats/oci.js";
import type { ParsedPolicy } from "./formats/parsed.js";
import { readSpoPolicy } from "./formats/spo.js";
import { readSysfencePolicy } from "./formats/sysfence.js";
import { readSystemdPolicy } from "./formats/systemd.js";
import type { OciOptions } from "./oci.js";

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
      return readSystemdPolicy(found.text ?? new TextDecoder().decode(bytes), file);
    case "spo":
      return readSpoPolicy(doc(), options);
    case "moby":
      return readMobyPolicy(doc(), options);
    case "oci":
      return readOciPolicy(doc(), options, found.at);
    case "sysfence":
      return readSysfencePolicy(doc());
  }
}

/** Reads and parses a policy file from disk ("-" is standard input). */
export async function readPolicyFile(
  path: string,
  options: Omit<ParseOptions, "file"> = {},
): Promise<ParsedPolicy> {
  const { readFile, stat } = await import("node:fs/promises");
  let bytes: Uint8Array;
  try {
    if (path !== "-") {
      const st = await stat(path);
      if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
      if (st.isFile()) checkSize(st.size, path);
    }
    bytes = path === "-" ? await readAllStdin((size) => checkSize(size, "<stdin>")) : await readFile(path);
  } catch (e) {
    if (e instanceof SysfenceError) throw e;
    throw new SysfenceError(
      "E_IO",
      `cannot read policy ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
      { cause: e },
    );
  }
  return parsePolicy(bytes, { ...options, file: path === "-" ? "<stdin>" : path });
}
