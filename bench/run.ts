// npm run bench: instructions executed per syscall and program length, sysfence vs libseccomp
// (default and binary-tree output) on the bundled policies, plus compile time. Writes bench/results.json.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Emulator } from "../src/bpf/emulator.js";
import type { Insn } from "../src/bpf/insn.js";
import { compile } from "../src/compile/compile.js";
import type { Policy } from "../src/policy/model.js";
import { ARCHES } from "../src/syscalls/arches.js";
import { syscallTable } from "../src/syscalls/table.js";
import { buildWithLibseccomp, haveLibseccomp } from "../test/helpers/libseccomp.js";
import { REPO } from "../test/helpers/paths.js";
import { example } from "../test/helpers/policies.js";

interface Row {
  policy: string;
  engine: string;
  length: number;
  min: number;
  median: number;
  max: number;
  argFreeMax: number;
  argFreeReadingArgs: number;
  compileMs?: number;
}

/** Instructions executed for every x86_64 syscall known to both engines (arguments zero). */
function measure(
  policy: string,
  engine: string,
  program: Insn[],
  nrs: number[],
  conditioned: Set<number>,
): Row {
  const emu = new Emulator(program);
  const counts: number[] = [];
  let argFreeMax = 0;
  let argFreeReadingArgs = 0;
  for (const nr of nrs) {
    const r = emu.run({ nr, arch: ARCHES.x86_64.audit });
    counts.push(r.executed);
    if (!conditioned.has(nr)) {
      argFreeMax = Math.max(argFreeMax, r.executed);
      if (r.readArgs) argFreeReadingArgs++;
    }
  }
  counts.sort((a, b) => a - b);
  return {
    policy,
    engine,
    length: program.length,
    min: counts[0],
    median: counts[counts.length >> 1],
    max: counts[counts.length - 1],
    argFreeMax,
    argFreeReadingArgs,
  };
}

function bench(name: string, policy: Policy): Row[] {
  const x64only: Policy = { ...policy, architectures: ["x86_64"] };
  const t0 = performance.now();
  const runs = 20;
  for (let i = 0; i < runs; i++) compile(x64only, { stats: false });
  const compileMs = (performance.now() - t0) / runs;
  const ours = compile(x64only, { stats: false });
  const conditioned = new Set(
    ours.resolved.arches[0].syscalls.filter((d) => d.conditional.length).map((d) => d.nr),
  );
  const rows: Row[] = [];
  let nrs = Object.values(syscallTable("x86_64"));
  if (haveLibseccomp()) {
    const linear = buildWithLibseccomp(x64only, 1);
    const tree = buildWithLibseccomp(x64only, 2);
    const unknown = new Set((linear.unknown.x86_64 ?? []).map((n) => syscallTable("x86_64")[n]));
    nrs = nrs.filter((n) => !unknown.has(n));
    rows.push(measure(name, "libseccomp (default)", linear.program, nrs, conditioned));
    rows.push(measure(name, "libseccomp (binary tree)", tree.program, nrs, conditioned));
  }
  rows.push({
    ...measure(name, "sysfence", ours.program, nrs, conditioned),
    compileMs: Number(compileMs.toFixed(2)),
  });
  return rows;
}

const rows = [
  ...bench("Docker default (x86_64)", example("docker-default.json")),
  ...bench("30-syscall server policy", example("server-policy.yaml")),
];
const lines = [
  "| policy | engine | program length | executed min / median / max | max without arg rules | compile ms |",
  "|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.policy} | ${r.engine} | ${r.length} | ${r.min} / ${r.median} / ${r.max} | ${r.argFreeMax} | ${r.compileMs ?? ""} |`,
  ),
];
const libseccomp = (() => {
  try {
    return execFileSync("dpkg-query", ["-W", `-f=$${"{"}Version}`, "libseccomp2"], { encoding: "utf8" });
  } catch {
    return "not installed";
  }
})();
process.stdout.write(
  `${lines.join("\n")}\n\nlibseccomp ${libseccomp}; node ${process.version}; instructions counted by sysfence's emulator over every x86_64 syscall both engines know, arguments zero.\n`,
);
writeFileSync(
  `${REPO}bench/results.json`,
  `${JSON.stringify({ date: new Date().toISOString(), libseccomp, rows }, null, 2)}\n`,
);

// `sysfence run` start-up cost: wall time of `true` alone vs under `sysfence run` (median of 25 runs).
import { spawnSync } from "node:child_process";

/**
 * Medians of several commands timed in interleaved rounds, so that a slow spell of this shared VM hits
 * every command alike instead of one of them.
 */
function interleavedMedians(commands: string[][], runs = 25): number[] {
  const times = commands.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    commands.forEach(([cmd, ...args], k) => {
      const t = performance.now();
      const r = spawnSync(cmd, args, { stdio: "ignore" });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}`);
      times[k].push(performance.now() - t);
    });
  }
  return times.map((xs) => xs.sort((a, b) => a - b)[runs >> 1]);
}
if (process.platform === "linux") {
  const cli = `${REPO}dist/src/cli/main.js`;
  const [plain, nodeBoot, allow, docker] = interleavedMedians([
    ["/bin/true"],
    [process.execPath, "-e", ""],
    [process.execPath, cli, "run", "@default", "--", "/bin/true"],
    [process.execPath, cli, "run", "--policy", `${REPO}examples/docker-default.json`, "--", "/bin/true"],
  ]);
  const fmt = (v: number) => v.toFixed(1);
  const row = (label: string, v: number, extra = true) =>
    `| ${label} | ${fmt(v)} | ${fmt(v - plain)} | ${extra ? fmt(v - nodeBoot) : ""} |\n`;
  process.stdout.write(
    "\n| start-up (median of 25, interleaved) | ms | added to the command | over Node's own start |\n|---|---|---|---|\n" +
      `| /bin/true | ${fmt(plain)} | | |\n` +
      row('node -e "" (Node\'s own start, for scale)', nodeBoot, false) +
      row("sysfence run @default -- /bin/true", allow) +
      row("sysfence run --policy docker-default.json -- /bin/true", docker),
  );
}
