// The values of options that take one of a fixed set of words, as one table: the commands check their
// options against these lists and `sysfence completion` offers them. Lists that belong to a module of their
// own (engines, export formats, launchers, presets, architectures, policy formats) stay there; completion.ts
// joins both. Plain constants only: every command imports this file, so it imports nothing but the library's own
// import-free lists (api/option-lists.ts).

export {
  ARGS_MODES,
  AUDIT_SOURCES,
  DIFF_FORMATS,
  K8S_API_VERSIONS,
  PHASES,
  STATIC_MODES,
  THREAD_ROLES,
  UNSEEN_ANSWERS,
} from "../api/option-lists.js";
/** report --format. */
export const REPORT_FORMATS = ["text", "md", "html", "json"] as const;
/** compile --format. */
export const COMPILE_FORMATS = ["summary", "bpf", "c", "hex", "disasm", "json"] as const;
/** dump --format. */
export const DUMP_FORMATS = ["text", "json", "bpf"] as const;
/** hook --engine: the engines that say when they are attached. */
export const HOOK_ENGINES = ["bpf", "ftrace"] as const;
/** analyze --arch: the architectures the static analysis reads. */
export const ANALYZE_ARCHES = ["x86_64", "aarch64"] as const;
/** completion SHELL. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

/** `list.includes(value)` for a const list and any string. */
export function oneOf<T extends string>(list: readonly T[], value: string | undefined): value is T {
  return value !== undefined && (list as readonly string[]).includes(value);
}
