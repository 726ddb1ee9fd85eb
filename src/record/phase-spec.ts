// What a recording is asked to find out beside the calls: when the work phase starts (--after), which
// processes count (--only-exe / --exclude-exe), and what the builder needs of an adapter's events.
import { SysfenceError } from "../errors.js";

/** When the work phase starts (--after). */
export type PhaseSpec =
  | { kind: "none" }
  | { kind: "first"; syscall: string }
  | { kind: "marker"; text: string }
  | { kind: "delay"; seconds: number };

/** Parses an --after value: listen, accept, first:SYSCALL, ready, marker:TEXT, delay:SECONDS. */
export function parsePhase(text: string | undefined): PhaseSpec {
  if (!text) return { kind: "none" };
  if (text === "listen") return { kind: "first", syscall: "listen" };
  if (text === "accept") return { kind: "first", syscall: "accept*" };
  if (text === "ready") return { kind: "marker", text: "READY=1" };
  const m = /^(first|marker|delay):(.+)$/.exec(text);
  if (m?.[1] === "first") return { kind: "first", syscall: m[2] };
  if (m?.[1] === "marker") return { kind: "marker", text: m[2] };
  if (m?.[1] === "delay" && Number.isFinite(Number(m[2]))) return { kind: "delay", seconds: Number(m[2]) };
  throw new SysfenceError(
    "E_USAGE",
    `unknown --after '${text}'; use listen, accept, first:SYSCALL, ready, marker:TEXT or delay:SECONDS.`,
  );
}

/** What the builder asks of an adapter that folds calls into tallies (ProfileBuilder.eventNeeds). */
export interface EventNeeds {
  /** Calls that are each an event of their own; null: none may be folded. */
  separate: string[] | null;
  /** Every event's time is read; otherwise only these calls' (and an adapter's first event of a batch). */
  allTimes: boolean;
  timeNames: string[];
  /** Calls whose string arguments are read (into the text column). */
  strings: string[];
  /** Every syscall name some architecture has: an adapter accepts only a few others (a newer strace's). */
  known: string[];
}

/** Which processes to count (--only-exe / --exclude-exe), by full path or basename. */
export interface Focus {
  only?: string[];
  exclude?: string[];
}
