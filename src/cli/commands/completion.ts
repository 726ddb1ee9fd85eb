// `sysfence completion bash|zsh|fish` and `sysfence man`: both generated from the registered command
// definitions (names, options, descriptions) and cli/examples.ts, so they never drift from --help.
import type { Command, Option } from "commander";
import { EXPORT_FORMATS } from "../../export/export.js";
import { LAUNCHERS } from "../../export/launchers.js";
import { PRESETS } from "../../install/run-policy.js";
import { POLICY_FORMATS } from "../../policy/formats/parsed.js";
import { ENGINE_CHOICES } from "../../record/engine.js";
import { ARCH_NAMES } from "../../syscalls/arches.js";
import { groupNames } from "../../syscalls/groups.js";
import { EXAMPLES } from "../examples.js";
import { EXIT_TABLE } from "../exit-status.js";
import { type CliIO, UsageError } from "../io.js";
import {
  ANALYZE_ARCHES,
  ARGS_MODES,
  AUDIT_SOURCES,
  COMPILE_FORMATS,
  DIFF_FORMATS,
  DUMP_FORMATS,
  HOOK_ENGINES,
  K8S_API_VERSIONS,
  PHASES,
  REPORT_FORMATS,
  SHELLS,
  STATIC_MODES,
  THREAD_ROLES,
  UNSEEN_ANSWERS,
} from "../option-values.js";

/** The words an option's value is one of; `files`: a file name is also a value (a log file, a source). */
interface Values {
  words: readonly string[];
  files?: boolean;
}

/** Values by option for every command ("*"), then by command: the lists the parsers check against. */
const OPTION_VALUES: Record<string, Record<string, Values>> = {
  "*": { "--arch": { words: ARCH_NAMES }, "--input-format": { words: POLICY_FORMATS } },
  analyze: { "--arch": { words: ANALYZE_ARCHES } },
  audit: { "--source": { words: AUDIT_SOURCES } },
  compile: { "--format": { words: COMPILE_FORMATS } },
  diff: {
    "--format": { words: DIFF_FORMATS },
    "--phase": { words: PHASES },
    "--args": { words: ARGS_MODES },
    "--static": { words: STATIC_MODES },
  },
  merge: { "--from-audit": { words: AUDIT_SOURCES, files: true } },
  dump: { "--format": { words: DUMP_FORMATS } },
  export: {
    "--format": { words: EXPORT_FORMATS },
    "--launcher": { words: LAUNCHERS },
    "--api-version": { words: K8S_API_VERSIONS },
    "--nnp": { words: ["true", "false"] },
  },
  generate: {
    "--phase": { words: PHASES },
    "--args": { words: ARGS_MODES },
    "--static": { words: STATIC_MODES },
    "--thread-role": { words: THREAD_ROLES },
    "--unseen": { words: UNSEEN_ANSWERS },
    "--source": { words: AUDIT_SOURCES, files: true },
    "--from-audit": { words: AUDIT_SOURCES, files: true },
  },
  hook: { "--engine": { words: HOOK_ENGINES } },
  record: { "--engine": { words: ENGINE_CHOICES } },
  run: { "--preset": { words: Object.keys(PRESETS) } },
  report: { "--format": { words: REPORT_FORMATS } },
};

/** What a command's option takes, when it is one of a list; undefined for free values and flags. */
export function optionValues(command: string, long: string): Values | undefined {
  return OPTION_VALUES[command]?.[long] ?? OPTION_VALUES["*"][long];
}

/** The words a command's operands are (completion's shell); undefined: files. */
const OPERAND_WORDS: Record<string, readonly string[]> = { completion: SHELLS };

interface OptionSpec {
  flags: string;
  long?: string;
  short?: string;
  description: string;
  takesValue: boolean;
  values?: Values;
}

interface CommandSpec {
  name: string;
  description: string;
  usage: string;
  options: OptionSpec[];
}

function specOf(c: Command): CommandSpec {
  return {
    name: c.name(),
    description: c.description(),
    usage: c.usage(),
    options: (c.options as readonly Option[]).map((o) => ({
      flags: o.flags,
      long: o.long,
      short: o.short,
      description: o.description,
      takesValue: o.required || o.optional,
      values: o.long && (o.required || o.optional) ? optionValues(c.name(), o.long) : undefined,
    })),
  };
}

