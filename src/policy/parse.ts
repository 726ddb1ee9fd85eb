import { createRequire } from "node:module";
import type { Document, LineCounter } from "yaml";
import { type Diagnostic, type SourceLocation, SysfenceError, throwIfErrors } from "../errors.js";
import { ARCH_NAMES, type ArchName, findArch, nativeArch } from "../syscalls/arches.js";
import { groupNames, isGroup } from "../syscalls/groups.js";
import { editDistance, isKnownSyscall, suggestSyscalls } from "../syscalls/table.js";
import { parseAction } from "./actions.js";
import { parseCondition } from "./conditions.js";
import type { Condition, Policy, Rule } from "./model.js";
import { importOci, isOciProfile, type OciOptions } from "./oci.js";
import { type PolicyFile, policySchema } from "./schema.js";
import { importSystemd, isSystemdText } from "./systemd-import.js";

/** Options for reading a policy file. */
export interface ParseOptions extends OciOptions {
  /** Name used in messages (a path). */
  file?: string;
}

/** Result of reading a policy: the policy and every warning. */
export interface ParsedPolicy {
  policy: Policy;
  warnings: Diagnostic[];
  format: "sysfence" | "oci" | "systemd";
  /** The YAML document, kept so a rewrite preserves comments. */
  document?: Document;
}

/** Parses policy text (sysfence YAML/JSON, or Docker/OCI seccomp JSON), reporting every problem with file:line:column. */
// yaml is loaded on first use: Docker JSON profiles take the JSON.parse path and never need it.
const require = createRequire(import.meta.url);
type YamlModule = typeof import("yaml");
let yamlModule: YamlModule | undefined;
const yaml = (): YamlModule => {
  yamlModule ??= require("yaml") as YamlModule;
  return yamlModule;
};

