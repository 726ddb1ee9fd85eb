import { z } from "zod";

// The sysfence policy file format. The JSON Schema in schema/policy.schema.json is generated from this
// (npm run gen:schema), so the two cannot drift.

const ActionText = z
  .string()
  .describe(
    'allow | kill-process | kill-thread | trap [N] | log | trace [N] | user-notif | errno NAME|NUMBER, e.g. "errno EPERM"',
  );

const ValueText = z
  .union([z.number().int(), z.string()])
  .describe("a number, a named constant (FIONBIO, CLONE_NEWUSER …) or A|B");

export const ConditionSchema = z.union([
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

export const RuleSchema = z
  .object({
    names: z.array(z.string()).optional().describe("syscall names and @groups (systemd's groups)"),
    name: z.string().optional().describe("a single syscall name or @group"),
    action: ActionText,
    args: z
      .array(ConditionSchema)
      .optional()
      .describe("all must hold (AND); several rules for one syscall are OR-ed"),
    comment: z.string().optional(),
  })
  .strict();

export const PolicySchema = z
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
    syscalls: z.array(RuleSchema),
  })
  .strict();

export type PolicyFile = z.infer<typeof PolicySchema>;

/** The JSON Schema of the policy format. */
export function policyJsonSchema(): unknown {
  return {
    $id: "https://sysfence.dev/schema/policy.schema.json",
    title: "sysfence policy",
    ...(z.toJSONSchema(PolicySchema) as object),
  };
}
