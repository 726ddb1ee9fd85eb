import type { Command } from "commander";
import type { Insn } from "../../api/policy-file.js";
import { type CliIO, toJson, UsageError } from "../io.js";
import {
  INPUT_FORMAT_HELP,
  loadAndCompile,
  loadBpf,
  looksLikeBpf,
  type PolicyOptions,
} from "../policy-input.js";

type EmuOpts = PolicyOptions & {
  arch?: string;
  syscall?: string;
  args?: string;
  batch?: string;
  trace?: boolean;
  json?: boolean;
};

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
    .action((input: string, opts: EmuOpts) => emuCommand(input, opts, io));
}

/** `sysfence emu INPUT`: the program read or compiled, asked by the library, the answer printed. */
async function emuCommand(input: string, opts: EmuOpts, io: CliIO): Promise<void> {
  const api = await import("../../api/emulate.js");
  let prog: Insn[];
  let defaultArch = api.archOrHost(opts.arch);
  if (await looksLikeBpf(input, opts.inputFormat)) prog = await loadBpf(input);
  else {
    const r = await loadAndCompile(input, { caps: opts.caps, inputFormat: opts.inputFormat }, io);
    prog = r.program;
    if (!opts.arch) defaultArch = r.resolved.arches[0].arch;
  }
  const emu = api.emulatorFor(prog);
  if (opts.batch) return api.emulateBatch(emu, opts.batch, defaultArch, io.stdout);
  if (!opts.syscall) throw new UsageError("give --syscall NAME|NR (or --batch FILE).");
  const a = api.askProgram(
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
  if (opts.trace && a.trace) io.stdout(`${api.traceListing(prog, defaultArch, a.trace)}\n`);
}
