// The attack surface of a policy (or of the policy a profile implies), as data the text, Markdown, HTML
// and JSON views all render.

import { generatePolicy } from "../generate/generate.js";
import { formatAction } from "../policy/actions.js";
import { formatCondition } from "../policy/conditions.js";
import type { Policy, Rule } from "../policy/model.js";
import { referenceDecide } from "../policy/reference.js";
import { indexRules } from "../policy/resolve.js";
import type { Profile } from "../record/profile.js";
import { ARCHES, type ArchName } from "../syscalls/arches.js";
import { evalValue } from "../syscalls/constants.js";
import { describeSyscall } from "../syscalls/descriptions.js";
import { expandGroup, groupDescription, groupNames } from "../syscalls/groups.js";
import { syscallNumber, syscallTable } from "../syscalls/table.js";
import { type RecordingSummary, summarizeRecording } from "./recording.js";

/** How a policy treats one syscall. */
export type Treatment = "allow" | "restricted" | "errno" | "denied";

export interface SyscallRow {
  name: string;
  nr: number;
  treatment: Treatment;
  /** The answer when it is not allowed; the conditions when restricted. */
  detail: string;
  description: string;
  /** Calls recorded (profile reports). */
  seen?: number;
}

export interface GroupRow {
  name: string;
  description: string;
  members: number;
  allowed: number;
  status: "full" | "partial" | "none";
}

export interface RiskRow {
  what: string;
  why: string;
  treatment: Treatment;
}

/** A report on a profile or policy: its default action, the syscalls and groups it allows, the risky ones with their treatment, and the tiers of a generated policy. */
export interface Report {
  title: string;
  source: string;
  kind: "profile" | "policy";
  arch: ArchName;
  defaultAction: string;
  known: number;
  allowed: number;
  syscalls: SyscallRow[];
  groups: GroupRow[];
  risky: RiskRow[];
  /** Generated policies with tiers (generate --static): syscalls per tier, and what the analysis missed. */
  tiers?: {
    seen: number;
    always: number;
    staticAllowed: number;
    staticAnswered: number;
    /** How the static high-risk tier is answered (errno EPERM, log, …). */
    staticAnswer: string;
    /** Its syscalls per answer, when they differ (a burn-in after finalize: errno EPERM and log). */
    staticByAnswer?: Record<string, number>;
    impossible: number;
    unresolved?: number;
    programs?: string[];
  };
  profile?: {
    command: string;
    complete: boolean;
    calls: number;
    phaseBoundary?: string;
    /** images: set on an entry that stands for that many images of one program (threads: its roles). */
    processes: { exe: string; pid: number; threads: number; images?: number; calls: number }[];
    files: [string, number][];
    sockets: [string, number][];
    top: [string, number][];
    /** Calls by phase, by program, over time (report/recording.ts). */
    summary: RecordingSummary;
  };
}

/** Calls (and call shapes) that matter most when they stay allowed, and why. */
const RISKS: { what: string; syscall: string; args?: string[]; why: string }[] = [
  { what: "execve", syscall: "execve", why: "runs a new program: the step from a bug to a shell" },
  {
    what: "execveat",
    syscall: "execveat",
    why: "runs a new program from a file descriptor (fileless execution with memfd_create)",
  },
  {
    what: "ptrace",
    syscall: "ptrace",
    why: "reads and writes other processes' memory and registers; defeats every other boundary between processes of one user",
  },
  {
    what: "process_vm_writev",
    syscall: "process_vm_writev",
    why: "writes straight into another process's memory",
  },
  {
    what: "process_vm_readv",
    syscall: "process_vm_readv",
    why: "reads another process's memory (secrets, keys)",
  },
  {
    what: "bpf",
    syscall: "bpf",
    why: "loads programs into the kernel: a large attack surface with a history of privilege escalations",
  },
  {
    what: "perf_event_open",
    syscall: "perf_event_open",
    why: "performance counters: kernel attack surface and side channels",
  },
  {
    what: "userfaultfd",
    syscall: "userfaultfd",
    why: "lets an exploit pause the kernel in the middle of a copy: a standard tool for race exploits",
  },
  {
    what: "keyctl",
    syscall: "keyctl",
    why: "kernel keyrings are not namespaced and have a history of kernel bugs",
  },
  { what: "add_key", syscall: "add_key", why: "kernel keyrings are not namespaced" },
  {
    what: "mount",
    syscall: "mount",
    why: "changes what the filesystem looks like to everyone in the mount namespace",
  },
  { what: "pivot_root", syscall: "pivot_root", why: "changes the root filesystem" },
  {
    what: "unshare",
    syscall: "unshare",
    why: "new namespaces: user namespaces open kernel code normally reserved for root",
  },
  {
    what: "setns",
    syscall: "setns",
    why: "joins another namespace (a container escape when a namespace fd leaks)",
  },
  {
    what: "clone(CLONE_NEWUSER)",
    syscall: "clone",
    args: ["CLONE_NEWUSER"],
    why: "a new user namespace: root-only kernel code becomes reachable",
  },
  {
    what: "io_uring_setup",
    syscall: "io_uring_setup",
    why: "I/O submitted through io_uring runs inside the kernel where seccomp never sees it",
  },
  {
    what: "socket(AF_PACKET)",
    syscall: "socket",
    args: ["AF_PACKET", "SOCK_RAW"],
    why: "raw packet sockets: sniffing and spoofing on the host's interfaces",
  },
  {
    what: "socket(AF_INET, SOCK_RAW)",
    syscall: "socket",
    args: ["AF_INET", "SOCK_RAW"],
    why: "raw IP sockets: spoofing, and a rarely audited kernel path",
  },
  {
    what: "socket(AF_NETLINK, NETLINK_NETFILTER)",
    syscall: "socket",
    args: ["AF_NETLINK", "SOCK_RAW", "NETLINK_NETFILTER"],
    why: "netlink beyond NETLINK_ROUTE's interface queries (netfilter, audit, xfrm …): configures the kernel's network stack, a frequent source of bugs",
  },
  {
    what: "open_by_handle_at",
    syscall: "open_by_handle_at",
    why: "the 'shocker' container escape: opens files outside the mount namespace",
  },
  { what: "init_module", syscall: "init_module", why: "loads kernel code" },
  { what: "finit_module", syscall: "finit_module", why: "loads kernel code" },
  { what: "kexec_load", syscall: "kexec_load", why: "replaces the running kernel" },
  { what: "iopl", syscall: "iopl", why: "direct hardware I/O port access" },
  {
    what: "personality(READ_IMPLIES_EXEC)",
    syscall: "personality",
    args: ["READ_IMPLIES_EXEC"],
    why: "makes every readable mapping executable",
  },
  {
    what: "memfd_create",
    syscall: "memfd_create",
    why: "anonymous files: with execveat, fileless execution",
  },
  { what: "chroot", syscall: "chroot", why: "changes the root directory (with other privileges, an escape)" },
];

