// The sides `sysfence diff` takes: profiles and policies (generate/diff.ts), and filters — a raw BPF
// program, a `sysfence dump` (text or JSON), or pid:PID (dumped now) — compared semantically
// (observe/filter-diff.ts). A policy against filters is compiled and compared the same way.
import { readFile } from "node:fs/promises";
import { SysfenceError } from "../errors.js";
import type { DiffInput } from "../generate/diff.js";
import type { FilterSide } from "../observe/filter-diff.js";
import { isBinary } from "../policy/formats/detect.js";
import { type CliIO, UsageError } from "./io.js";
import { loadPolicy } from "./policy-input.js";

/** One side of a diff. */
export type DiffSide = DiffInput | { kind: "filters"; side: FilterSide; name: string };

async function bytesOf(file: string, io: CliIO): Promise<Buffer | undefined> {
  if (file !== "-") return readFile(file).catch(() => undefined); // the policy reader names the error
  if (io.readStdinBytes) return io.readStdinBytes();
  if (!io.readStdin) throw new UsageError("- (standard input) is not available here.");
  return Buffer.from(await io.readStdin());
}

/** Reads a side: pid:PID, raw BPF, a dump, else a profile or policy. */
export async function readDiffSide(file: string, io: CliIO): Promise<DiffSide> {
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
  const bytes = await bytesOf(file, io);
  if (bytes !== undefined && bytes.length > 0 && isBinary(bytes)) {
    const { decodeProgram } = await import("../bpf/insn.js");
    return { kind: "filters", side: fd.sideFromProgram(decodeProgram(bytes, name), name), name };
  }
  const text = bytes?.toString("utf8");
  const f = await import("../observe/dump-format.js");
  if (text?.startsWith(f.TEXT_MARK)) {
    const d = f.parseDumpText(text, name);
    return { kind: "filters", side: fd.sideFromDump(d, name), name };
  }
  if (text?.trimStart().startsWith("{") && text.includes(`"${f.JSON_MARK}"`)) {
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
  return readProfileOrPolicy(file, io, file === "-" ? (text ?? "") : undefined);
}

/** Both sides as filters, when either is one: a policy is compiled; a profile cannot be compared. */
export async function asFilterSides(a: DiffSide, b: DiffSide): Promise<[FilterSide, FilterSide] | undefined> {
  if (a.kind !== "filters" && b.kind !== "filters") return undefined;
  const fd = await import("../observe/filter-diff.js");
  const side = (s: DiffSide): FilterSide => {
    if (s.kind === "filters") return s.side;
    if (s.kind === "policy") return fd.sideFromPolicy(s.policy, s.name);
    throw new UsageError(
      `${s.name} is a profile; a profile can be compared with profiles and policies, not with filters. Generate a policy from it first (sysfence generate ${s.name} -o policy.yaml).`,
    );
  };
  return [side(a), side(b)];
}

/** Reads a file (or - for stdin) as a profile when it is one, else as a policy. */
export async function readProfileOrPolicy(file: string, io: CliIO, read?: string): Promise<DiffInput> {
  const { readFile } = await import("node:fs/promises");
  const { isProfileText } = await import("../api/inputs.js");
  const name = file === "-" ? "<stdin>" : file;
  const text =
    read ?? (file === "-" ? await readStdinText(io) : await readFile(file, "utf8").catch(() => undefined));
  if (text !== undefined && isProfileText(text)) {
    const { parseProfile } = await import("../record/read-profile.js");
    return { kind: "profile", profile: parseProfile(text, name), name };
  }
  const quiet: CliIO = { ...io, stderr: () => {} };
  if (file === "-") {
    const { parsePolicy } = await import("../policy/parse.js");
    return { kind: "policy", policy: parsePolicy(text ?? "", { file: name }).policy, name };
  }
  return { kind: "policy", policy: (await loadPolicy(file, {}, quiet)).policy, name };
}

/** All of standard input as text. */
export async function readStdinText(io: CliIO): Promise<string> {
  if (!io.readStdin) throw new UsageError("- (standard input) is not available here.");
  return io.readStdin();
}