const specsOf = (program: Command) =>
  program.commands.map(specOf).sort((a, b) => a.name.localeCompare(b.name));
const longs = (s: CommandSpec) => [...s.options.map((o) => o.long).filter(Boolean), "--help"] as string[];

/** bash: `cmd:--option) words; files` for every option with a list of values. */
function bashValueCases(specs: CommandSpec[]): string {
  const out: string[] = [];
  for (const s of specs)
    for (const o of s.options) {
      if (!o.values) continue;
      const names = [o.long, o.short].filter(Boolean).map((n) => `${s.name}:${n}`);
      const words = `COMPREPLY=($(compgen -W "${o.values.words.join(" ")}" -- "$cur"))`;
      const files = o.values.files ? '; COMPREPLY+=($(compgen -f -- "$cur"))' : "";
      out.push(`    ${names.join("|")}) ${words}${files}; return ;;`);
    }
  for (const [name, words] of Object.entries(OPERAND_WORDS))
    if (specs.some((s) => s.name === name))
      out.push(`    ${name}:${name}) COMPREPLY=($(compgen -W "${words.join(" ")}" -- "$cur")); return ;;`);
  return out.join("\n");
}

function bash(specs: CommandSpec[]): string {
  const cases = specs.map((s) => `    ${s.name}) opts="${longs(s).join(" ")}" ;;`).join("\n");
  return `# bash completion for sysfence (generated by 'sysfence completion bash')
_sysfence() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]} prev="" opts="" i
  for ((i = 1; i < COMP_CWORD; i++)); do [[ \${COMP_WORDS[i]} == -- ]] && { COMPREPLY=($(compgen -c -- "$cur")); return; }; done
  if ((COMP_CWORD == 1)); then
    COMPREPLY=($(compgen -W "${specs.map((s) => s.name).join(" ")} --help --version --quiet" -- "$cur")); return
  fi
  ((COMP_CWORD > 1)) && prev=\${COMP_WORDS[COMP_CWORD-1]}
  # --option=value: bash splits at '=' (COMP_WORDBREAKS)
  if [[ $cur == = ]]; then cur=""; elif [[ $prev == = ]] && ((COMP_CWORD > 2)); then prev=\${COMP_WORDS[COMP_CWORD-2]}; fi
  case $cmd:$prev in
${bashValueCases(specs)}
  esac
  case $cmd in
${cases}
  esac
  case $cur in
    @*) COMPREPLY=($(compgen -W "${groupNames().join(" ")}" -- "$cur")) ;;
    -*) COMPREPLY=($(compgen -W "$opts --quiet" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}
complete -o filenames -F _sysfence sysfence
`;
}

