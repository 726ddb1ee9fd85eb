// The bpf engine's program: the bpftrace script that counts a recording's calls in the kernel (pure text
// from the phase, the architecture and the processes to seed; bpf.ts runs it, output.ts reads what it prints).
import { type ArchName, nativeArch } from "../../../syscalls/arches.js";
import { syscallNumber, syscallTable } from "../../../syscalls/table.js";
import type { PhaseSpec } from "../../builder.js";
import { INTERESTING_ARGS } from "../../profile.js";

/**
 * The arguments counted by value: the generator's, except those that are pointers to what the generator
 * reads (clone3's flags live in a struct in memory; its register is an address, never flags).
 */
export const VALUE_ARGS = new Map(Object.entries(INTERESTING_ARGS).filter(([name]) => name !== "clone3"));
const valueArgs = () => VALUE_ARGS.entries();

/**
 * The two words every count is keyed by (output.ts's unpack reads them back): the process and its state
 * ($s: image and phase), the thread and the syscall ($id).
 */
const PROCESS_KEY = "((uint64)pid << 32) | (uint64)(uint32)$s";
const THREAD_KEY = "((uint64)tid << 32) | (uint64)(uint32)$id";

/**
 * Processes already running (record --pid): traced from the start, and all their calls are work. With
 * `namespaced`, the tgids are pids in bpftrace's own PID namespace (sysfence runs in a container or under
 * `unshare -p`), while the kernel's tracepoints and bpftrace's pid builtin give pids in the initial one.
 */
export interface BpfSeed {
  tgids: readonly number[];
  namespaced?: boolean;
}

/**
 * The struct upid of a struct pid at level $lvl (struct pid ends with numbers[level + 1], an array bpftrace
 * 0.17 cannot index: its address is taken past the struct's size).
 */
const upidAt = (pid: string, lvl: string) =>
  `(struct upid *)((uint64)${pid} + sizeof(struct pid) + ${lvl} * sizeof(struct upid))`;

/**
 * Namespaced seeds: BEGIN notes bpftrace's namespace (its level and struct pid_namespace) and the wanted
 * pids; a call from a process not yet traced whose thread-group leader has a wanted pid in that namespace
 * starts its tracing, under its initial-namespace pid, and streams "S NSPID PID" so the adapter knows it.
 * A process is mapped at its first call in the recording (one that makes none has nothing to count).
 */
function namespacedSeed(seed: BpfSeed): { begin: string; enter: string; end: string } {
  const want = seed.tgids.map((g) => `@want[${g}] = 1;`).join(" ");
  return {
    begin: `@lvl = curtask->thread_pid->level; $me = ${upidAt("curtask->thread_pid", "@lvl")}; @pidns = (uint64)$me->ns; ${want}`,
    enter: `
  if ($s == 0) {
    $gp = curtask->group_leader->thread_pid;
    if ($gp->level >= @lvl) {
      $u = ${upidAt("$gp", "@lvl")};
      $nr = $u->nr;
      if ((uint64)$u->ns == @pidns && @want[$nr]) {
        delete(@want[$nr]);
        $s = 3;
        @st[pid] = 3;
        printf("S %d %d\\n", $nr, pid);
      }
    }
  }`,
    end: " clear(@want); clear(@lvl); clear(@pidns);",
  };
}

/**
 * The bpftrace program. Image numbers come from @img[pid], which counts every fork and exec a pid has had
 * in the recording and is never cleared, so a pid the kernel reuses (after pid_max, 32768 by default on
 * small machines) gets new image numbers and its counts never merge with its earlier process's (past the
 * map's size a number can repeat: the adapter sees that and counts it as loss).
 * @st[tgid] is a traced process's state in one word — image << 3 | 4 (the launcher,
 * before its exec: only its main thread is the recording's) | 2 (traced) | 1 (work phase) —
 * so a call costs one lookup to decide whether it is traced and under which image and phase, and one count
 * update: calls with values the generator uses are counted in @c by (process and state, thread and
 * syscall, values), all others in @d by the first two alone (a shorter key to hash). A process's entry
 * lives until its last thread exits (its pid may then be another process's); a thread's own entry (made at
 * its clone, where a thread and a process look alike) is never looked up while it lives and goes with it.
 * An exec by a thread other than the leader takes over the leader's pid (the leader exits first, with the
 * group still alive): the process keeps its entry and the exec is seen under the leader's pid.
 */
