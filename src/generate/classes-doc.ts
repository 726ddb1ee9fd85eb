// docs/syscall-classes.md from classes.ts and ordinary.ts (npm run gen:docs; a test keeps the two equal).
import { ARCHES, type ArchName } from "../syscalls/arches.js";
import { syscallTable } from "../syscalls/table.js";
import { CLASSES, type SyscallClass } from "./classes.js";
import { ORDINARY } from "./ordinary.js";

const ANSWER: Record<SyscallClass, string> = {
  low: "allowed when reachable (argument bans, ordinary values)",
  confined:
    "allowed when reachable where the policy's Landlock layer confines it; otherwise the --unseen answer",
  "seccomp-only": "allowed only when seen; reachable: the --unseen answer (EPERM, logged)",
  privilege: "allowed only when seen; reachable: the --unseen answer (EPERM, logged)",
};

/** The Markdown page. */
export function classesDoc(): string {
  const arches = Object.keys(ARCHES) as ArchName[];
  const on = (n: string) => {
    const where = arches.filter((a) => syscallTable(a)[n] !== undefined);
    return where.length === arches.length || where.length === 0 ? n : `${n} (${where.join(", ")})`;
  };
  const out = [
    "# Syscall classes",
    "",
    "<!-- generated from src/generate/classes.ts and ordinary.ts by `npm run gen:docs`; do not edit -->",
    "",
    `Every syscall of the ${arches.length} architectures sysfence compiles for (${arches.join(", ")}) is in one class.`,
    "The class decides what `generate` does with a call static analysis finds reachable but no recording",
    "saw; a call the recording saw is allowed whatever its class (with its argument rules). A test fails when",
    "an architecture's table gains a syscall no list names; until a person classifies it, it is privilege.",
    "",
    "| class | reachable, not seen |",
    "|---|---|",
    ...(Object.keys(ANSWER) as SyscallClass[]).map((c) => `| ${c} | ${ANSWER[c]} |`),
    "",
  ];
  for (const [cls, lists] of Object.entries(CLASSES)) {
    out.push(`## ${cls}`, "");
    for (const [why, names] of Object.entries(lists))
      out.push(`- **${why}**: ${[...names].sort().map(on).join(", ")}`);
    out.push("");
  }
  out.push(
    "## Ordinary argument values (`--args safe`)",
    "",
    "An argument-restricted call allows these values plus the ones the recording saw; any other value is",
    "answered EPERM and logged (`tier: argument-fallback`). Names resolve per architecture.",
    "",
  );
  for (const [name, o] of Object.entries(ORDINARY)) {
    const cases = o.cases.map((c) =>
      Object.entries(c)
        .map(([i, v]) => (typeof v === "string" ? `arg${i}=${v}` : `arg${i}&${v[0]}=${v[1]}`))
        .join(" "),
    );
    out.push(`- **${name}** — ${o.why}: ${cases.join("; ")}`);
  }
  return `${out.join("\n")}\n`;
}