export function parsePolicy(text: string, options: ParseOptions = {}): ParsedPolicy {
  const file = options.file ?? "<policy>";
  let lineCounter: LineCounter | undefined;
  // The YAML document gives line:column for messages; JSON input skips it unless a message needs it.
  let parsedDoc: Document | undefined;
  const getDoc = (): Document => {
    if (!parsedDoc) {
      lineCounter = new (yaml().LineCounter)();
      parsedDoc = yaml().parseDocument(text, {
        lineCounter,
        keepSourceTokens: false,
        prettyErrors: false,
        uniqueKeys: true,
      });
    }
    return parsedDoc;
  };
  const diags: Diagnostic[] = [];
  const locAt = (offset: number | undefined): SourceLocation => {
    if (offset === undefined || !lineCounter) return { file };
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  if (isSystemdText(text)) return { policy: importSystemd(text, file), warnings: [], format: "systemd" };
  let data = fastJson(text);
  if (data === undefined) {
    const doc = getDoc();
    for (const e of doc.errors)
      diags.push({ severity: "error", message: e.message.split("\n")[0], location: locAt(e.pos[0]) });
    throwIfErrors(diags, file);
    data = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (isOciProfile(data) || (data as { kind?: string } | null)?.kind === "SeccompProfile") {
      // Re-read with exact 64-bit integers: OCI argument values may exceed 2^53.
      data = yaml().parseDocument(text, { intAsBigInt: true }).toJS() as unknown;
    }
  }
  // A Security Profiles Operator SeccompProfile: its spec is an OCI profile.
  const spo = data as { kind?: string; spec?: unknown };
  if (spo?.kind === "SeccompProfile" && isOciProfile(spo.spec)) data = spo.spec;
  if (isOciProfile(data)) {
    // Locations resolve only when a message reads them, so valid JSON never pays for the YAML parse.
    const lazyLocation = (path: (string | number)[]): SourceLocation => {
      let cached: SourceLocation | undefined;
      const get = () => {
        cached ??= locAt(nodeOffset(getDoc(), path));
        return cached;
      };
      return {
        file,
        get line() {
          return get().line;
        },
        get column() {
          return get().column;
        },
      };
    };
    const { policy, warnings } = importOci(data, { ...options, file, locate: lazyLocation });
    return { policy, warnings, format: "oci" };
  }
  const doc = getDoc();
  const locate = (path: (string | number)[]) => locAt(nodeOffset(doc, path));
  const shape = policySchema().safeParse(data);
  if (!shape.success) {
    for (const issue of shape.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
      diags.push({
        severity: "error",
        message: `${path.length ? `${path.join(".")}: ` : ""}${issue.message}`,
        location: locate(path),
        hint: shapeHint(issue.message, path),
      });
    }
    throwIfErrors(diags, file);
  }
  const raw = shape.data as PolicyFile;
  const warnings: Diagnostic[] = [];
  const action = (t: string, path: (string | number)[]) => {
    try {
      return parseAction(t);
    } catch (e) {
      diags.push({ severity: "error", message: (e as Error).message, location: locate(path) });
      return { kind: "allow" as const };
    }
  };
  const architectures: ArchName[] = [];
  (raw.architectures ?? [nativeArch()]).forEach((a, i) => {
    const info = findArch(a);
    if (!info)
      diags.push({
        severity: "error",
        message: `unknown architecture '${a}'`,
        location: locate(["architectures", i]),
        hint: `use one of ${ARCH_NAMES.join(", ")}`,
      });
    else if (!architectures.includes(info.name)) architectures.push(info.name);
  });
  const rules: Rule[] = [];
  raw.syscalls.forEach((r, ri) => {
    const base = ["syscalls", ri];
    const names = [...(r.names ?? []), ...(r.name !== undefined ? [r.name] : [])];
    const nameLocations = [
      ...(r.names ?? []).map((_, ni) => locate([...base, "names", ni])),
      ...(r.name !== undefined ? [locate([...base, "name"])] : []),
    ];
    if (names.length === 0)
      diags.push({
        severity: "error",
        message: "rule names no syscall",
        location: locate(base),
        hint: 'add names: [read, write] or name: "@basic-io"',
      });
    names.forEach((n, ni) => {
      checkName(n, nameLocations[ni], diags);
    });
    const conditions: Condition[] = [];
    (r.args ?? []).forEach((c, ci) => {
      try {
        conditions.push({ ...parseCondition(c), location: locate([...base, "args", ci]) });
      } catch (e) {
        diags.push({
          severity: "error",
          message: (e as Error).message,
          location: locate([...base, "args", ci]),
        });
      }
    });
    if (conditions.length > 0) {
      for (const n of names)
        if (n.startsWith("@"))
          diags.push({
            severity: "error",
            message: `argument conditions on a group (${n}) are not allowed: argument meanings differ per syscall`,
            location: locate([...base, "args"]),
            hint: "name the syscalls one by one",
          });
    }
    rules.push({
      names,
      action: action(r.action, [...base, "action"]),
      conditions,
      comment: r.comment,
      location: locate(base),
      nameLocations,
    });
  });
  const policy: Policy = {
    defaultAction: action(raw.defaultAction, ["defaultAction"]),
    badArchAction: raw.badArchAction
      ? action(raw.badArchAction, ["badArchAction"])
      : { kind: "kill-process" },
    architectures,
    rules,
    source: file,
  };
  throwIfErrors(diags, file);
  return {
    policy,
    warnings: [...warnings, ...diags.filter((d) => d.severity === "warning")],
    format: "sysfence",
    document: doc,
  };
}

/** JSON.parse for JSON text whose integers all fit a double exactly; undefined sends it to the YAML path. */
function fastJson(text: string): unknown {
  const t = text.trimStart();
  if (!t.startsWith("{") || /\d{16,}/.test(t)) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

function checkName(n: string, location: SourceLocation | undefined, diags: Diagnostic[]): void {
  if (n.startsWith("@")) {
    if (!isGroup(n)) {
      const near = groupNames().filter((g) => editDistance(g, n) <= 3);
      diags.push({
        severity: "error",
        message: `unknown syscall group '${n}'`,
        location,
        hint: near.length ? `did you mean ${near.join(" or ")}?` : `known groups: ${groupNames().join(" ")}`,
      });
    }
    return;
  }
  if (!isKnownSyscall(n)) {
    const near = suggestSyscalls(n);
    diags.push({
      severity: "error",
      message: `unknown syscall '${n}'`,
      location,
      hint: near.length
        ? `did you mean ${near.map((s) => `'${s}'`).join(" or ")}?`
        : "see `sysfence syscalls` for the list",
    });
  }
}

function shapeHint(message: string, path: (string | number)[]): string | undefined {
  if (/unrecognized key/i.test(message))
    return "keys are version, defaultAction, badArchAction, architectures, syscalls; a rule has names/name, action, args, comment";
  if (path.length === 0 || path[path.length - 1] === "syscalls") return "see docs/policy-format.md";
  return undefined;
}

/** Offset of the node at a path in the document, falling back to its nearest parent. */
function nodeOffset(doc: Document, path: (string | number)[]): number | undefined {
  for (let len = path.length; len >= 0; len--) {
    const node = len === 0 ? doc.contents : doc.getIn(path.slice(0, len), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return range[0];
    if (len === 0 && (yaml().isMap(node) || yaml().isSeq(node))) return 0;
  }
  return undefined;
}

/** Reads and parses a policy file from disk. */
export async function readPolicyFile(
  path: string,
  options: Omit<ParseOptions, "file"> = {},
): Promise<ParsedPolicy> {
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new SysfenceError(
      "E_IO",
      `cannot read policy ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
      { cause: e },
    );
  }
  return parsePolicy(text, { ...options, file: path });
}
