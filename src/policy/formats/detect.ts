import { SysfenceError } from "../../errors.js";
import { parseTextDocument, type TextDocument } from "./document.js";
import { isSystemdUnit } from "./systemd/read.js";

// Which reader a policy input goes to (docs/policy-inputs.md has this table):
//
//   row  structure (decides first)                                            format
//   1    bytes hold a NUL or are not UTF-8                                    bpf
//   2    a JSON/YAML mapping with kind: SeccompProfile                        spo
//   3    a mapping with ociVersion and linux.seccomp (a runtime config.json)  oci (its linux.seccomp)
//   4    a mapping whose defaultAction is "SCMP_ACT_…" and that uses a key
//        only moby knows (archMap; a rule's name, comment, includes, excludes) moby
//   5    a mapping whose defaultAction is "SCMP_ACT_…", no moby-only key      oci
//   6    any other mapping with defaultAction or syscalls                     sysfence
//   7    text whose every line is [Section], Key=Value, a comment or blank,
//        with at least one SystemCall*= setting                               systemd
//
// The rows cannot overlap. --format (or the library's `format`) must agree with the row that fits (moby
// accepts an oci file: moby's profile extends it); it chooses only when no row fits, and then the
// extension does (.yaml/.yml/.json → sysfence, .conf/.service → systemd, .bpf/.bin → bpf). A file that
// fits no row gets that reader's own errors, or an error naming the formats. Nothing is guessed from a
// substring: a YAML comment that mentions SystemCallFilter= is still YAML.

import { POLICY_FORMATS, type PolicyFormat } from "./parsed.js";

export { POLICY_FORMATS, type PolicyFormat } from "./parsed.js";

/** What detection decided: the reader, and what it reads. */
export interface Detected {
  format: PolicyFormat;
  doc?: TextDocument;
  text?: string;
  /** For row 3: where the profile sits inside the document. */
  at?: string[];
}

const MOBY_RULE_KEYS = ["name", "comment", "includes", "excludes"];

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** The row a parsed document fits, or undefined. */
export function formatOfData(data: unknown): { format: PolicyFormat; at?: string[] } | undefined {
  if (!isMap(data)) return undefined;
  if (data.kind === "SeccompProfile") return { format: "spo" };
  if ("ociVersion" in data && isMap(data.linux) && isMap(data.linux.seccomp))
    return { format: "oci", at: ["linux", "seccomp"] };
  if (typeof data.defaultAction === "string" && data.defaultAction.startsWith("SCMP_ACT_")) {
    const rules = Array.isArray(data.syscalls) ? data.syscalls : [];
    const moby = "archMap" in data || rules.some((r) => isMap(r) && MOBY_RULE_KEYS.some((k) => k in r));
    return { format: moby ? "moby" : "oci" };
  }
  if ("defaultAction" in data || "syscalls" in data) return { format: "sysfence" };
  return undefined;
}

/** The format an extension suggests, used only when the structure fits no row. */
export function formatOfExtension(file: string): PolicyFormat | undefined {
  const ext = /\.([A-Za-z0-9]+)$/.exec(file)?.[1]?.toLowerCase();
  if (ext === "yaml" || ext === "yml" || ext === "json") return "sysfence";
  if (ext === "conf" || ext === "service") return "systemd";
  if (ext === "bpf" || ext === "bin") return "bpf";
  return undefined;
}

/** True when bytes cannot be text: a NUL byte, or not valid UTF-8. */
export function isBinary(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return false;
  } catch {
    return true;
  }
}

/** Decides the format of a policy input by the table above. */
export function detectFormat(bytes: Uint8Array, file: string, requested?: PolicyFormat): Detected {
  if (requested !== undefined && !POLICY_FORMATS.includes(requested))
    throw new SysfenceError(
      "E_USAGE",
      `unknown policy format '${requested}'; use one of ${POLICY_FORMATS.join(", ")}.`,
    );
  const agree = (found: PolicyFormat, what: string): void => {
    if (requested === undefined || requested === found || (requested === "moby" && found === "oci")) return;
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `${file}: --format ${requested} was asked for, but the file is ${what} (${found}); drop --format or pass the right file.`,
    );
  };
  if (isBinary(bytes)) {
    agree("bpf", "binary, so raw BPF");
    return { format: "bpf" };
  }
  const text = new TextDecoder().decode(bytes);
  let doc: TextDocument | undefined;
  let syntaxError: unknown;
  try {
    doc = parseTextDocument(text, file);
  } catch (e) {
    if (!(e instanceof SysfenceError)) throw e;
    syntaxError = e;
  }
  const row = doc ? formatOfData(doc.data) : undefined;
  if (row) {
    agree(row.format, describe(row.format));
    return { format: requested === "moby" ? "moby" : row.format, doc, at: row.at };
  }
  if (isSystemdUnit(text)) {
    agree("systemd", "a systemd unit");
    return { format: "systemd", text };
  }
  const chosen = requested ?? formatOfExtension(file);
  if (chosen === "systemd") return { format: "systemd", text };
  if (chosen === "bpf") return { format: "bpf" };
  if (syntaxError) throw syntaxError; // its own file:line:column
  if (chosen && doc) return { format: chosen, doc };
  throw new SysfenceError(
    "E_POLICY_INVALID",
    `${file}: fits no policy format — a sysfence policy is a mapping with defaultAction and syscalls; an OCI or Docker profile has defaultAction: SCMP_ACT_…; an SPO SeccompProfile has kind: SeccompProfile; a systemd unit or drop-in has SystemCallFilter= lines; raw BPF is a binary struct sock_filter array. Name one with --format.`,
  );
}

function describe(f: PolicyFormat): string {
  switch (f) {
    case "spo":
      return "a SeccompProfile resource";
    case "oci":
      return "an OCI profile (defaultAction SCMP_ACT_…)";
    case "moby":
      return "a Docker (moby) profile (it uses archMap, includes/excludes, name or comment)";
    case "sysfence":
      return "a sysfence policy";
    default:
      return f;
  }
}
