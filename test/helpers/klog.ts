// Counting a test's own records in the kernel log. The log is the machine's, and the kernel lets through
// 10 audit messages per 5 s for everyone (printk_ratelimit): a test counts only records that name its own
// pids, and never reads silence as proof on its own — each count is taken in a window where a positive
// control (a record the test makes on purpose) arrived and no "callbacks suppressed" line came first.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Seconds since boot, the clock of dmesg's [stamps]. */
export const uptime = () => Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);

/** The kernel log's lines stamped at or after `since` (seconds since boot). */
export function kernelLinesSince(since: number): string[] {
  return execFileSync("dmesg", { encoding: "utf8", maxBuffer: 1 << 28 })
    .split("\n")
    .filter((l) => {
      const m = /^\[\s*(\d+\.\d+)\]/.exec(l);
      return m !== null && Number(m[1]) >= since;
    });
}

/** The syscall numbers of the SECCOMP records of process `pid` among `lines`. */
export function seccompNrsOf(lines: readonly string[], pid: number): number[] {
  return lines
    .filter((l) => l.includes("type=1326") && l.includes(` pid=${pid} `))
    .map((l) => Number(/ syscall=(\d+) /.exec(l)?.[1]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `launch` (which returns the pid whose records count) until a window is trustworthy: the control
 * record (syscall `control` from that pid) arrived and no suppression line came before it. Returns the
 * pid's record numbers. Tries twice, the second time after the rate limit's interval; throws otherwise.
 */
export async function countedRecords(launch: () => number, control: number): Promise<number[]> {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt) await sleep(5500);
    const since = uptime();
    const pid = launch();
    for (let i = 0; i < 20; i++) {
      const lines = kernelLinesSince(since);
      const at = lines.findIndex(
        (l) => l.includes("type=1326") && l.includes(` pid=${pid} `) && l.includes(` syscall=${control} `),
      );
      if (at >= 0) {
        if (lines.slice(0, at).some((l) => /callbacks suppressed/.test(l))) break; // another window
        await sleep(300); // records after the control, if any, land too
        return seccompNrsOf(kernelLinesSince(since), pid);
      }
      await sleep(150);
    }
  }
  throw new Error(
    `no trustworthy window: the control record (syscall ${control}) never arrived, or the kernel dropped messages before it`,
  );
}
