// npm run fuzz [-- RUNS] [--systemd UNITS] [--systemd-only]: mutation fuzzing of every policy reader and the
// profile reader (default 10^5 inputs each), then every accepted mutated OCI/moby profile is compiled by
// libseccomp as runc does and both programs are asked the same calls. Writes bench/fuzz-results.json.
// Then the systemd-semantics oracle (test/helpers/systemd-fuzz.ts): UNITS random unit files (default 2000,
// a minute or two) decided for every x86_64 call by an independent model of systemd's rules, by sysfence,
// and by systemd itself when installed. Writes bench/fuzz-systemd-results.json. --systemd-only skips the
// readers.
import { writeFileSync } from "node:fs";
import { compile } from "../src/compile/compile.js";
import { parsePolicy } from "../src/policy/parse.js";
import { fuzzReader, fuzzTargets } from "../test/helpers/fuzz.js";
import { haveLibseccomp } from "../test/helpers/libseccomp.js";
import { firstDifference, oracleQueries, runcPrograms } from "../test/helpers/oci-oracle.js";
import { REPO } from "../test/helpers/paths.js";
import { fuzzSystemd } from "../test/helpers/systemd-fuzz.js";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args.splice(i, name === "--systemd" ? 2 : 1).at(1);
};
const systemdUnits = Number(flag("--systemd") ?? 2000);
const systemdOnly = args.includes("--systemd-only");
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
if (!systemdOnly) fuzzReaders();
{
  const started = Date.now();
  const tally = fuzzSystemd(systemdUnits, 0x5d5d);
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `systemd       ${tally.units} random units, every x86_64 call: model and sysfence differ on ${tally.modelDiffer}; ${tally.systemdCompared} compared with systemd --test, ${tally.systemdDiffer} differ (${seconds.toFixed(1)} s)`,
  );
  if (tally.unresolved.length)
    console.log(
      `  not compared with systemd (this libseccomp does not know them): ${tally.unresolved.join(" ")}`,
    );
  for (const ex of tally.examples) console.log(`  ${ex.replaceAll("\n", "\n    ")}`);
  writeFileSync(
    `${REPO}bench/fuzz-systemd-results.json`,
    `${JSON.stringify({ date: new Date().toISOString(), seconds, ...tally }, null, 2)}\n`,
  );
}

function fuzzReaders(): void {
  const results = [];
  let accepted: string[] = [];
  for (const t of fuzzTargets()) {
    const started = Date.now();
    const tally = fuzzReader(t, runs, 0xf022 + t.name.length);
    const seconds = (Date.now() - started) / 1000;
    accepted = accepted.concat(tally.acceptedOci);
    const { acceptedOci: _, ...row } = tally;
    results.push({ ...row, seconds });
    console.log(
      `${t.name.padEnd(14)} ${tally.runs} inputs: ${tally.accepted} accepted, ${tally.clear} clear errors, ${tally.crash} crashes, ${tally.hang} hangs (${seconds.toFixed(1)} s)`,
    );
    for (const ex of tally.examples)
      console.log(`  crash: ${ex.error.split("\n")[0]}  input(base64)=${ex.input.slice(0, 200)}`);
  }
  let oracle = { compared: 0, differ: 0, libseccompRefused: 0, examples: [] as string[] };
  if (haveLibseccomp() && accepted.length) {
    const theirs = runcPrograms(accepted);
    accepted.forEach((text, i) => {
      const th = theirs[i];
      if (!("program" in th)) {
        oracle.libseccompRefused++;
        return;
      }
      const ours = compile(parsePolicy(text, { file: "p.json", arch: "x86_64" }).policy, {
        stats: false,
      }).program;
      let profile: Record<string, unknown>;
      try {
        profile = JSON.parse(text);
      } catch {
        return;
      }
      const diff = firstDifference(ours, th.program, oracleQueries(profile, i + 1));
      oracle.compared++;
      if (diff) {
        oracle.differ++;
        if (oracle.examples.length < 5) oracle.examples.push(`${diff}\n${text.slice(0, 400)}`);
      }
    });
    console.log(
      `libseccomp    ${oracle.compared} accepted mutated OCI/moby profiles compared: ${oracle.differ} decide differently; libseccomp refused ${oracle.libseccompRefused}`,
    );
  } else oracle = { ...oracle, examples: ["libseccomp not installed: not compared"] };
  writeFileSync(
    `${REPO}bench/fuzz-results.json`,
    `${JSON.stringify({ date: new Date().toISOString(), runsPerReader: runs, readers: results, oracle }, null, 2)}\n`,
  );
}
