// audit --patch POLICY LEARNED.json: a learning run's profile in place of kernel-log records.
import { type LearnedPatch, patchLearned } from "../learn/patch-learned.js";
import { unifiedDiff } from "../observe/patch.js";
import { readInput } from "../util/read-input.js";
import { readProfileFile } from "./document.js";

/** The patch, the policy's text before it, and the unified diff between the two. */
export interface LearnedPolicyPatch extends LearnedPatch {
  before: string;
  diff: string;
}

/**
 * Adds what a learning run (`run --learn`'s profile) allowed to a policy file: its text patched in place
 * (comments kept), what was added, and what is left for a person to decide.
 */
export async function patchFromLearned(policyFile: string, learnedFile: string): Promise<LearnedPolicyPatch> {
  const profile = await readProfileFile(learnedFile);
  const before = (await readInput(policyFile)).toString("utf8");
  const p = patchLearned(before, policyFile, profile);
  return { ...p, before, diff: unifiedDiff(before, p.text, policyFile) };
}
