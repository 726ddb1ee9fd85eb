import { type Diagnostic, throwIfErrors } from "../../errors.js";
import { importOci, type OciOptions, type OciProfile } from "../oci.js";
import type { TextDocument } from "./document.js";
import { validateOciShape } from "./oci-schema.js";
import type { ParsedPolicy } from "./parsed.js";

// The two OCI-family JSON readers: the runtime-spec `LinuxSeccomp` (what runc reads, also found as
// `linux.seccomp` of a whole config.json) and moby's profile (what Docker reads).

/** Reads an OCI runtime-spec LinuxSeccomp (at `at` inside the document: [] or ["linux", "seccomp"]). */
export function readOciPolicy(doc: TextDocument, options: OciOptions, at: string[] = []): ParsedPolicy {
  return readOciFamily(doc, options, "oci", at);
}

/** Reads a moby (Docker) seccomp profile: archMap, includes/excludes resolved for the host. */
export function readMobyPolicy(doc: TextDocument, options: OciOptions): ParsedPolicy {
  return readOciFamily(doc, options, "moby", []);
}

/** Validates the shape, then imports with libseccomp's meaning; `format` names the reader used. */
export function readOciFamily(
  doc: TextDocument,
  options: OciOptions,
  dialect: "oci" | "moby",
  at: (string | number)[],
  format: ParsedPolicy["format"] = dialect,
): ParsedPolicy {
  let data: unknown = doc.data;
  for (const k of at) data = (data as Record<string, unknown>)[k];
  const shape: Diagnostic[] = validateOciShape(data, dialect, doc.locate, at);
  throwIfErrors(shape, doc.file);
  // the keys the shape check warned about are ignored, as runc ignores them: importOci (which resolves
  // moby's archMap and includes/excludes) must not see a moby key in an OCI profile, of whatever type
  if (dialect === "oci") data = withoutMobyKeys(data as OciProfile);
  const { policy, warnings } = importOci(data as OciProfile, {
    ...options,
    file: doc.file,
    locate: doc.locate,
    prefix: at,
  });
  return { policy, warnings: [...shape, ...warnings], format };
}

/** An OCI profile without the keys only moby reads (archMap; a rule's name, comment, includes, excludes). */
function withoutMobyKeys(profile: OciProfile): OciProfile {
  const { archMap: _a, ...rest } = profile;
  if (!Array.isArray(rest.syscalls)) return rest;
  return {
    ...rest,
    syscalls: rest.syscalls.map(({ name: _n, comment: _c, includes: _i, excludes: _e, ...rule }) => rule),
  };
}
