import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeActionValue } from "../abi/action.js";
import { Emulator } from "../bpf/emulator.js";
import { encodeProgram, type Insn } from "../bpf/insn.js";
import { compile } from "../compile/compile.js";
import { SysfenceError } from "../errors.js";
import { formatAction } from "../policy/actions.js";
import type { Policy } from "../policy/model.js";
import { ARCHES } from "../syscalls/arches.js";
import { constantValue } from "../syscalls/constants.js";
import { syscallNumber } from "../syscalls/table.js";
import { buildWithLibseccomp, haveLibseccomp } from "./libseccomp.js";

const PROBE_SRC = fileURLToPath(new URL("../../../scripts/bench_probe.c", import.meta.url));

/** A call the benchmark times: only calls that are harmless whatever the filter answers (fd -1, empty paths). */
export interface BenchCall {
  role: "allowed, argument-free" | "allowed, argument-checked" | "denied (errno)";
  label: string;
  nr: number;
  args: bigint[];
}

const FD = 0xffffffffffffffffn; // -1: every fd-taking call fails fast with EBADF once allowed

/** Picks the three calls to time from the policy, by asking its compiled program. */
export function pickCalls(program: readonly Insn[]): BenchCall[] {
  const emu = new Emulator(program);
  const audit = ARCHES.x86_64.audit;
  const answer = (nr: number, args: bigint[]) => emu.run({ nr, arch: audit, args });
  const nr = (n: string) => syscallNumber("x86_64", n)!;
  const out: BenchCall[] = [];
  for (const n of ["read", "getppid", "getpid", "close", "lseek", "dup"]) {
    const r = answer(nr(n), [FD, 0n, 0n]);
    if (decodeActionValue(r.value).kind === "allow" && !r.readArgs) {
      out.push({ role: "allowed, argument-free", label: `${n}(-1)`, nr: nr(n), args: [FD, 0n, 0n] });
      break;
    }
  }
  const argCandidates: [string, string, bigint[]][] = [
    ["ioctl", "ioctl(-1, FIONBIO)", [FD, BigInt(constantValue("FIONBIO")!), 0n]],
    ["ioctl", "ioctl(-1, FIONREAD)", [FD, BigInt(constantValue("FIONREAD")!), 0n]],
    ["fcntl", "fcntl(-1, F_GETFL)", [FD, BigInt(constantValue("F_GETFL")!), 0n]],
    ["write", "write(2, NULL, 0)", [2n, 0n, 0n]],
    ["personality", "personality(0xffffffff)", [0xffffffffn, 0n, 0n]], // a query: changes nothing
  ];
  for (const [n, label, args] of argCandidates) {
    const r = answer(nr(n), args);
    if (decodeActionValue(r.value).kind === "allow" && r.readArgs) {
      out.push({ role: "allowed, argument-checked", label, nr: nr(n), args });
      break;
    }
  }
  // Each is harmless when it does run (the no-filter baseline runs it): NULL pointers, fd -1, unshare(0).
  const denyCandidates: [string, bigint[]][] = [
    ["openat", [0xffffffffffffff9cn, 0n, 0n]],
    ["unshare", [0n, 0n, 0n]],
    ["setns", [FD, 0n, 0n]],
    ["uname", [0n, 0n, 0n]],
    ["getuid", [0n, 0n, 0n]],
    ["sysinfo", [0n, 0n, 0n]],
    ["getcwd", [0n, 0n, 0n]],
  ];
  for (const [n, args] of denyCandidates) {
    const a = decodeActionValue(answer(nr(n), args).value);
    if (a.kind === "errno") {
      out.push({ role: "denied (errno)", label: `${n} → ${formatAction(a)}`, nr: nr(n), args });
      break;
    }
  }
  return out;
}

/** Per-call cost in nanoseconds for each filter, and instructions each filter executes. */
export interface BenchResult {
  calls: BenchCall[];
  engines: { engine: string; length: number; ns: number[]; instructions: number[] }[];
}

/** Times the calls under no filter, sysfence's program and (where installed) libseccomp's two builds. */
export function benchPolicy(policy: Policy, iterations = 200000): BenchResult {
  if (process.platform !== "linux" || process.arch !== "x64")
    throw new SysfenceError("E_SECCOMP_UNAVAILABLE", "sysfence bench measures on Linux x86_64.");
  const x64: Policy = { ...policy, architectures: ["x86_64"] };
  const ours = compile(x64, { stats: false }).program;
  const calls = pickCalls(ours);
  const dir = mkdtempSync(join(tmpdir(), "sysfence-bench-"));
  try {
    const bin = join(dir, "bench_probe");
    const cc = spawnSync("gcc", ["-O2", "-o", bin, PROBE_SRC], { encoding: "utf8" });
    if (cc.status !== 0)
      throw new SysfenceError(
        "E_COMMAND_NOT_FOUND",
        `sysfence bench needs gcc to build its probe: ${cc.error?.message ?? cc.stderr}`,
      );
    const programs: [string, Insn[] | undefined][] = [
      ["no filter", undefined],
      ["sysfence", ours],
    ];
    if (haveLibseccomp()) {
      programs.push(["libseccomp linear", buildWithLibseccomp(x64, 1).program]);
      programs.push(["libseccomp binary tree", buildWithLibseccomp(x64, 2).program]);
    }
    const queries = calls.map((c) => `${c.nr}:${c.args.map((a) => `0x${a.toString(16)}`).join(":")}`);
    const engines = programs.map(([engine, prog]) => {
      let file = "-";
      if (prog) {
        file = join(dir, `${engine.replace(/\W+/g, "-")}.bpf`);
        writeFileSync(file, encodeProgram(prog));
      }
      const out = execFileSync(bin, [file, String(iterations), ...queries], { encoding: "utf8" });
      const ns = out.trim().split("\n").map(Number);
      const emu = prog ? new Emulator(prog) : undefined;
      const instructions = calls.map((c) =>
        emu ? emu.run({ nr: c.nr, arch: ARCHES.x86_64.audit, args: c.args }).executed : 0,
      );
      return { engine, length: prog?.length ?? 0, ns, instructions };
    });
    return { calls, engines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wall time of a command with and without the policy (median and spread over runs). */
export function benchWorkload(
  policyFile: string,
  command: string,
  runs = 7,
): { plain: number[]; launcher: number[]; filtered: number[] } {
  const cli = fileURLToPath(new URL("../cli/main.js", import.meta.url));
  const time = (argv: string[]) => {
    const t = performance.now();
    const r = spawnSync(argv[0], argv.slice(1), { stdio: "ignore" });
    if (r.status !== 0) {
      throw new SysfenceError(
        "E_RECORDED_FAILURE",
        `the workload failed (status ${r.status}${r.signal ? `, ${r.signal}` : ""}) running ${argv.slice(argv.indexOf("run")).join(" ")}; does the policy allow it?`,
      );
    }
    return performance.now() - t;
  };
  const plain: number[] = [];
  const launcher: number[] = [];
  const filtered: number[] = [];
  for (let i = 0; i < runs; i++) {
    plain.push(time(["sh", "-c", command]));
    // the launcher alone: a one-rule filter, so the difference to the policy run is the policy's cost
    launcher.push(time([process.execPath, cli, "run", "--deny", "reboot", "--", "sh", "-c", command]));
    filtered.push(time([process.execPath, cli, "run", "--policy", policyFile, "--", "sh", "-c", command]));
  }
  const sort = (xs: number[]) => xs.sort((a, b) => a - b);
  return { plain: sort(plain), launcher: sort(launcher), filtered: sort(filtered) };
}