export function bpftraceScript(phase: PhaseSpec, arch = nativeArch(), seed?: BpfSeed): string {
  const { picks, reads } = argumentPicks(arch);
  const { firstCond, delay } = phaseParts(phase, arch);
  const ns = seed?.namespaced ? namespacedSeed(seed) : undefined;
  const begin = ns ? ns.begin : seed ? seed.tgids.map((g) => `@st[${g}] = 3;`).join(" ") : "@st[$1] = 6;";
  // the launcher's other threads (Node's) run until its exec ends them: not the program's calls
  const ours = "(($s & 4) == 0 || tid == pid)";
  return `
BEGIN { ${begin} printf("READY\\n"); }
tracepoint:sched:sched_process_fork /@st[pid]/ {
  $c = args->child_pid;
  $g = @img[$c] + 1;
  @img[$c] = $g;
  @st[$c] = ($g << 3) | (@st[pid] & 1) | 2;
  printf("F %d %d %d %d %d\\n", pid, args->parent_pid, $c, $g, @st[pid] >> 3);
}
tracepoint:sched:sched_process_exec /@st[pid]/ {
  if (args->old_pid != pid) { delete(@st[args->old_pid]); }
  $o = @st[pid];
  $g = @img[pid] + 1;
  @img[pid] = $g;
  $s = ($g << 3) | ($o & 3);
  @st[pid] = $s;
  printf("E %d %d %d %s\\n", pid, tid, $s >> 3, str(args->filename));
}
tracepoint:signal:signal_deliver /@st[pid]/ { $s = @st[pid]; if (${ours}) { @sig[args->sig] = count(); } }
tracepoint:sched:sched_process_exit /@st[pid]/ {
  if (tid != pid) { delete(@st[tid]); }
  if (curtask->signal->live.counter == 0) {
    $x = @st[pid];
    delete(@st[pid]);
    printf("X %d %d %d %d\\n", pid, tid, curtask->exit_code, $x >> 3);
  }
}
tracepoint:raw_syscalls:sys_enter {
  $s = @st[pid];${ns?.enter ?? ""}
  if ($s != 0 && ${ours}) {
    // (ctx fields read once into variables: the kernel's verifier refuses bpftrace's re-derived ctx pointers)
    $id = args->id;${delay}
    ${reads}
    $has = 0; $v0 = (uint64)0; $v1 = (uint64)0; $v2 = (uint64)0;
${pickTree(picks, "    ")}
    $k0 = ${PROCESS_KEY};
    $k1 = ${THREAD_KEY};
    if ($has) { @c[$k0, $k1, $v0, $v1, $v2] = count(); } else { @d[$k0, $k1] = count(); }
    @n = count();
  }
}
tracepoint:raw_syscalls:sys_exit {
  $ret = args->ret;
  $id = args->id;
  if ($ret < 0 && $ret >= -4095) {
    $s = @st[pid];
    if ($s != 0 && ${ours}) { @e[${PROCESS_KEY}, ${THREAD_KEY}] = count(); }
  }${
    firstCond
      ? `
  if (${firstCond}) {
    $w = @st[pid];
    if ($w != 0) { @st[pid] = $w | 1; }
  }`
      : ""
  }
}
END { clear(@st); clear(@img);${phase.kind === "delay" ? " clear(@t0);" : ""}${ns?.end ?? ""} }
`;
}

/**
 * The value picks by syscall number (sorted: pickTree's binary search), and the reads of the argument
 * registers they use.
 */
function argumentPicks(arch: ArchName): { picks: [number, string][]; reads: string } {
  const picks: [number, string][] = [];
  for (const [name, idx] of valueArgs()) {
    const nr = syscallNumber(arch, name);
    if (nr === undefined || idx.length === 0) continue;
    const set = idx
      .slice(0, 3)
      .map((i, k) => `$v${k} = $a${i};`)
      .join(" ");
    picks.push([nr, `$has = 1; ${set}`]);
  }
  picks.sort((a, b) => a[0] - b[0]);
  // the argument registers the picks use, read once each: an access of args->args in every pick made
  // bpftrace's compile of the program take a second longer (the recording's start-up)
  const regs = Math.max(-1, ...[...valueArgs()].flatMap(([, idx]) => idx.slice(0, 3))) + 1;
  const reads = Array.from({ length: regs }, (_, i) => `$a${i} = (uint64)args->args[${i}];`).join(" ");
  return { picks, reads };
}

/**
 * Where the work phase begins, in the script: the condition on the syscall of --after first:SYSCALL (empty:
 * none), and the check of --after delay:SECONDS made at each call (empty: none).
 */
function phaseParts(phase: PhaseSpec, arch: ArchName): { firstCond: string; delay: string } {
  const firstNrs =
    phase.kind === "first" ? Object.keys(syscallTable(arch)).filter((n) => matches(phase.syscall, n)) : [];
  const firstCond = firstNrs.map((n) => `$id == ${syscallNumber(arch, n)}`).join(" || ");
  // delay:SECONDS: every process is in the work phase from that long after the first traced call on
  const delay =
    phase.kind === "delay"
      ? `
    if (@t0 == 0) { @t0 = nsecs; }
    if (($s & 1) == 0 && nsecs - @t0 >= ${Math.round(phase.seconds * 1e9)}) { $s = $s | 1; @st[pid] = $s; }`
      : "";
  return { firstCond, delay };
}

/**
 * The argument picks as a binary search on the syscall number: about six comparisons per call instead of
 * one per syscall with values (35 on x86_64) — on a call-heavy program that chain was a visible part of
 * the engine's per-call cost.
 */
function pickTree(picks: readonly [number, string][], indent: string): string {
  if (picks.length <= 2) return picks.map(([nr, set]) => `${indent}if ($id == ${nr}) { ${set} }\n`).join("");
  const mid = picks.length >> 1;
  const more = `${indent}  `;
  return `${indent}if ($id < ${picks[mid][0]}) {\n${pickTree(picks.slice(0, mid), more)}${indent}} else {\n${pickTree(picks.slice(mid), more)}${indent}}\n`;
}

const matches = (pattern: string, name: string) =>
  pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
