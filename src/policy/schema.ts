import { createRequire } from "node:module";
import type { z as Z } from "zod";

// The sysfence policy file format. schema/policy.schema.json is generated from this (npm run gen:schema),
// so the two cannot drift. zod is loaded on first use: `sysfence run @group -- cmd` never needs it.

const require = createRequire(import.meta.url);

/** The rule of a policy file, and the action text it shares with the file's top level. */
function ruleSchemas(z: typeof Z) {
  const ActionText = z
    .string()
    .describe(
      'allow | kill-process | kill-thread | trap [N] | log | trace [N] | user-notif | errno NAME|NUMBER, e.g. "errno EPERM"',
    );
  const ValueText = z
    .union([z.number().int(), z.string()])
    .describe("a number, a named constant (FIONBIO, CLONE_NEWUSER …) or A|B");
  const Condition = z.union([
    z.string().describe('"argN OP VALUE" (OP: == != < <= > >=) or "argN & MASK == VALUE"'),
    z
      .object({
        arg: z.number().int().describe("argument index, 0 to 5"),
        op: z.enum(["==", "!=", "<", "<=", ">", ">=", "&=="]),
        value: ValueText,
        mask: ValueText.optional().describe("for &==: (arg & mask) == value"),
      })
      .strict(),
  ]);
  const Rule = z
    .object({
      names: z.array(z.string()).optional().describe("syscall names and @groups (systemd's groups)"),
      name: z.string().optional().describe("a single syscall name or @group"),
      action: ActionText,
      args: z
        .array(Condition)
        .optional()
        .describe("all must hold (AND); several rules for one syscall are OR-ed"),
      comment: z.string().optional(),
      tier: z
        .enum([
          "seen",
          "always",
          "static-low",
          "static-confined",
          "static-high",
          "argument-fallback",
          "learned",
        ])
        .optional()
        .describe(
          "why generate wrote the rule: seen in a recording, always needed, reachable (static analysis) and low/high risk, or the answer to an allowed call's other argument values",
        ),
      final: ActionText.optional().describe(
        "for a burn-in rule (action log): the answer generate --finalize gives it when it never fired",
      ),
      needs: z
        .enum(["landlock", "landlock-tcp", "landlock-signal"])
        .optional()
        .describe(
          "the part of the Landlock layer the rule relies on (landlock: files; landlock-tcp: TCP ports; landlock-signal: signal scoping): the rule applies only where it is enforced; otherwise it is dropped and the call falls to the next rule or the default",
        ),
    })
    .strict();
  return { ActionText, Rule };
}

/** The `landlock:` section of a policy file. */
function landlockSchema(z: typeof Z) {
  const PathEntry = z.union([
    z.string().describe("an absolute path"),
    z.object({ path: z.string().describe("an absolute path"), comment: z.string().optional() }).strict(),
  ]);
  const Port = z.number().int().min(0).max(65535).describe("a TCP port, 0 to 65535");
  const PortEntry = z.union([Port, z.object({ port: Port, comment: z.string().optional() }).strict()]);
  return z
    .object({
      read: z.array(PathEntry).optional().describe("read files and list directories beneath each path"),
      write: z
        .array(PathEntry)
        .optional()
        .describe("read, write, create, remove, rename and truncate beneath each path"),
      execute: z
        .array(PathEntry)
        .optional()
        .describe("execute (and read) these files, or the files beneath these directories"),
      devices: z.array(PathEntry).optional().describe("read, write and ioctl these device files"),
      bindTcp: z
        .array(PortEntry)
        .optional()
        .describe("the TCP ports the program may bind (absent: unrestricted; 0: an ephemeral port)"),
      connectTcp: z
        .array(PortEntry)
        .optional()
        .describe("the TCP ports the program may connect to (absent: unrestricted)"),
      scope: z
        .array(z.enum(["signal", "abstract-unix-socket"]))
        .optional()
        .describe(
          "signal: signal only processes inside the sandbox; abstract-unix-socket: connect only to abstract sockets made inside it",
        ),
      comment: z.string().optional(),
    })
    .strict()
    .describe(
      "the Landlock layer: which files, executables, TCP ports and signal targets the program reaches (Linux 5.13+)",
    );
}

function build(z: typeof Z) {
  const { ActionText, Rule } = ruleSchemas(z);
  const Landlock = landlockSchema(z);
  return z
    .object({
      version: z.literal(1).optional(),
      defaultAction: ActionText.describe("what every call no rule matches gets"),
      badArchAction: ActionText.optional().describe(
        "what calls from an architecture not listed get (default kill-process)",
      ),
      architectures: z
        .array(z.string())
        .optional()
        .describe("x86_64, i386, x32, aarch64, arm, riscv64, ppc64le, s390x; default: the machine's"),
      flags: z
        .array(z.enum(["log"]))
        .optional()
        .describe(
          "install flags: log = SECCOMP_FILTER_FLAG_LOG (the kernel also logs errno, trap and kill answers)",
        ),
      analysis: z
        .object({
          programs: z.array(z.string()).describe("the executables sysfence analyze read"),
          unresolved: z
            .number()
            .int()
            .min(0)
            .describe("reached syscall sites whose number it could not find"),
        })
        .strict()
        .optional()
        .describe("written by generate --static: what the static tiers rest on"),
      phase: z
        .enum(["work", "all"])
        .optional()
        .describe(
          "work: made from the work phase (generate --phase work), for lockdown(); run and the launching exports refuse it",
        ),
      landlock: Landlock.optional(),
      syscalls: z.array(Rule),
    })
    .strict();
}

/** A `landlock:` path entry as read: the path, or { path, comment }. */
export type LandlockPathText = string | { path: string; comment?: string };
/** A `landlock:` port entry as read. */
export type LandlockPortText = number | { port: number; comment?: string };

/** The shape of a policy file, as read. */
export interface PolicyFile {
  version?: 1;
  defaultAction: string;
  badArchAction?: string;
  architectures?: string[];
  flags?: "log"[];
  analysis?: { programs: string[]; unresolved: number };
  phase?: "work" | "all";
  syscalls: {
    names?: string[];
    name?: string;
    action: string;
    args?: (string | { arg: number; op: string; value: string | number; mask?: string | number })[];
    comment?: string;
    tier?:
      | "seen"
      | "always"
      | "static-low"
      | "static-confined"
      | "static-high"
      | "argument-fallback"
      | "learned";
    final?: string;
    needs?: "landlock" | "landlock-tcp" | "landlock-signal";
  }[];
  landlock?: {
    read?: LandlockPathText[];
    write?: LandlockPathText[];
    execute?: LandlockPathText[];
    devices?: LandlockPathText[];
    bindTcp?: LandlockPortText[];
    connectTcp?: LandlockPortText[];
    scope?: ("signal" | "abstract-unix-socket")[];
    comment?: string;
  };
}

let schema: ReturnType<typeof build> | undefined;

/** The zod schema of the policy format (built on first use). */
export function policySchema(): ReturnType<typeof build> {
  schema ??= build(require("zod") as typeof Z);
  return schema;
}

/** The JSON Schema of the policy format. */
export function policyJsonSchema(): unknown {
  const z = require("zod") as typeof Z;
  return {
    $id: "https://sysfence.dev/schema/policy.schema.json",
    title: "sysfence policy",
    ...(z.toJSONSchema(policySchema()) as object),
  };
}