const zshQuote = (t: string) => t.replace(/'/g, "'\\''").replace(/[[\]:]/g, "\\$&");

function zsh(specs: CommandSpec[]): string {
  const cmds = specs.map((s) => `    '${s.name}:${zshQuote(s.description)}'`).join("\n");
  const cases = specs
    .map(
      (s) =>
        `    (${s.name}) _arguments -s ${s.options
          .filter((o) => o.long)
          .map(
            (o) =>
              `'${o.long}[${zshQuote(o.description)}]${o.takesValue ? `:value:${o.values ? `(${o.values.words.join(" ")})` : "_files"}` : ""}'`,
          )
          .join(
            " ",
          )} ${OPERAND_WORDS[s.name] ? `'1:${s.name}:(${OPERAND_WORDS[s.name].join(" ")})'` : "'*:file:_files'"} ;;`,
    )
    .join("\n");
  return `#compdef sysfence
# zsh completion for sysfence (generated by 'sysfence completion zsh')
_sysfence() {
  local -a commands
  commands=(
${cmds}
  )
  if (( CURRENT == 2 )); then _describe 'command' commands; return; fi
  if [[ $words[CURRENT] == @* ]]; then compadd -- ${groupNames().join(" ")}; return; fi
  case $words[2] in
${cases}
  esac
}
_sysfence "$@"
`;
}

function fish(specs: CommandSpec[]): string {
  const q = (t: string) => `'${t.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const lines = [
    "# fish completion for sysfence (generated by 'sysfence completion fish')",
    "complete -c sysfence -f",
    ...specs.map((s) => `complete -c sysfence -n __fish_use_subcommand -a ${s.name} -d ${q(s.description)}`),
  ];
  for (const s of specs)
    for (const o of s.options) {
      if (!o.long) continue;
      lines.push(
        `complete -c sysfence -n '__fish_seen_subcommand_from ${s.name}' -l ${o.long.slice(2)}${o.short ? ` -s ${o.short.slice(1)}` : ""}${o.takesValue ? (o.values ? ` -r${o.values.files ? " -F" : " -f"} -a '${o.values.words.join(" ")}'` : " -r -F") : ""} -d ${q(o.description)}`,
      );
    }
  for (const [name, words] of Object.entries(OPERAND_WORDS))
    lines.push(`complete -c sysfence -n '__fish_seen_subcommand_from ${name}' -a '${words.join(" ")}'`);
  lines.push(
    `complete -c sysfence -a '${groupNames().join(" ")}' -n 'string match -q "@*" -- (commandline -ct)'`,
  );
  return `${lines.join("\n")}\n`;
}

const roff = (t: string) =>
  t
    .replace(/\\/g, "\\e")
    .replace(/^([.'])/gm, "\\&$1")
    .replace(/-/g, "\\-");

/** The man page, sysfence(1), in roff. */
export function manPage(program: Command): string {
  const out = [
    '.TH SYSFENCE 1 "" "sysfence 0.1.0" "User Commands"',
    ".SH NAME",
    `sysfence \\- ${roff(program.description())}`,
    ".SH SYNOPSIS",
    ".B sysfence",
    "[\\-q] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR] [\\-\\- \\fIPROGRAM\\fR ...]",
    ".SH DESCRIPTION",
    "Takes a Linux program from running with every system call to running under a tight, tested seccomp policy: record what it calls, generate a least\\-privilege policy, compile it to BPF, enforce it, export it to other engines, and observe it. A file argument of \\fB\\-\\fR reads standard input.",
    ".SH GLOBAL OPTIONS",
    ".TP",
    ".B \\-q, \\-\\-quiet",
    "No warnings or notes on standard error; errors are always printed.",
    ".SH COMMANDS",
  ];
  for (const s of specsOf(program)) {
    out.push(".SS", `\\fBsysfence ${s.name}\\fR ${roff(s.usage)}`, roff(s.description));
    for (const o of s.options) out.push(".TP", `.B ${roff(o.flags)}`, roff(o.description));
    const ex = EXAMPLES[s.name];
    if (ex?.length) {
      out.push(".PP", "Examples:", ".nf", ".RS");
      for (const e of ex) out.push(roff(e));
      out.push(".RE", ".fi");
    }
  }
  out.push(
    ".SH EXIT STATUS",
    ...EXIT_TABLE.flatMap(([status, meaning]) => [".TP", `.B ${status}`, roff(meaning)]),
    ".PP",
    "\\fBrun\\fR exits with the program's own status (it execs in place; \\fBrun \\-\\-learn\\fR returns it), and for a failure of sysfence itself never with 1 or 2: 125 sysfence failed before exec (a missing or invalid policy, a bad option, an unknown syscall, an install the kernel refused); 126 the command was found but cannot be executed (or execve failed after the filter was installed); 127 the command was not found.",
    ".SH SEE ALSO",
    "strace(1), seccomp(2), systemd.exec(5), bwrap(1), runc(8)",
  );
  return `${out.join("\n")}\n`;
}

/** `sysfence completion SHELL` and `sysfence man`. */
export function registerCompletion(program: Command, io: CliIO): void {
  program
    .command("completion")
    .description("print a shell completion script: bash, zsh or fish")
    .argument("<shell>", SHELLS.join(" | "))
    .action((shell: string) => {
      const specs = specsOf(program);
      if (shell === "bash") io.stdout(bash(specs));
      else if (shell === "zsh") io.stdout(zsh(specs));
      else if (shell === "fish") io.stdout(fish(specs));
      else throw new UsageError(`completion '${shell}': use bash, zsh or fish.`);
    });
  program
    .command("man")
    .description("print the man page, sysfence(1), generated from the commands' definitions")
    .action(() => io.stdout(manPage(program)));
}
