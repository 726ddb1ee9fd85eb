// Where a use failed under a policy: the kernel's SECCOMP records (which call, killed or answered with an
// errno, no arguments) and strace's view of the same use (the call with its arguments and the errno).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { syscallName } from "../../../src/syscalls/table.js";

/** One SECCOMP record (type=1326) of the kernel log. */
export interface SeccompRecord {
  time: number;
  pid: number;
  exe: string;
  syscall: string;
  /** errno, kill-process, kill-thread, trap, log, … */
  action: string;
}

const ACTIONS: Record<number, string> = {
  2147483648: "kill-process",
  0: "kill-thread",
  196608: "trap",
  327680: "errno",
  2146435072: "trace",
  2147221504: "log",
  2143289344: "user-notif",
};

/** Calls every generated policy answers with ENOSYS on purpose (libc falls back), and sysfence's canary. */
const DELIBERATE = /^(clone3|io_uring_\w+|syscall_0xfff0|65520)$/;

/**
 * The SECCOMP records since `since` (epoch seconds, to the millisecond as the records have it) of the processes `pids` or of an executable whose name
 * starts with one of `exes` (short-lived children whose pids the harness never saw).
 */
export function seccompRecords(since: number, pids: number[], exes: string[]): SeccompRecord[] {
  let log = "";
  try {
    log = execFileSync("dmesg", { encoding: "utf8", maxBuffer: 64 << 20 });
  } catch {
    return [];
  }
  const out: SeccompRecord[] = [];
  for (const l of log.split("\n")) {
    const m =
      /type=1326 audit\((\d+\.\d+):\d+\).* pid=(\d+) .*exe="([^"]*)".* syscall=(\d+) .*code=(0x[0-9a-f]+)/.exec(
        l,
      );
    if (!m || Number(m[1]) < since) continue;
    const [pid, exe] = [Number(m[2]), m[3]];
    if (!pids.includes(pid) && !exes.some((e) => basename(exe).startsWith(e))) continue;
    const nr = Number(m[4]);
    const syscall = syscallName("x86_64", nr) ?? String(nr);
    if (DELIBERATE.test(syscall)) continue;
    const code = Number(m[5]) >>> 0;
    out.push({
      time: Number(m[1]),
      pid,
      exe,
      syscall,
      action: ACTIONS[(code & 0xffff0000) >>> 0] ?? `0x${code.toString(16)}`,
    });
  }
  return out;
}

/** Kill and trap records: what the criterion counts as a kill. */
export const isKill = (r: SeccompRecord) => r.action !== "errno" && r.action !== "log";

/** One failing call as strace showed it. */
export interface FailedCall {
  time: number;
  pid: number;
  syscall: string;
  /** The call as strace printed it, arguments included, with the errno or the killing signal. */
  text: string;
  errno: string;
}

const LINE = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/;
const FAILED = /^(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*) = -1 (EPERM|EACCES|ENOSYS) /;

/**
 * The calls an `strace -f -ttt -o FILE` trace shows failing with EPERM, EACCES or ENOSYS, or killed by
 * SIGSYS, after its first `skipExecs` successful execve (those of strace's own launchers: node, setpriv).
 */
export function failedCalls(file: string, skipExecs: number): FailedCall[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: FailedCall[] = [];
  const pending = new Map<number, string>(); // pid → an unfinished call's text
  const last = new Map<number, string>(); // pid → its last line (a killed thread's is the call that killed it)
  let execs = 0;
  let lastKill = 0;
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [pid, time, rest] = [Number(m[1]), Number(m[2]), m[3]];
    if (/^execve\(.* = 0$/.test(rest) || /^<\.\.\. execve resumed>.* = 0$/.test(rest)) {
      execs++;
      continue;
    }
    if (execs < skipExecs) continue;
    if (rest.endsWith("<unfinished ...>")) pending.set(pid, rest.replace(/\s*<unfinished \.\.\.>$/, ""));
    if (!rest.startsWith("+++") && !rest.startsWith("---")) last.set(pid, rest);
    const sig = /^--- SIGSYS \{.*si_syscall=__NR_(\w+)/.exec(rest);
    if (sig) {
      out.push({ time, pid, syscall: sig[1], text: `${sig[1]}(…) killed by SIGSYS`, errno: "SIGSYS" });
      continue;
    }
    if (/^\+\+\+ killed by SIGSYS/.test(rest)) {
      // kill-process ends every thread; strace reports first the thread whose call the filter killed, and
      // that call is its last line (strace shows it returning, or never returning)
      if (time - lastKill > 0.5) {
        const call = (last.get(pid) ?? "?").replace(/\s*(<unfinished \.\.\.>|= .*)$/, "");
        out.push({
          time,
          pid,
          syscall: /^(\w+)/.exec(call)?.[1] ?? "?",
          text: `${call} → killed (SIGSYS)`,
          errno: "SIGSYS",
        });
      }
      lastKill = time;
      continue;
    }
    const f = FAILED.exec(rest);
    if (!f) continue;
    const syscall = f[1] ?? f[2];
    if (DELIBERATE.test(syscall)) continue;
    const call = f[1] ? `${pending.get(pid) ?? `${syscall}(`}${f[3]}` : `${syscall}(${f[3]}`;
    pending.delete(pid);
    out.push({ time, pid, syscall, text: `${call} → ${f[4]}`, errno: f[4] });
  }
  return out;
}

/** The failures of `policy` that `plain` (the same use without the policy) does not have: name and errno. */
export function newFailures(policy: FailedCall[], plain: FailedCall[]): FailedCall[] {
  const seen = new Set(plain.map((f) => `${f.syscall} ${f.errno}`));
  return policy.filter((f) => !seen.has(`${f.syscall} ${f.errno}`));
}

/** Distinct failing calls, as text, at most `max` (the rest counted). */
export function summarize(calls: FailedCall[], dirs: string[], max = 6): string[] {
  const texts = [
    ...new Set(
      calls.map((c) => {
        let t = c.text.replace(/0x[0-9a-f]{6,}/g, "0x…");
        for (const d of dirs) t = t.replaceAll(d, "<dir>");
        return t.length > 160 ? `${t.slice(0, 157)}…` : t;
      }),
    ),
  ];
  return texts.length > max ? [...texts.slice(0, max), `… ${texts.length - max} more`] : texts;
}
