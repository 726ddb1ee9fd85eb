import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, createReadStream, readFileSync, statSync } from "node:fs";
import { SysfenceError } from "../errors.js";
import { forEachLine } from "../record/engines/strace/parse.js";
import { systemErrorText } from "../util/errno.js";

/** Where SECCOMP records are read from. */
export type AuditSource = "auto" | "journal" | "dmesg" | "audit-log" | "file";

const AUDIT_LOG = "/var/log/audit/audit.log";

function journalWorks(): boolean {
  const r = spawnSync("journalctl", ["-k", "-n", "1", "--no-pager", "-q"], { encoding: "utf8" });
  return !r.error && r.status === 0 && r.stdout.trim() !== "";
}
function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}

/** Picks a source: a file if given, else auditd's log, else journald, else the kernel ring buffer. */
export function resolveSource(
  source: AuditSource,
  file?: string,
): { kind: Exclude<AuditSource, "auto">; path?: string } {
  if (file) return { kind: "file", path: file };
  if (source === "audit-log") return { kind: "audit-log", path: AUDIT_LOG };
  if (source === "journal" || source === "dmesg") return { kind: source };
  if (readable(AUDIT_LOG)) return { kind: "audit-log", path: AUDIT_LOG };
  if (journalWorks()) return { kind: "journal" };
  return { kind: "dmesg" };
}

/** A source named on the command line: auto, journal, dmesg or audit-log, or else a log file. */
export function sourceFromArgument(arg: string): ReturnType<typeof resolveSource> {
  return ["auto", "journal", "dmesg", "audit-log"].includes(arg)
    ? resolveSource(arg as AuditSource)
    : resolveSource("auto", arg);
}

/** Reads every line of a source once. */
export async function readSource(
  src: { kind: string; path?: string },
  onLine: (line: string) => void,
): Promise<void> {
  if (src.path) {
    const input = src.path === "-" ? process.stdin : createReadStream(src.path);
    if (src.path !== "-") {
      await new Promise<void>((resolve, reject) => {
        input.once("open", () => resolve());
        input.once("error", (e: Error) =>
          reject(
            new SysfenceError("E_IO", `cannot read ${src.path}: ${systemErrorText(e)}.`, {
              cause: e,
            }),
          ),
        );
      });
    }
    await forEachLine(input, onLine);
    return;
  }
  const [cmd, args] =
    src.kind === "journal" ? ["journalctl", ["-k", "-o", "cat", "--no-pager", "-q"]] : ["dmesg", []];
  const r = spawnSync(cmd as string, args as string[], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (r.error || r.status !== 0) {
    throw new SysfenceError(
      "E_IO",
      `cannot read the kernel log with ${cmd}: ${r.error?.message ?? r.stderr.trim()}; run as root, or give a log FILE.`,
    );
  }
  for (const line of r.stdout.split("\n")) onLine(line);
}

/** Follows a source for new lines until stopped; returns a stop function. */
export function followSource(
  src: { kind: string; path?: string },
  onLine: (line: string) => void,
): () => void {
  if (src.path && src.path !== "-") {
    let offset = statSync(src.path).size;
    let rest = "";
    const timer = setInterval(() => {
      const size = statSync(src.path!).size;
      if (size < offset) offset = 0; // rotated
      if (size === offset) return;
      const stream = createReadStream(src.path!, { start: offset, end: size - 1, encoding: "utf8" });
      offset = size;
      stream.on("data", (chunk) => {
        const text = rest + chunk;
        const lines = text.split("\n");
        rest = lines.pop() ?? "";
        for (const l of lines) onLine(l);
      });
    }, 300);
    return () => clearInterval(timer);
  }
  const [cmd, args] =
    src.kind === "journal"
      ? ["journalctl", ["-k", "-f", "-n", "0", "-o", "cat", "-q"]]
      : ["dmesg", ["--follow-new"]];
  const child = spawn(cmd as string, args as string[], { stdio: ["ignore", "pipe", "inherit"] });
  void forEachLine(child.stdout, onLine);
  return () => child.kill();
}

/** Parses --since: epoch seconds, an ISO date, or a duration back from now (30s, 10m, 2h, 1d). */
export function parseSince(text: string | undefined, now = Date.now()): number | undefined {
  if (!text) return undefined;
  const d = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text);
  if (d) return now / 1000 - Number(d[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[d[2] as "s" | "m" | "h" | "d"];
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new SysfenceError(
      "E_USAGE",
      `cannot read --since '${text}'; use epoch seconds, an ISO date, or 30s/10m/2h/1d.`,
    );
  return t / 1000;
}

/** When the machine booted (epoch seconds), from /proc/uptime; undefined when unreadable. */
export function bootTime(now = Date.now() / 1000): number | undefined {
  try {
    return now - Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  } catch {
    return undefined;
  }
}
