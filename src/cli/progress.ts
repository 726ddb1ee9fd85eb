// Live progress of long work on standard error: one line redrawn in place (\r, erase to the end of the
// line), with a spinner and the elapsed time, erased when the work ends. Drawn only when standard error is
// a terminal and the command was not asked for -q or --json: piped or captured output never holds it.
// The library never prints: commands pass callbacks into it and turn what they are told into text here.
import { basename } from "node:path";
import type { AnalyzeProgress } from "../analyze/analyze.js";
import type { StaticProgress } from "../generate/static-input.js";
import type { CliIO } from "./io.js";

/** `using progress = startProgress(…)`: erased however the command's scope ends (an error too). */
export interface Progress extends Disposable {
  /** What the work is doing now (one line; clipped to the terminal's width). */
  update(text: string): void;
  /** Writes whole lines to stderr above the progress line (a note): erased first, drawn again after. */
  print(lines: string): void;
  /** Erases the line (and stops redrawing); safe to call more than once. */
  done(): void;
}

const FRAMES = ["-", "\\", "|", "/"];
/** How often the line is redrawn while the work waits on I/O (synchronous work redraws on update). */
const REDRAW_MS = 250;

const none = (io: CliIO): Progress => ({
  update: () => {},
  print: (l) => io.stderr(l),
  done: () => {},
  [Symbol.dispose]: () => {},
});

/** Progress for a command's `prefix` ("sysfence analyze"); a no-op unless stderr is a terminal and `enabled`. */
export function startProgress(io: CliIO, prefix: string, enabled = true): Progress {
  if (!enabled || io.stderrIsTTY !== true) return none(io);
  const start = Date.now();
  let text = "";
  let frame = 0;
  let drawn = false;
  let finished = false;
  const draw = () => {
    if (finished) return;
    const secs = ((Date.now() - start) / 1000).toFixed(1);
    const line = `${prefix}: ${FRAMES[frame++ % FRAMES.length]} ${secs} s · ${text}`;
    // a pseudo-terminal without a size says 0 columns
    const width = Math.max(20, (process.stderr.columns || 80) - 1);
    const clipped = line.length > width ? `${line.slice(0, width - 1)}…` : line;
    io.stderr(`\r${clipped}\x1b[K`);
    drawn = true;
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  const progress: Progress = {
    update(next) {
      text = next;
      draw();
    },
    print(lines) {
      if (drawn && !finished) io.stderr("\r\x1b[K");
      io.stderr(lines);
      if (drawn) draw();
    },
    done() {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      if (drawn) io.stderr("\r\x1b[K");
    },
    [Symbol.dispose]: () => progress.done(),
  };
  return progress;
}

/** The text of an analysis's progress: "3 object(s) done, reading libc.so.6". */
export function analyzeProgressText(p: AnalyzeProgress): string {
  return p.step === "object"
    ? `${p.objects} object(s) done, reading ${basename(p.path)}`
    : `${p.objects} objects read, reaching across them`;
}

/** The text of generate's static analysis: "analysing python3 (1/2): 3 object(s) done, reading …". */
export function staticProgressText(p: StaticProgress): string {
  return `analysing ${basename(p.elf)}${p.programs > 1 ? ` (${p.program}/${p.programs})` : ""}: ${analyzeProgressText(p)}`;
}
