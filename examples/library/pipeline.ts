// sysfence as a library, end to end: a recorded profile → a least-privilege policy → its report, a
// Docker/OCI profile and a drift check → a policy enforced on this very process.
// Build and run (from the repository): npm run -s build && npx tsc -p examples/library && node dist/examples/library/pipeline.js
import { spawnSync } from "node:child_process";
import { diff, exportPolicy, generatePolicy, lockdown, report, SysfenceError } from "sysfence";

const profile = new URL("../demo-server/profile.json", import.meta.url).pathname.replace("/dist/examples/", "/examples/");

// 1. generate: the same policy `sysfence generate profile.json` writes
const generated = generatePolicy(profile);
console.log(`policy: ${generated.stats.allowed} of ${generated.stats.known} syscalls allowed`);

// 2. report: the attack surface, as `sysfence report --format json`
const surface = report(generated.policy, "demo policy");
const risky = surface.risky.filter((r) => r.treatment === "allow").map((r) => r.what);
console.log(`risky calls still allowed: ${risky.length ? risky.join(", ") : "none"}`);

// 3. export: a Docker/OCI profile (runc's calls after loading the filter included)
const oci = exportPolicy(generated.policy, "oci");
const ociProfile = JSON.parse(String(oci.output)) as { defaultAction: string; syscalls: unknown[] };
console.log(`OCI profile: default ${ociProfile.defaultAction}, ${ociProfile.syscalls.length} rule groups`);

// 4. diff: the CI check — does the recording need anything the committed policy denies?
const drift = diff(generated.policy, profile);
console.log(`drift against its own recording: ${drift.drift}`);

// 5. lockdown: any form a policy comes in — here a Docker-format object; wrong input is a SysfenceError
try {
  lockdown({ wrong: true });
} catch (e) {
  if (!(e instanceof SysfenceError)) throw e;
  console.log(`bad input refused before the kernel was touched: ${e.code}`);
}
lockdown({
  defaultAction: "SCMP_ACT_ALLOW",
  syscalls: [{ names: ["execve", "execveat"], action: "SCMP_ACT_ERRNO" }],
});
const child = spawnSync("true");
console.log(`after lockdown, running a program: ${(child.error as NodeJS.ErrnoException | undefined)?.code}`);
if (drift.drift || child.error === undefined) process.exit(1);
