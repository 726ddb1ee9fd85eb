// The formats of `sysfence dump`, and reading them back (`sysfence diff` takes a dump on either side).
// text: per stack of threads a header, then per filter a header and its disasm listing — whose raw columns
// (code, jt, jf, k) are the program, so the text reads back exactly; json: the same with base64 programs.
import { disassemble, formatListing } from "../bpf/disasm.js";
import { decodeProgram, encodeProgram, type Insn } from "../bpf/insn.js";
import { SysfenceError } from "../errors.js";
import type { Dump, DumpedFilter, ThreadStack } from "./dump.js";

/** The first line of a text dump; what a reader recognises it by. */
export const TEXT_MARK = "# sysfence dump:";
/** The `format` field of a JSON dump. */
export const JSON_MARK = "sysfence-dump";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function stackLine(s: ThreadStack, i: number): string {
  const who = s.tids.length === 1 ? `thread ${s.tids[0]}` : `threads ${s.tids.join(" ")} (the same filters)`;
  const what =
    s.mode === "filter"
      ? `${plural(s.filters.length, "filter")}, oldest first`
      : s.mode === "strict"
        ? "strict mode (SECCOMP_MODE_STRICT), no filters"
        : "no seccomp filter";
  return `# stack ${i + 1}: ${who}: ${what}`;
}

function filterLine(f: DumpedFilter, count: number): string {
  const age = count === 1 ? "" : f.index === 0 ? " (oldest)" : f.index === count - 1 ? " (newest)" : "";
  return `# filter ${f.index}${age}: ${plural(f.program.length, "instruction")}, flags: ${f.flags.join(",") || "none"}`;
}

/** The dump as text: headers (#) and disasm listings. */
export function formatDumpText(d: Dump): string {
  const threads = d.stacks.reduce((n, s) => n + s.tids.length, 0);
  const out = [
    `${TEXT_MARK} process ${d.pid} (${d.command}), ${plural(threads, "thread")}, ${plural(d.stacks.length, "distinct filter stack")}${d.gone.length ? `; ended while read: ${d.gone.join(" ")}` : ""}`,
  ];
  d.stacks.forEach((s, i) => {
    out.push(stackLine(s, i));
    for (const f of s.filters)
      out.push(filterLine(f, s.filters.length), formatListing(disassemble(f.program)));
  });
  return `${out.join("\n")}\n`;
}

/** The dump as JSON: every stack, its threads and filters (base64 raw BPF and the listing). */
export function dumpJson(d: Dump): unknown {
  return {
    format: JSON_MARK,
    version: 1,
    pid: d.pid,
    command: d.command,
    stacks: d.stacks.map((s) => ({
      tids: s.tids,
      mode: s.mode,
      filters: s.filters.map((f) => ({
        index: f.index,
        flags: f.flags,
        instructions: f.program.length,
        bpf: encodeProgram(f.program).toString("base64"),
        listing: formatListing(disassemble(f.program)).split("\n"),
      })),
    })),
    gone: d.gone,
  };
}

const bad = (source: string, why: string) =>
  new SysfenceError("E_BPF_INVALID", `${source}: not a readable sysfence dump: ${why}.`, { exitStatus: 2 });

