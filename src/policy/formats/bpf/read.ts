import { decodeActionValue } from "../../../abi/action.js";
import { Emulator } from "../../../bpf/emulator.js";
import type { Insn } from "../../../bpf/insn.js";
import { decodeProgram, MAX_PROGRAM_BYTES, programTooBig } from "../../../bpf/insn.js";
import { verifyProgram } from "../../../bpf/verify.js";
import { SysfenceError } from "../../../errors.js";
import { ARCHES, type ArchName, X32_SYSCALL_BIT } from "../../../syscalls/arches.js";
import { syscallTable } from "../../../syscalls/table.js";
import { formatAction } from "../../actions.js";
import type { Action, Policy, Rule } from "../../model.js";
import type { ParsedPolicy } from "../parsed.js";

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

/** An AUDIT_ARCH value no architecture has. */
const FOREIGN = 0x12345678;

const PROBE_ARGS = [
  [0n, 0n, 0n, 0n, 0n, 0n],
  [0xffffffffffffffffn, 1n, 0x5421n, 0x80000000n, 0x100000000n, 7n],
];

/**
 * Decompiles a seccomp program into a policy by asking it: which arches it accepts, and for every known
 * syscall what it answers. Works for any compiler's output as long as decisions do not depend on
 * arguments; a program that reads arguments (or the instruction pointer) gets a clear error.
 */
export function importBpf(program: readonly Insn[], source = "<bpf>"): Policy {
  // what the kernel would refuse is not a policy: the same checks as seccomp(2) makes, before running it
  const problems = verifyProgram(program);
  if (problems.length)
    throw new SysfenceError(
      "E_BPF_INVALID",
      `${source}: the kernel would refuse this program: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more problem(s); 'sysfence disasm ${source}' lists them all)` : ""} Nothing was imported.`,
    );
  const emu = new Emulator(program);
  const ask = (arch: number, nr: number, args = PROBE_ARGS[0]) => emu.run({ nr, arch, args });
  const foreign = ask(FOREIGN, 0).value;
  // an arch the program checks for: some answer differs from an unknown arch's, or the program takes
  // another path for it (a policy whose default action is its bad-arch action answers an arch it allows
  // nothing on like an unknown one, but it still dispatches on it)
  const handled = (audit: number, nr: number) => {
    const mine = emu.run({ nr, arch: audit, args: PROBE_ARGS[0] }, { trace: true });
    const theirs = emu.run({ nr, arch: FOREIGN, args: PROBE_ARGS[0] }, { trace: true });
    return mine.value !== theirs.value || mine.trace?.join() !== theirs.trace?.join();
  };
  const arches: ArchName[] = [];
  for (const a of Object.values(ARCHES)) {
    const nr = Object.values(syscallTable(a.name))[0];
    if (a.name === "x32") {
      if (ask(a.audit, 0xffff + X32_SYSCALL_BIT).value !== foreign || ask(a.audit, nr).value !== foreign) {
        if (arches.includes("x86_64") && ask(a.audit, X32_SYSCALL_BIT + 0xfff0).value === foreign) continue;
        arches.push("x32");
      }
      continue;
    }
    if (handled(a.audit, nr) || handled(a.audit, 0x3ffff)) arches.push(a.name);
  }
  if (arches.length === 0)
    throw new SysfenceError(
      "E_BPF_INVALID",
      `${source}: the program answers every architecture the same way; nothing to decompile.`,
    );
  const defaults = arches.map((a) => ask(ARCHES[a].audit, ARCHES[a].nrBase + 0x3fff0).value);
  if (new Set(defaults).size !== 1)
    throw new SysfenceError(
      "E_BPF_INVALID",
      `${source}: unassigned syscall numbers get different answers per architecture; sysfence policies have one default action.`,
    );
  const defaultAction = decodeActionValue(defaults[0]);
  const byAction = new Map<string, { action: Action; names: Set<string> }>();
  const decided = new Map<string, string>();
  for (const a of arches) {
    const info = ARCHES[a];
    for (const [name, nr] of Object.entries(syscallTable(a))) {
      const answers = PROBE_ARGS.map((args) => ask(info.audit, nr, args));
      if (answers.some((r) => r.readArgs) || answers[0].value !== answers[1].value) {
        throw new SysfenceError(
          "E_BPF_INVALID",
          `${source}: the decision for ${name} on ${a} depends on its arguments; only argument-free programs can be decompiled (compile the original policy instead).`,
        );
      }
      const action = decodeActionValue(answers[0].value);
      const text = formatAction(action);
      const prev = decided.get(name);
      if (prev !== undefined && prev !== text)
        throw new SysfenceError(
          "E_BPF_INVALID",
          `${source}: ${name} gets '${prev}' on one arch and '${text}' on ${a}; a policy decides a name the same way everywhere.`,
        );
      decided.set(name, text);
      if (text === formatAction(defaultAction)) continue;
      const g = byAction.get(text) ?? { action, names: new Set<string>() };
      g.names.add(name);
      byAction.set(text, g);
    }
  }
  const rules: Rule[] = [...byAction.values()].map((g) => ({
    names: [...g.names].sort(),
    action: g.action,
    conditions: [],
  }));
  return { defaultAction, badArchAction: decodeActionValue(foreign), architectures: arches, rules, source };
}
