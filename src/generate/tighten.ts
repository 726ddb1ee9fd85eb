// Argument rules for one recorded syscall: pin what is stable and meaningful, never what varies by run.
import type { Condition } from "../policy/model.js";
import { VALUES_OMITTED } from "../record/profile.js";
import type { ArchName } from "../syscalls/arches.js";
import { ascending } from "../util/order.js";
import { product, seenTogether } from "./combos.js";
import { ORDINARY, type OrdinaryCase, resolveCase, UDP_CASES } from "./ordinary.js";
import type { SeenCall } from "./select.js";
import { nameValue, parseArgValue } from "./symbols.js";

/**
 * How far to tighten arguments. safe (the default): the ordinary values of each argument (ordinary.ts) plus
 * the values seen; pin: only the values seen; strict: pin, and pin more arguments; off: no argument rules.
 * Whatever a rule does not allow is answered EPERM and logged (generate.ts), never killed.
 */
export type ArgsMode = "strict" | "safe" | "pin" | "off";
export const ARGS_MODES: readonly ArgsMode[] = ["strict", "safe", "pin", "off"];

/** The conditions of one allow rule; several rules for a syscall OR together. */
export type Alternative = Condition[];

/** What tightening decided for one syscall. */
export interface Tightening {
  /** Empty: allow the call whatever its arguments. */
  alternatives: Alternative[];
  /** One line for the rule's comment ("ioctl requests seen: FIONBIO, TCGETS"). */
  why?: string;
  /** Something the user should know (a value that could not be read exactly). */
  warning?: string;
  /** The ordinary values the rules allow beside the seen ones (safe mode), for the comment. */
  ordinary?: string;
}

const CLONE_NEW_MASK = 0x7e020000n; // NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
const PROT_EXEC = 4n;

/** Pin one argument to the values seen (OR of ==). */
interface PinSpec {
  kind: "pin";
  arg: number;
  mask?: bigint;
  mode: "safe" | "strict";
}
/** Forbid bits never seen (e.g. PROT_EXEC, CLONE_NEW*). */
interface ForbidSpec {
  kind: "forbid";
  arg: number;
  bits: bigint;
  mode: "safe" | "strict";
  /** Forbid them even when the recording kept no values for the argument. */
  evenUnseen?: boolean;
}
type Spec = PinSpec | ForbidSpec;

/** What `safe` and `strict` tighten, per syscall. */
export const TIGHTEN: Record<string, Spec[]> = {
  ioctl: [{ kind: "pin", arg: 1, mode: "safe" }],
  // socket, socketpair, setsockopt, getsockopt: every argument pinned, to the combinations seen together
  // (combos.ts; a family is not allowed with every type seen, nor a level with every option seen)
  socket: [
    { kind: "pin", arg: 0, mode: "safe" },
    { kind: "pin", arg: 1, mask: 0xfn, mode: "safe" },
    { kind: "pin", arg: 2, mode: "safe" },
  ],
  socketpair: [
    { kind: "pin", arg: 0, mode: "safe" },
    { kind: "pin", arg: 1, mask: 0xfn, mode: "safe" },
    { kind: "pin", arg: 2, mode: "safe" },
  ],
  clone: [
    { kind: "forbid", arg: 0, bits: CLONE_NEW_MASK, mode: "safe", evenUnseen: true },
    { kind: "pin", arg: 0, mode: "strict" },
  ],
  unshare: [{ kind: "pin", arg: 0, mode: "safe" }],
  prctl: [{ kind: "pin", arg: 0, mode: "safe" }],
  fcntl: [{ kind: "pin", arg: 1, mode: "safe" }],
  mmap: [{ kind: "forbid", arg: 2, bits: PROT_EXEC, mode: "safe" }],
  mprotect: [{ kind: "forbid", arg: 2, bits: PROT_EXEC, mode: "safe" }],
  pkey_mprotect: [{ kind: "forbid", arg: 2, bits: PROT_EXEC, mode: "safe" }],
  personality: [{ kind: "pin", arg: 0, mode: "safe" }],
  setsockopt: [
    { kind: "pin", arg: 1, mode: "safe" },
    { kind: "pin", arg: 2, mode: "safe" },
  ],
  getsockopt: [
    { kind: "pin", arg: 1, mode: "safe" },
    { kind: "pin", arg: 2, mode: "safe" },
  ],
  madvise: [{ kind: "pin", arg: 2, mode: "strict" }],
  futex: [{ kind: "pin", arg: 1, mode: "strict" }],
  arch_prctl: [{ kind: "pin", arg: 0, mode: "strict" }],
  kill: [{ kind: "pin", arg: 1, mode: "strict" }],
  tgkill: [{ kind: "pin", arg: 2, mode: "strict" }],
  prlimit64: [{ kind: "pin", arg: 1, mode: "strict" }],
  shutdown: [{ kind: "pin", arg: 1, mode: "strict" }],
  setns: [{ kind: "pin", arg: 1, mode: "safe" }],
};