/** Reads a text dump back (formatDumpText's output). */
export function parseDumpText(text: string, source: string): Dump {
  const lines = text.split("\n");
  const head = /^# sysfence dump: process (\d+) \((.*)\),/.exec(lines[0] ?? "");
  if (!head) throw bad(source, `the first line does not start with '${TEXT_MARK}'`);
  const d: Dump = { pid: Number(head[1]), command: head[2], stacks: [], gone: [] };
  let stack: ThreadStack | undefined;
  let filter: DumpedFilter | undefined;
  lines.slice(1).forEach((line, i) => {
    const where = `line ${i + 2}`;
    const s = /^# stack \d+: threads? ([\d ]+?)(?: \(the same filters\))?: (.*)$/.exec(line);
    if (s) {
      const mode = s[2].startsWith("strict")
        ? "strict"
        : s[2].startsWith("no seccomp")
          ? "disabled"
          : "filter";
      stack = { tids: s[1].split(" ").map(Number), mode, filters: [] };
      d.stacks.push(stack);
      filter = undefined;
      return;
    }
    const f = /^# filter (\d+).*flags: ([\w,]+)$/.exec(line);
    if (f) {
      if (!stack) throw bad(source, `${where}: a filter before any '# stack' line`);
      filter = { index: Number(f[1]), flags: f[2] === "none" ? [] : f[2].split(","), program: [] };
      stack.filters.push(filter);
      return;
    }
    const ins = /^\d+: ([0-9a-f]{2,4}) +(\d+) +(\d+) 0x([0-9a-f]{8})/.exec(line);
    if (ins) {
      if (!filter) throw bad(source, `${where}: an instruction before any '# filter' line`);
      filter.program.push({
        code: Number.parseInt(ins[1], 16),
        jt: Number(ins[2]),
        jf: Number(ins[3]),
        k: Number.parseInt(ins[4], 16),
      });
      return;
    }
    if (line.trim() !== "" && !line.startsWith("#"))
      throw bad(source, `${where}: '${line.slice(0, 60)}' is neither a header nor an instruction`);
  });
  for (const st of d.stacks)
    for (const fl of st.filters)
      if (fl.program.length === 0) throw bad(source, `filter ${fl.index} has no instructions`);
  if (d.stacks.length === 0) throw bad(source, "it lists no thread");
  return d;
}

/** Reads a JSON dump back (dumpJson's output). */
export function parseDumpJson(value: unknown, source: string): Dump {
  const v = value as { format?: unknown; pid?: unknown; command?: unknown; stacks?: unknown; gone?: unknown };
  if (v?.format !== JSON_MARK || !Array.isArray(v.stacks))
    throw bad(source, `no "format": "${JSON_MARK}" with a stacks list`);
  const stacks = v.stacks.map(
    (s: { tids?: unknown; mode?: unknown; filters?: unknown }, i: number): ThreadStack => {
      if (!Array.isArray(s?.tids) || !Array.isArray(s.filters))
        throw bad(source, `stacks[${i}] needs tids and filters lists`);
      return {
        tids: s.tids.map(Number),
        mode: s.mode === "strict" || s.mode === "disabled" ? s.mode : "filter",
        filters: s.filters.map((f: { index?: unknown; flags?: unknown; bpf?: unknown }, j: number) => {
          if (typeof f?.bpf !== "string") throw bad(source, `stacks[${i}].filters[${j}] has no bpf (base64)`);
          return {
            index: Number(f.index ?? j),
            flags: Array.isArray(f.flags) ? f.flags.map(String) : [],
            program: decodeProgram(Buffer.from(f.bpf, "base64"), `${source} stacks[${i}].filters[${j}]`),
          };
        }),
      };
    },
  );
  return {
    pid: Number(v.pid ?? 0),
    command: String(v.command ?? "?"),
    stacks,
    gone: Array.isArray(v.gone) ? v.gone.map(Number) : [],
  };
}

/** The one program `--format bpf` writes: thread `tid`'s filter `index` (either may be left out when unique). */
export function pickFilter(d: Dump, tid?: number, index?: number): Insn[] {
  const stack =
    tid === undefined
      ? (d.stacks.find((s) => s.tids.includes(d.pid)) ?? d.stacks[0])
      : d.stacks.find((s) => s.tids.includes(tid));
  if (!stack)
    throw new SysfenceError(
      "E_USAGE",
      `--tid ${tid}: process ${d.pid} has no such thread; its threads are ${d.stacks.flatMap((s) => s.tids).join(" ")}.`,
    );
  const who = `thread ${tid ?? stack.tids[0]}`;
  if (stack.filters.length === 0)
    throw new SysfenceError("E_DUMP", `${who} of process ${d.pid} has no seccomp filter.`, { exitStatus: 2 });
  if (index === undefined) {
    if (stack.filters.length === 1) return stack.filters[0].program;
    throw new SysfenceError(
      "E_USAGE",
      `${who} has ${stack.filters.length} filters and a raw BPF file holds one program: choose one with --filter 0…${stack.filters.length - 1} (0 is the oldest), or use --format text or json for the whole stack.`,
    );
  }
  const f = stack.filters[index];
  if (!f)
    throw new SysfenceError(
      "E_USAGE",
      `--filter ${index}: ${who} has filters 0…${stack.filters.length - 1}.`,
    );
  return f.program;
}
