import { actionValue } from "../abi/action.js";
import * as O from "../abi/opcodes.js";
import { OFF_ARCH, OFF_NR } from "../abi/seccomp-data.js";
import { Assembler } from "../bpf/assembler.js";
import type { Insn } from "../bpf/insn.js";
import { verifyProgram } from "../bpf/verify.js";
import { SysfenceError } from "../errors.js";
import { type LayersEnforced, seccompPolicyFor } from "../policy/landlock.js";
import type { Policy } from "../policy/model.js";
import {
  type ArchFilter,
  type ResolvedPolicy,
  resolvePolicy,
  type SyscallDecision,
} from "../policy/resolve.js";
import { ARCHES, type ArchName, X32_SYSCALL_BIT } from "../syscalls/arches.js";
import { lowerCondition } from "./lower.js";
import { type CompileStats, computeStats } from "./stats.js";
import { buildIntervals, emitSearch, type Leaf } from "./tree.js";

/** Options for compile(). */
export interface CompileOptions {
  /** Override the policy's architectures. */
  arches?: ArchName[];
  /** Skip statistics (they emulate every syscall; cheap, but not free). */
  stats?: boolean;
  /**
   * Whether the policy's Landlock layer is enforced beside this filter: rules marked needs: landlock are
   * compiled only when true (default false: the seccomp-only fallback).
   */
  landlock?: LayersEnforced;
}

/** A compiled filter. */
export interface CompileResult {
  program: Insn[];
  stats?: CompileStats;
  resolved: ResolvedPolicy;
}

const U32_END = 0x1_0000_0000;

/**
 * Compiles a policy to a seccomp BPF program. Pure: no files, no processes.
 * Layout: load arch → dispatch per AUDIT_ARCH (anything else gets badArchAction) → load nr → binary
 * search over number intervals covering all of 0..2^32-1 → a return, or an argument block for syscalls
 * with conditional rules. Argument-independent syscalls never load arguments, so the kernel's
 * per-syscall action cache (kernel/seccomp.c, seccomp_cache_prepare) can skip the filter for them.
 */
export function compile(input: Policy | ResolvedPolicy, options: CompileOptions = {}): CompileResult {
  let resolved: ResolvedPolicy;
  if ("rules" in input) {
    const own = seccompPolicyFor(input, options.landlock ?? false);
    const policy = options.arches ? { ...own, architectures: options.arches } : own;
    resolved = resolvePolicy(policy);
  } else resolved = input;
  if (resolved.arches.length === 0)
    throw new SysfenceError("E_POLICY_INVALID", "the policy names no architecture.");
  const asm = new Assembler();
  const badArch = actionValue(resolved.badArchAction);
  const byAudit = new Map<number, ArchFilter[]>();
  for (const f of resolved.arches) {
    const audit = ARCHES[f.arch].audit;
    byAudit.set(audit, [...(byAudit.get(audit) ?? []), f]);
  }
  const groups = [...byAudit.entries()];
  asm.load(OFF_ARCH);
  const entry = groups.map(() => asm.newLabel("arch"));
  groups.forEach(([audit], i) => {
    const next = asm.newLabel("notarch");
    asm.jump(O.BPF_JEQ, audit, entry[i], next).label(next);
  });
  asm.ret(badArch);
  groups.forEach(([audit, filters], i) => {
    asm.label(entry[i]).load(OFF_NR);
    const little = ARCHES[filters[0].arch].littleEndian;
    const intervals = buildIntervals(segmentsFor(audit, filters, resolved));
    emitSearch(asm, intervals, (leaf) => emitLeaf(asm, leaf, little, actionValue(resolved.defaultAction)));
  });
  const program = asm.assemble();
  if (program.length > O.BPF_MAXINSNS) {
    throw new SysfenceError(
      "E_PROGRAM_TOO_LONG",
      `too many BPF instructions: ${program.length}; the kernel's limit is ${O.BPF_MAXINSNS} (BPF_MAXINSNS). Split the policy or drop argument rules.`,
    );
  }
  const problems = verifyProgram(program);
  if (problems.length)
    throw new SysfenceError(
      "E_BPF_INVALID",
      `internal error: the compiled program would be rejected by the kernel:\n${problems.join("\n")}`,
    );
  return { program, resolved, stats: options.stats === false ? undefined : computeStats(program, resolved) };
}

function decisionLeaf(d: SyscallDecision): Leaf {
  return d.conditional.length
    ? { kind: "args", decision: d }
    : { kind: "ret", value: actionValue(d.fallback) };
}

function segmentsFor(audit: number, filters: ArchFilter[], resolved: ResolvedPolicy) {
  const def: Leaf = { kind: "ret", value: actionValue(resolved.defaultAction) };
  const bad: Leaf = { kind: "ret", value: actionValue(resolved.badArchAction) };
  const leaves = (f: ArchFilter | undefined) =>
    f ? f.syscalls.map((d) => ({ nr: d.nr, leaf: decisionLeaf(d) })) : [];
  if (audit === ARCHES.x86_64.audit) {
    // x86_64 and x32 share AUDIT_ARCH_X86_64; x32 numbers carry __X32_SYSCALL_BIT. A half whose ABI the
    // policy does not name is a foreign architecture.
    const x64 = filters.find((f) => f.arch === "x86_64");
    const x32 = filters.find((f) => f.arch === "x32");
    // nr -1 is what a tracer leaves when it skips a call: it gets the default action, never the
    // foreign-arch one (as libseccomp does), so ptrace-skipped calls do not kill the process.
    return [
      { lo: 0, hi: X32_SYSCALL_BIT, filler: x64 ? def : bad, decisions: leaves(x64) },
      { lo: X32_SYSCALL_BIT, hi: U32_END - 1, filler: x32 ? def : bad, decisions: leaves(x32) },
      { lo: U32_END - 1, hi: U32_END, filler: def, decisions: [] },
    ];
  }
  return [{ lo: 0, hi: U32_END, filler: def, decisions: leaves(filters[0]) }];
}

function emitLeaf(asm: Assembler, leaf: Leaf, littleEndian: boolean, defaultValue: number): void {
  if (leaf.kind === "ret") {
    asm.ret(leaf.value);
    return;
  }
  const d = leaf.decision;
  // The word A holds when the next rule starts: known after a one-condition rule that left A alone, so
  // several rules on one argument (personality == 0 or 8 or …) load it once.
  let holding: number | undefined;
  d.conditional.forEach((rule) => {
    const nextRule = asm.newLabel("rule");
    const accept = asm.newLabel("accept");
    let left: number | undefined;
    rule.conditions.forEach((c, i) => {
      const pass = i === rule.conditions.length - 1 ? accept : asm.newLabel("and");
      left = lowerCondition(asm, c, littleEndian, pass, nextRule, i === 0 ? holding : undefined);
      if (pass !== accept) asm.label(pass);
    });
    holding = rule.conditions.length === 1 ? left : undefined;
    asm.label(accept).ret(actionValue(rule.action));
    asm.label(nextRule);
  });
  asm.ret(actionValue(d.fallback) ?? defaultValue);
}
