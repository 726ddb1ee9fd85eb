// diff: two profiles or policies → what changed and whether NEW drifted past OLD's policy; with a filter on
// either side (a raw BPF program, a `sysfence dump`, pid:PID), the semantic filter diff.
import { SysfenceError } from "../errors.js";
import { type DiffInput, type DiffResult, diffInputs } from "../generate/diff.js";
import { type DiffOptions, diffGenerateOptions } from "../generate/diff-options.js";
import type { PolicyInput } from "../install/install.js";
import type { FilterDiff, FilterSide } from "../observe/filter-diff.js";
import { isBinary } from "../policy/formats/detect.js";
import { type ArchName, nativeArch } from "../syscalls/arches.js";
import { readInput } from "../util/read-input.js";
import { type DocumentSource, readDocument } from "./document.js";
import { diffInputOf, type ProfileInput } from "./inputs.js";
import { oneOf, PHASES, STATIC_MODES } from "./options.js";

export { formatDiff, formatDiffMarkdown } from "../generate/diff.js";
export type { DiffOptions } from "../generate/diff-options.js";
export type { FilterDiff } from "../observe/filter-diff.js";
export { formatFilterDiff, formatFilterDiffMarkdown } from "../observe/filter-diff-text.js";

/** The result of diff(): `drift` is true when NEW needs a call or value OLD's policy would deny. */
export interface Drift extends DiffResult {
  drift: boolean;
}

/** The drift rule: NEW drifted when it needs a call or an argument value OLD's policy denies. */
function withDrift(d: DiffResult): Drift {
  return { drift: d.denied.length > 0, ...d };
}

/**
 * What changed between two profiles or policies, and whether NEW drifted past OLD's policy: `drift` is
 * true only when NEW needs a call or argument value OLD's policy denies (the CI check).
 */
export function diff(
  oldInput: ProfileInput | PolicyInput,
  newInput: ProfileInput | PolicyInput,
  options: DiffOptions = {},
): Drift {
  oneOf("phase", options.phase, PHASES);
  oneOf("static", options.static, STATIC_MODES);
  const a = diffInputOf(oldInput, "diff", "old");
  const b = diffInputOf(newInput, "diff", "new");
  return withDrift(diffInputs(a, b, diffGenerateOptions(a, b, options)));
}

/** One side of a diff read from a file: a profile, a policy, or filters. */
export type DiffSide = DiffInput | { kind: "filters"; side: FilterSide; name: string };

/** How diffFiles() reads its sides. */
export interface DiffFilesOptions extends DiffOptions, DocumentSource {
  /** The architecture a policy that names none is for (the CLI passes this machine's). */
  arch?: ArchName;
  /** The kernel release an OCI profile's minKernel entries are judged by. */
  kernel?: string;
}

/** What diffFiles() found: the profile/policy diff, or the semantic filter diff; `drift` either way. */
export type FilesDiff =
  | ({ kind: "policies"; oldName: string; newName: string } & Drift)
  | { kind: "filters"; oldName: string; newName: string; drift: boolean; diff: FilterDiff };

