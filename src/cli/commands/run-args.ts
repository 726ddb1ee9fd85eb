import { PRESETS } from "../../install/run-policy.js";
import { isKnownSyscall, suggestSyscalls } from "../../syscalls/table.js";
import { UsageError } from "../io.js";

/** Options of `sysfence run`, parsed without commander: `run` is on every target's start-up path. */
export interface RunArgs {
  spec: string[];
  policy?: string;
  defaultAction?: string;
  errno?: string;
  deny?: boolean;
  log?: boolean;
  preset: string[];
  implicit: boolean;
  /** false: --no-landlock, the policy's Landlock layer is not applied (as on a kernel without it). */
  landlock?: boolean;
  dryRun?: boolean;
  /** --json (with --dry-run only): the dry run's summary as one JSON object. */
  json?: boolean;
  help?: boolean;
  /** --learn OUT: learning mode (seccomp user notification); the learned calls are written to OUT. */
  learn?: string;
  /** --learn-all: the privilege class is let through while learning too. */
  learnAll?: boolean;
  /** --learn-answer policy|continue: answer every learned call as the policy does (a stricter trial). */
  learnAnswer?: "policy" | "continue";
}

/** `run`'s words split: its options and spec, the command it runs, and -q. */
export interface RunWords {
  args: RunArgs;
  /** The command and its arguments, exactly as given (never parsed as sysfence's options). */
  command: string[];
  /** -q/--quiet before the command: no warnings or notes. */
  quiet: boolean;
}

const VALUED = new Set(["--policy", "--default-action", "--errno", "--preset", "--learn", "--learn-answer"]);

/**
 * Parses the words after `run`. Options are read up to the first `--` or, once --policy or --preset is
 * given, up to the first operand: that word and everything after it is the command (`run --policy p.yaml
 * jq -n 1` runs `jq -n 1`). Without --policy/--preset the operands are syscall names and @groups, so the
 * command needs `--` before it. An operand after --policy/--preset that is an @group, or a syscall name
 * with a `--` later, still adds to the allow-list (`run --policy p.yaml @basic-io -- ls`).
 * Throws UsageError on an unknown option or a missing command.
 */
export function parseRunWords(words: readonly string[]): RunWords {
  const out: RunArgs = { spec: [], preset: [], implicit: true };
  let quiet = false;
  let command: string[] | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === "--") {
      command = words.slice(i + 1);
      break;
    }
    if (!w.startsWith("-") || w === "-") {
      const laterDashes = words.indexOf("--", i + 1) > 0;
      const specWord = w.startsWith("@") || (laterDashes && isKnownSyscall(w));
      if ((out.policy !== undefined || out.preset.length > 0) && !specWord) {
        command = words.slice(i);
        break;
      }
      out.spec.push(w);
      continue;
    }
    const [flag, inline] = w.includes("=")
      ? [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]
      : [w, undefined];
    let value: string | undefined;
    if (VALUED.has(flag)) {
      value = inline ?? words[++i];
      if (value === undefined) throw new UsageError(`option ${flag} needs a value.`);
    }
    switch (flag) {
      case "--policy":
        out.policy = value;
        break;
      case "--default-action":
        out.defaultAction = value;
        break;
      case "--errno":
        out.errno = value;
        break;
      case "--preset":
        out.preset.push(value!);
        // like commander's variadic option: following words that name presets belong to it
        while (i + 1 < words.length && Object.hasOwn(PRESETS, words[i + 1])) out.preset.push(words[++i]);
        break;
      case "--deny":
        out.deny = true;
        break;
      case "--log":
        out.log = true;
        break;
      case "--no-implicit":
        out.implicit = false;
        break;
      case "--no-landlock":
        out.landlock = false;
        break;
      case "--dry-run":
        out.dryRun = true;
        break;
      case "--json":
        out.json = true;
        break;
      case "--learn":
        out.learn = value;
        break;
      case "--learn-all":
        out.learnAll = true;
        break;
      case "--learn-answer":
        if (value !== "policy" && value !== "continue")
          throw new UsageError(`--learn-answer takes policy or continue, not '${value}'.`);
        out.learnAnswer = value;
        break;
      case "-q":
      case "--quiet":
        quiet = true;
        break;
      case "-h":
      case "--help":
        out.help = true;
        break;
      default:
        // `run @default ls -l`: the command's own options reached run's parser
        if (out.spec.length && !words.includes("--", i)) throw needsDashes(out.spec, words.slice(i));
        throw new UsageError(`unknown option '${w}' for run${nearestOption(w)}; see 'sysfence run --help'.`);
    }
  }
  if (command === undefined && out.spec.length && !out.help) throw needsDashes(out.spec, []);
  // a run's stdout is the program's own: only a dry run has a summary to print as JSON
  if (out.json && !out.dryRun && !out.help)
    throw new UsageError(
      "--json goes with --dry-run (the summary of what would run); a run's standard output is the program's.",
    );
  return { args: out, command: command ?? [], quiet };
}

/** Parses the words after `run` (see parseRunWords) and returns its options only. */
export function parseRunArgs(words: readonly string[]): RunArgs {
  return parseRunWords(words).args;
}

/** The error for a command given without `--` after syscall names and @groups. */
function needsDashes(spec: readonly string[], rest: readonly string[]): UsageError {
  // the first operand that is neither a syscall nor a group is most likely where the command starts
  const at = spec.findIndex((s) => !s.startsWith("@") && !isKnownSyscall(s));
  const names = at < 0 ? spec : spec.slice(0, at);
  const cmd = [...(at < 0 ? [] : spec.slice(at)), ...rest];
  const example = `sysfence run ${[...names, "--", ...(cmd.length ? cmd : ["COMMAND"])].join(" ")}`;
  return new UsageError(
    `the syscall names and @groups given to run are operands, so the command needs '--' before it: ${example} (with --policy or --preset alone, '--' is optional).`,
  );
}

/** The options `run` takes, for "did you mean" hints. */
const RUN_OPTIONS = [
  ...VALUED,
  "--deny",
  "--log",
  "--no-implicit",
  "--no-landlock",
  "--dry-run",
  "--json",
  "--learn-all",
  "--quiet",
  "--help",
];

/** " — did you mean --policy?" for a misspelt option, or nothing. */
function nearestOption(word: string): string {
  const name = word.split("=")[0];
  const near = suggestSyscalls(name, RUN_OPTIONS);
  return near.length ? ` — did you mean ${near.join(" or ")}?` : "";
}
