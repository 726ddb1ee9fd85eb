import { createRequire } from "node:module";
import type { z as Z } from "zod";
import type { Diagnostic, SourceLocation } from "../../../errors.js";
import { OCI_ACTIONS, OCI_FLAGS, OCI_OPS } from "./vocab.js";

// Two schemas, as strict as the programs that read these files:
// - the OCI runtime-spec `LinuxSeccomp` (config-linux.md "Seccomp"), which runc reads and compiles with
//   libseccomp: errnoRet is a uint, args are {index, value, valueTwo, op} with 64-bit unsigned values;
// - moby's profile (profiles/seccomp), which Docker resolves before runc sees it: it adds archMap,
//   `name`, `comment` and includes/excludes with caps/arches/minKernel.
// A wrong type or an out-of-range value is an error with its location; an unknown key is a warning.

const require = createRequire(import.meta.url);

/** The kernel caps SECCOMP_RET_ERRNO data at MAX_ERRNO (kernel/seccomp.c, include/linux/err.h). */
export const MAX_ERRNO = 4095;

const U64_MAX = (1n << 64n) - 1n;

function build(z: typeof Z, dialect: "oci" | "moby") {
  const u64 = z.custom<number | bigint>(
    (v) =>
      (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) ||
      (typeof v === "bigint" && v >= 0n && v <= U64_MAX),
    { message: `must be an integer from 0 to ${U64_MAX} (runc reads a uint64)` },
  );
  const errno = z.custom<number>(
    (v) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_ERRNO,
    {
      message: `must be an errno number from 0 to ${MAX_ERRNO} (SECCOMP_RET_ERRNO keeps 16 bits and the kernel caps it at MAX_ERRNO)`,
    },
  );
  const Arg = z.strictObject({
    index: z.custom<number>((v) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 5, {
      message: "must be an argument index from 0 to 5 (struct seccomp_data.args[6])",
    }),
    value: u64,
    valueTwo: u64.optional(),
    op: z.enum(OCI_OPS),
  });
  const SyscallBase = {
    names: z.array(z.string().min(1)).min(1),
    action: z.enum(OCI_ACTIONS),
    errnoRet: errno.optional(),
    args: z.array(Arg).nullable().optional(),
  };
  const CapName = z.string().regex(/^CAP_[A-Z_]+$/, "must be a capability name such as CAP_SYS_ADMIN");
  const Filter = z.strictObject({
    caps: z.array(CapName).optional(),
    arches: z.array(z.string().min(1)).optional(),
    minKernel: z
      .string()
      .regex(/^\d+\.\d+(\.\d+)?$/, 'must be a kernel version such as "5.8"')
      .optional(),
  });
  const Syscall =
    dialect === "oci"
      ? z.strictObject(SyscallBase)
      : z.strictObject({
          ...SyscallBase,
          names: SyscallBase.names.optional(),
          name: z.string().min(1).optional(),
          comment: z.string().optional(),
          includes: Filter.optional(),
          excludes: Filter.optional(),
        });
  const Arch = z.string().regex(/^SCMP_ARCH_[A-Z0-9_]+$/, "must be an SCMP_ARCH_* name");
  const base = {
    defaultAction: z.enum(OCI_ACTIONS),
    defaultErrnoRet: errno.optional(),
    architectures: z.array(Arch).nullable().optional(),
    flags: z.array(z.enum(OCI_FLAGS)).nullable().optional(),
    listenerPath: z.string().optional(),
    listenerMetadata: z.string().optional(),
    syscalls: z.array(Syscall).nullable().optional(),
  };
  if (dialect === "oci") return z.strictObject(base);
  return z.strictObject({
    ...base,
    archMap: z
      .array(z.strictObject({ architecture: Arch, subArchitectures: z.array(Arch).nullable().optional() }))
      .nullable()
      .optional(),
  });
}

const schemas: Partial<Record<"oci" | "moby", ReturnType<typeof build>>> = {};

/** Validates an OCI (runtime-spec) or moby profile: errors and unknown-key warnings, with locations. */
export function validateOciShape(
  data: unknown,
  dialect: "oci" | "moby",
  locate: (path: (string | number)[]) => SourceLocation,
  prefix: (string | number)[] = [],
): Diagnostic[] {
  schemas[dialect] ??= build(require("zod") as typeof Z, dialect);
  const result = schemas[dialect].safeParse(data);
  if (result.success) return [];
  const out: Diagnostic[] = [];
  for (const issue of result.error.issues) {
    const path = [...prefix, ...issue.path.filter((p): p is string | number => typeof p !== "symbol")];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys)
        out.push({
          severity: "warning",
          message: `unknown key '${[...path, key].join(".")}' is ignored`,
          location: locate([...path, key]),
          hint:
            dialect === "oci"
              ? "the runtime-spec LinuxSeccomp has no such field"
              : "moby's profile has no such field",
        });
      continue;
    }
    out.push({
      severity: "error",
      message: `${path.length ? `${path.join(".")}: ` : ""}${issue.message}`,
      location: locate(path),
    });
  }
  return out;
}