/** Reads a side: pid:PID (dumped now), raw BPF, a `sysfence dump` (text or JSON), else readDocument(). */
export async function readDiffSide(file: string, options: DiffFilesOptions = {}): Promise<DiffSide> {
  const fd = await import("../observe/filter-diff.js");
  const pidOperand = /^pid:(\d+)$/.exec(file);
  if (pidOperand) {
    const { dumpProcess } = await import("../observe/dump.js");
    const { loadPtrace } = await import("../install/ptrace-ffi.js");
    const d = dumpProcess(Number(pidOperand[1]), loadPtrace());
    const name = `process ${d.pid} (${d.command})`;
    return { kind: "filters", side: fd.sideFromDump(d, name), name };
  }
  const name = file === "-" ? "<stdin>" : file;
  const bytes = Buffer.from(file === "-" && options.stdin ? await options.stdin() : await readInput(file));
  if (bytes.length > 0 && isBinary(bytes)) {
    const { decodeProgram } = await import("../bpf/insn.js");
    return { kind: "filters", side: fd.sideFromProgram(decodeProgram(bytes, name), name), name };
  }
  const text = bytes.toString("utf8");
  const f = await import("../observe/dump-format.js");
  if (text.startsWith(f.TEXT_MARK)) {
    const d = f.parseDumpText(text, name);
    return { kind: "filters", side: fd.sideFromDump(d, name), name };
  }
  if (text.trimStart().startsWith("{") && text.includes(`"${f.JSON_MARK}"`)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new SysfenceError("E_BPF_INVALID", `${name}: not valid JSON: ${(e as Error).message}.`, {
        exitStatus: 2,
      });
    }
    const d = f.parseDumpJson(value, name);
    return { kind: "filters", side: fd.sideFromDump(d, name), name };
  }
  return readDocument(bytes, name, { arch: options.arch ?? nativeArch(), kernel: options.kernel });
}

/** Both sides as filters, when either is one: a policy is compiled; a profile cannot be compared. */
async function asFilterSides(a: DiffSide, b: DiffSide): Promise<[FilterSide, FilterSide] | undefined> {
  if (a.kind !== "filters" && b.kind !== "filters") return undefined;
  const fd = await import("../observe/filter-diff.js");
  const side = (s: DiffSide): FilterSide => {
    if (s.kind === "filters") return s.side;
    if (s.kind === "policy") return fd.sideFromPolicy(s.policy, s.name);
    throw new SysfenceError(
      "E_USAGE",
      `${s.name} is a profile; a profile can be compared with profiles and policies, not with filters. Generate a policy from it first (sysfence generate ${s.name} -o policy.yaml).`,
    );
  };
  return [side(a), side(b)];
}

/** Input trouble is never drift: a CI check must not read a missing file as a finding (exit 2). */
function asInput(e: unknown): never {
  throw e instanceof SysfenceError
    ? new SysfenceError(e.code, e.message, { cause: e, exitStatus: 2, diagnostics: e.diagnostics })
    : e;
}

/**
 * `sysfence diff OLD NEW` as one step: each side a profile, a policy, a raw BPF program, a dump or
 * pid:PID (`-`: standard input, for one side). Profiles and policies are compared by decisions (OLD's
 * policy generated from a profile as `generate` would); with a filter on either side, every
 * (architecture, syscall, argument range) the two decide differently. `drift` is the CI verdict.
 */
export async function diffFiles(
  oldFile: string,
  newFile: string,
  options: DiffFilesOptions = {},
): Promise<FilesDiff> {
  oneOf("phase", options.phase, PHASES);
  oneOf("static", options.static, STATIC_MODES);
  if (oldFile === "-" && newFile === "-")
    throw new SysfenceError("E_USAGE", "only one of OLD and NEW can be - (stdin).");
  const { stdin, arch, kernel, ...generate } = options;
  const read = (f: string) => readDiffSide(f, { stdin, arch, kernel }).catch(asInput);
  const [sa, sb] = [await read(oldFile), await read(newFile)];
  const filters = await asFilterSides(sa, sb).catch(asInput);
  if (filters) {
    const { diffFilters } = await import("../observe/filter-diff.js");
    const [a, b] = filters;
    const d = diffFilters(a, b);
    return { kind: "filters", oldName: a.name, newName: b.name, drift: d.differences.length > 0, diff: d };
  }
  const [a, b] = [sa, sb] as DiffInput[];
  let generated: ReturnType<typeof diffGenerateOptions> = {};
  try {
    generated = diffGenerateOptions(a, b, generate);
  } catch (e) {
    asInput(e);
  }
  return { kind: "policies", oldName: a.name, newName: b.name, ...withDrift(diffInputs(a, b, generated)) };
}