/** A mask reads best as its flag names, else in hex. */
function maskText(call: string, arg: number, mask: bigint, arch?: ArchName): string {
  const named = nameValue(call, arg, mask, undefined, arch);
  return /^\d+$/.test(named) ? `0x${mask.toString(16)}` : named;
}

function cond(
  call: string,
  arg: number,
  op: Condition["op"],
  value: bigint,
  mask: bigint | undefined,
  arch: ArchName | undefined,
): Condition {
  const v = nameValue(call, arg, value, undefined, arch);
  const text =
    op === "&=="
      ? `arg${arg} & ${maskText(call, arg, mask ?? 0n, arch)} == ${value === 0n ? "0" : v}`
      : `arg${arg} ${op} ${v}`;
  return { arg, op, value, mask, text };
}

/** What a user grants beyond the recording (generate's options). */
export interface Grants {
  /** socket: UDP over IPv4 and IPv6 as if seen (--allow-udp). */
  allowUdp?: boolean;
}

/**
 * Decides the argument rules for one seen call, recorded on `arch` (its values are that architecture's:
 * names are written only where they mean the same number there).
 */
export function tighten(call: SeenCall, mode: ArgsMode, arch?: ArchName, grants: Grants = {}): Tightening {
  const specs = (TIGHTEN[call.name] ?? []).filter(
    (s) => mode === "strict" || ((mode === "safe" || mode === "pin") && s.mode === "safe"),
  );
  if (specs.length === 0) return { alternatives: [] };
  // strict pins of clone flags make the safe "forbid" redundant
  const pinned = new Set(specs.filter((s) => s.kind === "pin").map((s) => s.arg));
  const effective = specs.filter((s) => !(s.kind === "forbid" && pinned.has(s.arg)));
  const perArg: Alternative[][] = [];
  const why: string[] = [];
  const pins: { spec: PinSpec; masked: bigint[] }[] = [];
  for (const spec of effective) {
    const texts = Object.keys(call.args[spec.arg] ?? {});
    const values: bigint[] = [];
    for (const t of texts) {
      const v = parseArgValue(t, arch);
      if (v === undefined)
        return {
          alternatives: [],
          warning:
            t === VALUES_OMITTED
              ? `${call.name}: argument ${spec.arg} had more distinct values than the recording keeps; the call is allowed with any arguments`
              : `${call.name}: argument ${spec.arg} value '${t}' is not an exact number (record with sysfence record, which uses strace -X raw); the call is allowed with any arguments`,
        };
      values.push(v);
    }
    // no recorded values (ftrace's clone3, audit records): nothing is known, so nothing is pinned or
    // forbidden — except namespace flags, which a program that never recorded them does not need
    if (values.length === 0 && !(spec.kind === "forbid" && spec.evenUnseen)) continue;
    if (spec.kind === "pin") {
      const masked = [...new Set(values.map((v) => (spec.mask === undefined ? v : v & spec.mask)))].sort(
        ascending,
      );
      pins.push({ spec, masked });
      perArg.push(
        masked.map((v) => [
          cond(call.name, spec.arg, spec.mask === undefined ? "==" : "&==", v, spec.mask, arch),
        ]),
      );
      why.push(
        `arg${spec.arg} ${spec.mask === undefined ? "" : `& ${maskText(call.name, spec.arg, spec.mask, arch)} `}seen: ${masked.map((v) => nameValue(call.name, spec.arg, v, undefined, arch)).join(", ")}`,
      );
    } else {
      const seenBits = values.reduce((acc, v) => acc | v, 0n) & spec.bits;
      const bits = spec.bits & ~seenBits;
      if (bits === 0n) continue;
      perArg.push([[cond(call.name, spec.arg, "&==", 0n, bits, arch)]]);
      why.push(
        `never with ${bits === CLONE_NEW_MASK ? "CLONE_NEW* (namespaces)" : nameValue(call.name, spec.arg, bits, undefined, arch)}`,
      );
    }
  }
  if (perArg.length === 0) return { alternatives: [] };
  let alternatives: Alternative[];
  if (pins.length > 1 && pins.length === perArg.length) {
    // several pinned arguments: the combinations seen together (never every value of one with every
    // value of another), and any combination of the values of calls recorded without them
    const j = jointly(call, pins, arch);
    alternatives = j.alternatives;
    why.splice(0, why.length, ...j.why);
  } else {
    // the product of the per-argument choices (each rule ANDs one choice per argument)
    alternatives = product(perArg).map((choice) => choice.flat());
  }
  const seen = granted(call.name, alternatives, why, grants, arch);
  const ordinary = mode === "safe" ? ordinaryAlternatives(call.name, arch) : [];
  if (ordinary.length === 0) return { alternatives: seen, why: why.join("; ") };
  // the seen combinations an ordinary case already allows add nothing
  const extra = seen.filter((alt) => !ordinary.some((o) => implies(alt, o)));
  return {
    alternatives: [...ordinary, ...extra],
    why: why.join("; "),
    ordinary: ORDINARY[call.name].why,
  };
}