/** Which rules decide a syscall, by sysfence's precedence. */
function rulesFor(index: ReturnType<typeof indexRules>, name: string): Rule[] {
  return index.direct.get(name) ?? index.viaGroup.get(name) ?? [];
}

function treatmentOf(
  policy: Policy,
  index: ReturnType<typeof indexRules>,
  name: string,
): { treatment: Treatment; detail: string } {
  const rules = rulesFor(index, name);
  const uncond = rules.find((r) => r.conditions.length === 0)?.action ?? policy.defaultAction;
  const conditional = rules.filter((r) => r.conditions.length > 0);
  const allows = (a: Rule["action"]) => a.kind === "allow" || a.kind === "log";
  const differing = conditional.filter((r) => allows(r.action) !== allows(uncond));
  if (differing.length > 0 && (allows(uncond) || differing.some((r) => allows(r.action)))) {
    const detail = differing
      .map(
        (r) =>
          `${allows(r.action) ? "allow" : formatAction(r.action)} when ${r.conditions.map((c) => c.text ?? formatCondition(c)).join(" && ")}`,
      )
      .join("; ");
    return {
      treatment: "restricted",
      detail: `${detail}; otherwise ${allows(uncond) ? "allow" : formatAction(uncond)}`,
    };
  }
  if (allows(uncond)) return { treatment: "allow", detail: "" };
  return { treatment: uncond.kind === "errno" ? "errno" : "denied", detail: formatAction(uncond) };
}

/** One row per syscall of `arch`'s table: how the policy treats it, and how often it was seen. */
function syscallRows(policy: Policy, arch: ArchName, profile?: Profile): SyscallRow[] {
  const table = syscallTable(arch);
  const index = indexRules(policy);
  const seen = profile?.syscalls ?? {};
  return Object.entries(table)
    .map(([name, nr]) => {
      const t = treatmentOf(policy, index, name);
      const c = seen[name];
      return { name, nr, ...t, description: describeSyscall(name), ...(c ? { seen: c.setup + c.work } : {}) };
    })
    .sort((a, b) => a.nr - b.nr);
}

/** Each group with members in the table: how many of them are allowed. */
function groupRows(byName: Map<string, SyscallRow>): GroupRow[] {
  const isAllowed = (n: string) => {
    const t = byName.get(n)?.treatment;
    return t === "allow" || t === "restricted";
  };
  return groupNames()
    .filter((g) => g !== "@known")
    .map((g) => {
      const members = (expandGroup(g) ?? []).filter((m) => byName.has(m));
      const allowed = members.filter(isAllowed).length;
      const status: GroupRow["status"] =
        allowed === 0 ? "none" : allowed === members.length ? "full" : "partial";
      return { name: g, description: groupDescription(g), members: members.length, allowed, status };
    })
    .filter((g) => g.members > 0);
}

