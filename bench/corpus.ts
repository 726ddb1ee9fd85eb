// npm run bench:corpus — the corpus table (bench/corpus.md): every program of test/e2e/corpus.test.ts recorded
// under one small use, generated with the defaults, run under the policy with broader uses. Per program: the
// uses tried, how many of x86_64's syscalls the policy allows, its Landlock rules, kills and failures, and
// each failure's calls. SYSFENCE_CORPUS=name,name runs some.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { type ProgramResult, runProgram } from "../test/helpers/corpus/harness.js";
import { CORPUS } from "../test/helpers/corpus/index.js";
import { REPO } from "../test/helpers/paths.js";

const only = process.env.SYSFENCE_CORPUS?.split(",");
const results: ProgramResult[] = [];
for (const p of CORPUS) {
  if (only && !only.includes(p.name)) continue;
  process.stderr.write(`${p.name}…\n`);
  results.push(await runProgram(p));
}

const rows = results.map((r) => {
  const s = r.stats;
  const kills = r.uses.filter((u) => u.killed).length;
  const failures = r.uses.filter((u) => u.problem && !u.killed).length;
  return `| ${r.name} | ${r.kind} | ${r.uses.length} | ${s ? s.allowed : "–"} | ${s ? `${((100 * s.allowed) / s.known).toFixed(1)}%` : "–"} | ${s?.landlockRules ?? "–"} | ${kills} | ${failures} | ${r.errnoAnswers?.join(", ") || ""} |`;
});
const details = results.flatMap((r) => [
  ...(r.error ? [`- **${r.name}**: ${r.error}`] : []),
  ...r.uses
    .filter((u) => u.problem)
    .map(
      (u) =>
        `- **${r.name}** — ${u.name}: ${u.killed ? "killed" : "fails"}${u.calls.length ? ` — ${u.calls.map((c) => `\`${c}\``).join("; ")}` : ""}`,
    ),
]);
const known = results.find((r) => r.stats)?.stats?.known ?? 0;
const md = `# Corpus: policies that keep programs working

\`npm run bench:corpus\` (the same flow as \`test/e2e/corpus.test.ts\`): each program recorded with
\`sysfence record --engine strace\` under ONE small use, \`sysfence generate\` with its defaults, then the
broader uses run untraced and under \`sysfence run --policy\`, each from the same state, compared (exit status
and key output). Allowed: of the ${known} x86_64 syscalls. Kills: SIGSYS, rc 159 or a kill SECCOMP record.
Failures: uses that end otherwise than untraced. Errno answers: calls the policy answered with an errno
during the uses (kernel SECCOMP records), failing or not. Daemons count "stops cleanly on SIGTERM" as a use.

| program | kind | uses tried | allowed | share | Landlock rules | kills | failures | errno answers |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

Measured ${new Date().toISOString().slice(0, 10)} on this project's 2-core VM (kernel ${process.version ? (await import("node:os")).release() : ""}).

## Failures and the calls behind them

${details.join("\n") || "None."}
`;
writeFileSync(`${REPO}bench/corpus.md`, md);
// the lint formats Markdown tables too: write it as the formatter would
execFileSync(`${REPO}node_modules/.bin/biome`, ["format", "--write", `${REPO}bench/corpus.md`], {
  stdio: "ignore",
});
process.stdout.write(readFileSync(`${REPO}bench/corpus.md`, "utf8"));
