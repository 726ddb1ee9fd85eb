// `sysfence emu` and the demo's verdict table: a compiled program asked what it does with a syscall, by
// the emulator (bpf/emulator.ts), with names, constants and the action spelled as a policy spells them.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { decodeActionValue } from "../abi/action.js";
import { disassemble, formatListing } from "../bpf/disasm.js";
import { Emulator, packSeccompData } from "../bpf/emulator.js";
import type { Insn } from "../bpf/insn.js";
import { SysfenceError } from "../errors.js";
import { formatAction } from "../policy/actions.js";
import { type ArchName, archInfo, nativeArch } from "../syscalls/arches.js";
import { evalValue } from "../syscalls/constants.js";
import { resolveSyscallSpec } from "../syscalls/table.js";

/** One question to a program: the call's architecture (default: the caller's), syscall, and arguments. */
export interface EmuQuery {
  arch?: string;
  syscall: string | number;
  args?: (string | number)[];
}

/** A program's answer to one call: the action (kind, data, text, raw value) and what running it took. */
export interface EmuAnswer {
  arch: ArchName;
  syscall: string | null;
  nr: number;
  action: string;
  data: number;
  text: string;
  value: string;
  executed: number;
  readArgs: boolean;
  trace?: number[];
}

/** Parses "40,0x10,AF_INET" (or a list) into up to six 64-bit arguments; constants and `|` are evaluated. */
export function parseArgs(list: readonly (string | number)[] | string | undefined): bigint[] {
  const items = typeof list === "string" ? list.split(",").filter((s) => s.trim() !== "") : (list ?? []);
  if (items.length > 6)
    throw new SysfenceError("E_USAGE", `a syscall has at most 6 arguments; got ${items.length}.`);
  return items.map((v) => BigInt.asUintN(64, evalValue(typeof v === "string" ? v.trim() : v)));
}

/** An architecture's name checked (`--arch`), or this machine's when none is given. */
export function archOrHost(arch: string | undefined): ArchName {
  return arch ? archInfo(arch).name : nativeArch();
}

/** An emulator over a program, to ask it questions with askProgram(). */
export function emulatorFor(program: readonly Insn[]): Emulator {
  return new Emulator(program);
}

/** Asks a program one question (the program counters it executed with `trace`). */
export function askProgram(emu: Emulator, q: EmuQuery, defaultArch: ArchName, trace = false): EmuAnswer {
  const arch = archInfo(q.arch ?? defaultArch);
  const { name, nr } = resolveSyscallSpec(arch.name, String(q.syscall));
  const args = parseArgs(q.args);
  const r = emu.runWords(packSeccompData({ nr, arch: arch.audit, args }, arch.littleEndian), trace);
  const action = decodeActionValue(r.value);
  return {
    arch: arch.name,
    syscall: name ?? null,
    nr,
    action: action.kind,
    data: action.data ?? 0,
    text: formatAction(action),
    value: `0x${r.value.toString(16).padStart(8, "0")}`,
    executed: r.executed,
    readArgs: r.readArgs,
    trace: r.trace,
  };
}

/** The listing of the instructions a traced answer executed, in order. */
export function traceListing(program: readonly Insn[], arch: ArchName, trace: readonly number[]): string {
  const listing = disassemble(program, { arch });
  return formatListing(trace.map((pc) => listing[pc]));
}

/**
 * Answers JSON lines of EmuQuery from a file or - (standard input), each answer one JSON line given to
 * `onAnswers` in chunks of about 64 KiB; a line that is not a query is an E_USAGE error naming file:line.
 */
export async function emulateBatch(
  emu: Emulator,
  source: string,
  defaultArch: ArchName,
  onAnswers: (lines: string) => void,
): Promise<void> {
  const input = source === "-" ? process.stdin : createReadStream(source);
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let buffered = "";
  for await (const line of rl) {
    lineNo++;
    if (!line.trim()) continue;
    let q: EmuQuery;
    try {
      q = JSON.parse(line) as EmuQuery;
    } catch {
      throw new SysfenceError(
        "E_USAGE",
        `${source}:${lineNo}: not a JSON object; each line must look like {"syscall":"read","args":[0]}.`,
      );
    }
    try {
      buffered += `${JSON.stringify({ ...askProgram(emu, q, defaultArch), trace: undefined })}\n`;
    } catch (e) {
      throw new SysfenceError("E_USAGE", `${source}:${lineNo}: ${(e as Error).message}`, { cause: e });
    }
    if (buffered.length > 1 << 16) {
      onAnswers(buffered);
      buffered = "";
    }
  }
  onAnswers(buffered);
}
