import { suggestSyscalls } from "../../syscalls/table.js";
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
  help?: boolean;
  /** --learn OUT: learning mode (seccomp user notification); the learned calls are written to OUT. */
  learn?: string;
  /** --learn-all: the privilege class is let through while learning too. */
  learnAll?: boolean;
  /** --learn-answer policy|continue: answer every learned call as the policy does (a stricter trial). */
  learnAnswer?: "policy" | "continue";
}

const VALUED = new Set(["--policy", "--default-action", "--errno", "--preset", "--learn", "--learn-answer"]);

/** Parses the words between `run` and `--`. Throws UsageError (exit 2) on an unknown option. */
export function parseRunArgs(words: readonly string[]): RunArgs {
  const out: RunArgs = { spec: [], preset: [], implicit: true };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!w.startsWith("-")) {
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
        while (
          i + 1 < words.length &&
          /^[a-z][a-z-]*$/.test(words[i + 1]) &&
          words[i + 1].includes("-") &&
          !words[i + 1].startsWith("@")
        ) {
          out.preset.push(words[++i]);
        }
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
      case "-h":
      case "--help":
        out.help = true;
        break;
      default:
        throw new UsageError(`unknown option '${w}' for run${nearestOption(w)}; see 'sysfence run --help'.`);
    }
  }
  return out;
}

/** The options `run` takes, for "did you mean" hints. */
const RUN_OPTIONS = [
  ...VALUED,
  "--deny",
  "--log",
  "--no-implicit",
  "--no-landlock",
  "--dry-run",
  "--learn-all",
  "--help",
];

/** " — did you mean --policy?" for a misspelt option, or nothing. */
function nearestOption(word: string): string {
  const name = word.split("=")[0];
  const near = suggestSyscalls(name, RUN_OPTIONS);
  return near.length ? ` — did you mean ${near.join(" or ")}?` : "";
}
