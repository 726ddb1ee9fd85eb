// What the eBPF kernel tests share: whether they can run here, and a child that makes exactly N getppid()
// calls once told to (test/helpers/getppid-caller.c), so a program attached in between counts N.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { helperFile } from "../helpers/paths.js";

/** A reason to skip the kernel tests, or false. */
export const kernelSkip: string | false =
  process.platform !== "linux"
    ? "eBPF needs Linux"
    : process.arch !== "x64"
      ? "the eBPF kernel tests read x86_64 syscall numbers"
      : process.getuid?.() !== 0
        ? "loading eBPF needs root (CAP_BPF, CAP_PERFMON)"
        : false;

export const NR_GETPPID = 110;

let built: string | undefined;

function callerBinary(): string {
  if (built && existsSync(built)) return built;
  const dir = mkdtempSync(join(tmpdir(), "sysfence-ebpf-"));
  built = join(dir, "getppid-caller");
  execFileSync("gcc", ["-O2", "-o", built, helperFile("getppid-caller.c")]);
  return built;
}

/** A started caller: its pid, and go() that lets it make its calls and resolves when it has exited. */
export function startCaller(n: number): { pid: number; go(): Promise<number> } {
  const child = spawn(callerBinary(), [String(n)], { stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => resolve(code ?? -1));
  });
  return {
    pid: child.pid!,
    go() {
      child.stdin!.end("g");
      return exited;
    },
  };
}
