import { createRequire } from "node:module";
import type { z as Z } from "zod";

// The sysfence policy file format. schema/policy.schema.json is generated from this (npm run gen:schema),
// so the two cannot drift. zod is loaded on first use: `sysfence run @group -- cmd` never needs it.

const require = createRequire(import.meta.url);

function build(z: typeof Z) {
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
        .enum(["seen", "always", "static-low", "static-confined", "static-high", "argument-fallback"])
        .optional()
        .describe(
          "why generate wrote the rule: seen in a recording, always needed, reachable (static analysis) and low/high risk, or the answer to an allowed call's other argument values",
        ),
      final: ActionText.optional().describe(
        "for a burn-in rule (action log): the answer generate --finalize gives it when it never fired",
      ),
    })
    .strict();
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
      syscalls: z.array(Rule),
    })
    .strict();
}

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
    tier?: "seen" | "always" | "static-low" | "static-confined" | "static-high" | "argument-fallback";
    final?: string;
  }[];
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
