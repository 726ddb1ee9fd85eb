import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeProgram, type Insn } from "../../src/bpf/insn.js";
import { helperFile } from "./paths.js";

let built: string | undefined;

/** Builds the C probe once per test process. */
export function probeBinary(): string {
  if (built && existsSync(built)) return built;
  const dir = mkdtempSync(join(tmpdir(), "sysfence-probe-"));
  built = join(dir, "probe");
  execFileSync("gcc", ["-O2", "-o", built, helperFile("probe.c")]);
  return built;
}

/** What the real kernel did with one call. */
export type KernelOutcome =
  | { kind: "ret"; ret: number; errno: number }
  | { kind: "signal"; signal: number }
  | { kind: "trap"; data: number }
  | { kind: "other"; text: string };

/** A call for the probe: syscall number and up to six 64-bit arguments; i386 uses int $0x80. */
export interface KernelCall {
  nr: number;
  args?: readonly bigint[];
  i386?: boolean;
}

/** Builds the probe with an exported C install function (`sysfence_install`) linked in. */
export function probeWithExport(
  cSource: string,
  kind: "libseccomp-c" | "bpf-c",
  cflags: string[] = [],
): string {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-export-"));
  const src = join(dir, kind === "bpf-c" ? "filter.h" : "install.c");
  writeFileSync(src, cSource);
  const bin = join(dir, "probe");
  const args =
    kind === "bpf-c"
      ? [
          "-O2",
          "-DEXPORTED_INSTALL=sysfence_install_wrapped",
          "-include",
          src,
          "-o",
          bin,
          helperFile("probe.c"),
          "-x",
          "c",
          "-",
        ]
      : [
          "-O2",
          ...cflags,
          "-DEXPORTED_INSTALL=sysfence_install",
          "-o",
          bin,
          helperFile("probe.c"),
          src,
          "-lseccomp",
        ];
  const input =
    kind === "bpf-c"
      ? `#include "${src}"\nint sysfence_install_wrapped(void) { return sysfence_install(); }\n`
      : undefined;
  execFileSync("gcc", args, { input, stdio: ["pipe", "inherit", "inherit"] });
  return bin;
}

/** Runs calls through a probe built with probeWithExport (the filter comes from the linked function). */
export function runWithExport(bin: string, calls: readonly KernelCall[]): KernelOutcome[] {
  const out = execFileSync(bin, ["/nonexistent", ...calls.map(queryText)], { encoding: "utf8" });
  return out.trim().split("\n").map(parseOutcome);
}

function queryText(c: KernelCall): string {
  const args = [...(c.args ?? [])];
  while (args.length < 6) args.push(0n);
  return `${c.i386 ? "i386/" : ""}${c.nr}:${args.map((a) => `0x${BigInt.asUintN(64, a).toString(16)}`).join(":")}`;
}

/** Installs `program` in a fresh child per call and reports what the kernel did. */
export function runOnKernel(program: readonly Insn[], calls: readonly KernelCall[]): KernelOutcome[] {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-filter-"));
  const file = join(dir, "filter.bpf");
  writeFileSync(file, encodeProgram(program));
  const queries = calls.map((c) => {
    const args = [...(c.args ?? [])];
    while (args.length < 6) args.push(0n);
    return `${c.i386 ? "i386/" : ""}${c.nr}:${args.map((a) => `0x${BigInt.asUintN(64, a).toString(16)}`).join(":")}`;
  });
  const out = execFileSync(probeBinary(), [file, ...queries], { encoding: "utf8" });
  return out.trim().split("\n").map(parseOutcome);
}

function parseOutcome(line: string): KernelOutcome {
  let m = /^ret (-?\d+) errno (\d+)$/.exec(line);
  if (m) return { kind: "ret", ret: Number(m[1]), errno: Number(m[2]) };
  m = /^signal (\d+)$/.exec(line);
  if (m) return { kind: "signal", signal: Number(m[1]) };
  m = /^trap (\d+)$/.exec(line);
  if (m) return { kind: "trap", data: Number(m[1]) };
  return { kind: "other", text: line };
}
