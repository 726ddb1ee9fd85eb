import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { decodeActionValue } from "../../abi/action.js";
import { disassemble, formatListing } from "../../bpf/disasm.js";
import { Emulator, packSeccompData } from "../../bpf/emulator.js";
import type { Insn } from "../../bpf/insn.js";
import { SysfenceError } from "../../errors.js";
import { formatAction } from "../../policy/actions.js";
import { type ArchName, archInfo, nativeArch } from "../../syscalls/arches.js";
import { evalValue } from "../../syscalls/constants.js";
import { resolveSyscallSpec } from "../../syscalls/table.js";
import { type CliIO, toJson, UsageError } from "../io.js";
import {
  INPUT_FORMAT_HELP,
  loadAndCompile,
  loadBpf,
  looksLikeBpf,
  type PolicyOptions,
} from "../policy-input.js";

interface EmuQuery {
  arch?: string;
  syscall: string | number;
  args?: (string | number)[];
}

/** Parses "40,0x10,AF_INET" into up to six 64-bit arguments. */
export function parseArgs(list: readonly (string | number)[] | string | undefined): bigint[] {
  const items = typeof list === "string" ? list.split(",").filter((s) => s.trim() !== "") : (list ?? []);
  if (items.length > 6) throw new UsageError(`a syscall has at most 6 arguments; got ${items.length}.`);
  return items.map((v) => BigInt.asUintN(64, evalValue(typeof v === "string" ? v.trim() : v)));
}

/** Answers one query against a program. */
function answer(emu: Emulator, q: EmuQuery, defaultArch: ArchName, trace = false) {
  const arch = archInfo(q.arch ?? defaultArch);
  const { name, nr } = resolveSyscallSpec(arch.name, String(q.syscall));
  const fullNr = nr;
  const args = parseArgs(q.args);
  const r = emu.runWords(packSeccompData({ nr: fullNr, arch: arch.audit, args }, arch.littleEndian), trace);
  const action = decodeActionValue(r.value);
  return {
    arch: arch.name,
    syscall: name ?? null,
    nr: fullNr,
    action: action.kind,
    data: action.data ?? 0,
    text: formatAction(action),
    value: `0x${r.value.toString(16).padStart(8, "0")}`,
    executed: r.executed,
    readArgs: r.readArgs,
    trace: r.trace,
  };
}

/** `sysfence emu`. */
export function registerEmu(program: Command, io: CliIO): void {
  program
    .command("emu")
    .description("ask a policy or BPF program what it does with a syscall")
    .argument("<input>", "policy file or raw .bpf program")
    .option("--arch <arch>", "architecture of the call (default: the policy's first)")
    .option("--syscall <name|nr>", "syscall name or number")
    .option("--args <a0,…,a5>", "arguments: numbers or constants (AF_VSOCK, CLONE_NEWUSER|SIGCHLD)")
    .option(
      "--batch <file>",
      "JSON lines of {arch?, syscall, args?} from a file or - (stdin); answers as JSON lines",
    )
    .option("--trace", "list the instructions executed")
    .option("--json", "print JSON")
    .option("--caps <list>", "OCI: capabilities the container holds")
    .option("--input-format <format>", INPUT_FORMAT_HELP)
    .action(
      async (
        input: string,
        opts: PolicyOptions & {
          arch?: string;
          syscall?: string;
          args?: string;
          batch?: string;
          trace?: boolean;
          json?: boolean;
        },
      ) => {
        let prog: Insn[];
        let defaultArch: ArchName = opts.arch ? archInfo(opts.arch).name : nativeArch();
        if (await looksLikeBpf(input, opts.inputFormat)) prog = await loadBpf(input);
        else {
          const r = await loadAndCompile(input, { caps: opts.caps, inputFormat: opts.inputFormat }, io);
          prog = r.program;
          if (!opts.arch) defaultArch = r.resolved.arches[0].arch;
        }
        const emu = new Emulator(prog);
        if (opts.batch) {
          await runBatch(emu, opts.batch, defaultArch, io);
          return;
        }
        if (!opts.syscall) throw new UsageError("give --syscall NAME|NR (or --batch FILE).");
        const a = answer(
          emu,
          { syscall: opts.syscall, args: opts.args?.split(","), arch: defaultArch },
          defaultArch,
          opts.trace,
        );
        if (opts.json) {
          io.stdout(`${toJson({ ...a, trace: undefined })}\n`);
          return;
        }
        io.stdout(
          `${a.arch} ${a.syscall ?? `nr ${a.nr}`}(${opts.args ?? ""}) → ${a.text}  [${a.value}, ${a.executed} instructions${a.readArgs ? ", reads arguments" : ""}]\n`,
        );
        if (opts.trace && a.trace) {
          const listing = disassemble(prog, { arch: defaultArch });
          io.stdout(`${formatListing(a.trace.map((pc) => listing[pc]))}\n`);
        }
      },
    );
}

async function runBatch(emu: Emulator, source: string, defaultArch: ArchName, io: CliIO): Promise<void> {
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
      const a = answer(emu, q, defaultArch);
      buffered += `${JSON.stringify({ ...a, trace: undefined })}\n`;
    } catch (e) {
      throw new SysfenceError("E_USAGE", `${source}:${lineNo}: ${(e as Error).message}`, { cause: e });
    }
    if (buffered.length > 1 << 16) {
      io.stdout(buffered);
      buffered = "";
    }
  }
  io.stdout(buffered);
}
