import type { Diagnostic } from "../../errors.js";
import type { Policy } from "../model.js";

/** Result of reading a policy: the policy, every warning and the format it was read as. */
export interface ParsedPolicy {
  policy: Policy;
  warnings: Diagnostic[];
  format: PolicyFormat;
}

/** The formats sysfence reads. */
export const POLICY_FORMATS = ["sysfence", "oci", "moby", "spo", "systemd", "bpf"] as const;
export type PolicyFormat = (typeof POLICY_FORMATS)[number];
