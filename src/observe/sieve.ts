// Lines of a kernel or audit log in, the records that may be used out — and an account of the rest: the
// malformed SECCOMP lines by line number, and the records of other programs by executable. What a command
// does not use it says it did not use.
import type { RecordFilter } from "./programs.js";
import { decodeSeccompLine, type MalformedRecord, type SeccompRecord, suppressedCount } from "./records.js";

/** At most this many malformed lines are named one by one; the rest are counted. */
const NAMED_MALFORMED = 10;

/** The records of a log that a command uses, and what it left out and why. */
export class RecordSieve {
  readonly records: SeccompRecord[] = [];
  /** Malformed SECCOMP lines (inside the window, when there is one): line number and what is wrong. */
  readonly malformed: { line: number; why: string }[] = [];
  /** Records not taken, by reason and then executable: counts. */
  readonly ignored = new Map<string, Map<string, number>>();
  private lineNo = 0;

  constructor(private readonly o: { filter?: RecordFilter; since?: number } = {}) {}

  /** Reads one line; the decoded line (a record, a malformed one, or undefined for any other line). */
  feed(line: string): SeccompRecord | MalformedRecord | undefined {
    this.lineNo++;
    const d = decodeSeccompLine(line);
    if (d === undefined) return d;
    const time = /audit\((\d+)\.(\d+):/.exec(line);
    const t = time ? Number(`${time[1]}.${time[2]}`) : undefined;
    if (this.o.since !== undefined && t !== undefined && t < this.o.since) return d;
    if ("malformed" in d) {
      this.malformed.push({ line: this.lineNo, why: d.malformed });
      return d;
    }
    if (this.o.since !== undefined && t === undefined) return d;
    const why = this.o.filter?.reject(d);
    if (why === undefined) this.records.push(d);
    else {
      const byExe = this.ignored.get(why) ?? new Map<string, number>();
      const exe = d.exe ?? (d.comm === undefined ? "(no exe)" : `comm ${JSON.stringify(d.comm)} (no exe)`);
      byExe.set(exe, (byExe.get(exe) ?? 0) + 1);
      this.ignored.set(why, byExe);
    }
    return d;
  }

  /** How many records were not taken. */
  get ignoredCount(): number {
    let n = 0;
    for (const m of this.ignored.values()) for (const c of m.values()) n += c;
    return n;
  }

  /**
   * What was left out, as sentences for stderr (no trailing newline): each malformed line by number, then
   * the ignored records per reason with their executables. `source` names the log, `hint` says how to
   * take another program's records.
   */
  report(source: string, hint: string, printable: (s: string) => string = (s) => s): string[] {
    const out = this.malformed
      .slice(0, NAMED_MALFORMED)
      .map(
        (m) =>
          `${source}:${m.line}: a malformed SECCOMP record (${printable(m.why)}); ignored: it is not read as any action.`,
      );
    if (this.malformed.length > NAMED_MALFORMED)
      out.push(
        `${source}: ${this.malformed.length - NAMED_MALFORMED} more malformed SECCOMP record(s) ignored.`,
      );
    for (const [why, byExe] of this.ignored) {
      const n = [...byExe.values()].reduce((a, c) => a + c, 0);
      const list = [...byExe]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([exe, c]) => `${printable(exe)} ×${c}`)
        .join(", ");
      const more = byExe.size > 8 ? `, and ${byExe.size - 8} more program(s)` : "";
      out.push(
        why === "another program"
          ? `ignored ${n} SECCOMP record(s) of other programs than ${printable(this.o.filter?.wanted ?? "?")}: ${list}${more}; ${hint}.`
          : `ignored ${n} SECCOMP record(s): ${printable(why)}.`,
      );
    }
    return out;
  }
}

/**
 * The audit messages the kernel said it dropped ("kauditd_printk_skb: N callbacks suppressed") that may fall
 * inside a window starting at `since`. Without a window, every such line counts. With one, a line stamped in
 * seconds since boot (dmesg, with `boot` known) counts when its stamp is inside; an unstamped one (the
 * journal's text, a saved log) by the first audit record after it: the kernel prints the line just before
 * the message that ends the suppression, so drops before a record older than the window are older too. A
 * line with no record after it counts (nothing says it is older).
 */
export class DroppedCounter {
  private counted = 0;
  private pending = 0;

  constructor(private readonly o: { since?: number; boot?: number } = {}) {}

  feed(line: string): void {
    const n = suppressedCount(line);
    const { since, boot } = this.o;
    if (n) {
      const stamp = /^\[\s*(\d+\.\d+)\]/.exec(line);
      if (since === undefined) this.counted += n;
      else if (stamp && boot !== undefined) this.counted += boot + Number(stamp[1]) >= since ? n : 0;
      else this.pending += n;
      return;
    }
    const time = this.pending ? /audit\((\d+)\.(\d+):/.exec(line) : null;
    if (!time || since === undefined) return;
    if (Number(`${time[1]}.${time[2]}`) >= since) this.counted += this.pending;
    this.pending = 0;
  }

  /** The messages dropped in the window (those whose time is unknown included). */
  get total(): number {
    return this.counted + this.pending;
  }
}