/** The seen alternatives (named in context) and those granted as if seen (--allow-udp), covered ones left out. */
function granted(
  name: string,
  alternatives: Alternative[],
  why: string[],
  grants: Grants,
  arch?: ArchName,
): Alternative[] {
  const seen = alternatives.map((alt) => inContext(name, alt, arch));
  if (!(grants.allowUdp && name === "socket")) return seen;
  const udp = casesAlternatives(UDP_CASES, arch);
  why.push(
    "--allow-udp: UDP over IPv4 and IPv6 (SOCK_DGRAM, protocol 0 or IPPROTO_UDP) allowed as if seen — Landlock does not confine where datagrams go",
  );
  return [...udp, ...seen.filter((alt) => !udp.some((u) => implies(alt, u)))];
}

/** The ordinary cases of a call as rules, for `arch` (cases naming a value `arch` lacks are left out). */
export function ordinaryAlternatives(name: string, arch?: ArchName): Alternative[] {
  return casesAlternatives(ORDINARY[name]?.cases ?? [], arch);
}

/** Cases (ordinary.ts) as rules, for `arch` (cases naming a value `arch` lacks are left out). */
function casesAlternatives(cases: readonly OrdinaryCase[], arch?: ArchName): Alternative[] {
  const out: Alternative[] = [];
  for (const c of cases) {
    const resolved = resolveCase(c, arch);
    if (!resolved) continue;
    const alt = resolved.map(({ arg, value, mask, names: [v, m] }) => ({
      arg,
      op: (mask === undefined ? "==" : "&==") as Condition["op"],
      value,
      mask,
      text: mask === undefined ? `arg${arg} == ${v}` : `arg${arg} & ${m} == ${v}`,
    }));
    out.push(alt.sort((a, b) => a.arg - b.arg));
  }
  return out;
}

/** True when every condition of `general` is one of `specific`'s (so `specific` holding implies it). */
function implies(specific: Alternative, general: Alternative): boolean {
  return general.every((g) =>
    specific.some((s) => s.arg === g.arg && s.op === g.op && s.value === g.value && s.mask === g.mask),
  );
}

/**
 * Names each == value by the rule's other pinned arguments: setsockopt's option by its level (2 is
 * SO_REUSEADDR under SOL_SOCKET, TCP_MAXSEG under IPPROTO_TCP); without them it stays a number.
 */
function inContext(call: string, alt: Alternative, arch?: ArchName): Alternative {
  const args: (bigint | undefined)[] = [];
  for (const c of alt) if (c.op === "==") args[c.arg] = c.value;
  return alt.map((c) =>
    c.op === "==" ? { ...c, text: `arg${c.arg} == ${nameValue(call, c.arg, c.value, args, arch)}` } : c,
  );
}

/** The rules for the values seen together (combos.ts) and apart, and their comment. */
function jointly(
  call: SeenCall,
  pins: readonly { spec: PinSpec; masked: bigint[] }[],
  arch?: ArchName,
): { alternatives: Alternative[]; why: string[] } {
  const seen = seenTogether(
    call,
    pins.map((p) => ({ arg: p.spec.arg, mask: p.spec.mask, values: p.masked })),
    arch,
  );
  const tuples = new Map<string, bigint[]>();
  for (const t of [...seen.together, ...(seen.apart ? product(seen.apart) : [])]) tuples.set(t.join(","), t);
  const alternatives = [...tuples.values()].map((values) =>
    values.map((v, j) => {
      const { arg, mask } = pins[j].spec;
      return cond(call.name, arg, mask === undefined ? "==" : "&==", v, mask, arch);
    }),
  );
  const head = ({ spec }: { spec: PinSpec }) =>
    spec.mask === undefined
      ? `arg${spec.arg}`
      : `arg${spec.arg} & ${maskText(call.name, spec.arg, spec.mask, arch)}`;
  const why: string[] = [];
  if (seen.together.length > 0) {
    const named = seen.together.map((values) => {
      const args: bigint[] = [];
      values.forEach((v, j) => {
        args[pins[j].spec.arg] = v;
      });
      return `(${values.map((v, j) => nameValue(call.name, pins[j].spec.arg, v, args, arch)).join(", ")})`;
    });
    why.push(`${pins.map(head).join(", ")} seen together: ${named.join(", ")}`);
  }
  if (seen.apart) {
    const lists = seen.apart.map(
      (values, j) =>
        `${head(pins[j])}: ${values.map((v) => nameValue(call.name, pins[j].spec.arg, v, undefined, arch)).join(", ")}`,
    );
    why.push(`recorded without the values seen together, any combination of ${lists.join("; ")}`);
  }
  return { alternatives, why };
}