/** The risky calls of RISKS that `arch` has, each with the policy's answer (for its arguments, when given). */
function riskyRows(policy: Policy, arch: ArchName, byName: Map<string, SyscallRow>): RiskRow[] {
  const audit = ARCHES[arch].audit;
  const risky: RiskRow[] = [];
  for (const r of RISKS) {
    const nr = syscallNumber(arch, r.syscall);
    if (nr === undefined) continue;
    const row = byName.get(r.syscall);
    if (!row) continue;
    let treatment = row.treatment;
    if (r.args) {
      const args = r.args.map((a) => evalValue(a));
      const action = referenceDecide(policy, {
        arch: audit,
        nr,
        args: [...args, 0n, 0n, 0n, 0n, 0n].slice(0, 6),
      });
      treatment =
        action.kind === "allow" || action.kind === "log"
          ? "allow"
          : action.kind === "errno"
            ? "errno"
            : "denied";
    }
    risky.push({ what: r.what, why: r.why, treatment });
  }
  return risky;
}

/** How many calls each tier of a generated policy allows or answers (for a policy whose rules carry tiers). */
function tierCounts(policy: Policy, syscalls: SyscallRow[]): NonNullable<Report["tiers"]> {
  const perTier = (t: string, allowed?: boolean) =>
    new Set(
      policy.rules
        .filter((r) => r.tier === t && (allowed === undefined || (r.action.kind === "allow") === allowed))
        .flatMap((r) => r.names),
    );
  const mentioned = new Set(policy.rules.flatMap((r) => r.names));
  const high = policy.rules.find((r) => r.tier === "static-high" && r.action.kind !== "allow");
  const byAnswer: Record<string, Set<string>> = {};
  for (const r of policy.rules) {
    if (r.tier !== "static-high" || r.action.kind === "allow") continue;
    const answer = formatAction(r.action);
    byAnswer[answer] = new Set([...(byAnswer[answer] ?? []), ...r.names]);
  }
  return {
    seen: perTier("seen").size,
    always: perTier("always").size,
    staticAllowed: perTier("static-low").size + perTier("static-high", true).size,
    staticAnswered: perTier("static-high", false).size,
    staticAnswer: high ? formatAction(high.action) : "none",
    ...(Object.keys(byAnswer).length > 1
      ? { staticByAnswer: Object.fromEntries(Object.entries(byAnswer).map(([a, s]) => [a, s.size])) }
      : {}),
    impossible: syscalls.filter((s) => !mentioned.has(s.name)).length,
    unresolved: policy.analysis?.unresolved,
    programs: policy.analysis?.programs,
  };
}

/** What was recorded: the command, its processes, the files and sockets, the most frequent calls. */
function profileSection(profile: Profile): NonNullable<Report["profile"]> {
  const paths = Object.entries(profile.paths ?? {});
  const isSocket = (p: string) => /^(unix|inet6?):/.test(p);
  return {
    command: profile.command.join(" "),
    complete: profile.complete,
    calls: Object.values(profile.syscalls).reduce((a, c) => a + c.setup + c.work, 0),
    phaseBoundary: profile.phaseBoundary,
    processes: profile.processes.map((p) => ({
      exe: p.exe,
      pid: p.pid,
      threads: p.threads.length,
      ...(p.images ? { images: p.images } : {}),
      calls: p.threads.reduce(
        (a, t) => a + Object.values(t.syscalls).reduce((x, c) => x + c.setup + c.work, 0),
        0,
      ),
    })),
    files: paths.filter(([p]) => !isSocket(p)).slice(0, 200),
    sockets: paths.filter(([p]) => isSocket(p)).slice(0, 100),
    top: Object.entries(profile.syscalls)
      .map(([n, c]) => [n, c.setup + c.work] as [string, number])
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15),
    summary: summarizeRecording(profile),
  };
}

/** Builds the report of a policy; `profile` adds what was recorded. */
export function buildReport(policy: Policy, source: string, profile?: Profile): Report {
  const arch = (policy.architectures.find((a) => a === "x86_64") ??
    policy.architectures[0] ??
    "x86_64") as ArchName;
  const syscalls = syscallRows(policy, arch, profile);
  const byName = new Map(syscalls.map((s) => [s.name, s]));
  const groups = groupRows(byName);
  const risky = riskyRows(policy, arch, byName);
  const allowed = syscalls.filter((s) => s.treatment === "allow" || s.treatment === "restricted").length;
  const report: Report = {
    title: profile ? `sysfence report: ${profile.command.join(" ")}` : `sysfence report: ${source}`,
    source,
    kind: profile ? "profile" : "policy",
    arch,
    defaultAction: formatAction(policy.defaultAction),
    known: syscalls.length,
    allowed,
    syscalls,
    groups,
    risky,
  };
  if (policy.rules.some((r) => r.tier)) report.tiers = tierCounts(policy, syscalls);
  if (profile) report.profile = profileSection(profile);
  return report;
}

/** The report of a profile: the policy `generate` would write for it, plus what was recorded. */
export function reportOfProfile(profile: Profile, source: string): Report {
  const g = generatePolicy([profile], { phase: "all" });
  return buildReport(g.policy, source, profile);
}

/** "(pid 12): 3 thread(s), 900 calls", or for a folded entry "(4000 images, the first pid 12): 900 calls". */
export function processSummary(x: { pid: number; threads: number; images?: number; calls: number }): string {
  return x.images
    ? `(${x.images} images, the first pid ${x.pid}): ${x.calls} calls`
    : `(pid ${x.pid}): ${x.threads} thread(s), ${x.calls} calls`;
}
