// The word lists the library's options take, spelled once and free of imports: api/options.ts checks
// values against them, and the CLI's parser and `sysfence completion` (cli/option-values.ts) offer them.

/** Which phase of a recording a policy is for. */
export const PHASES = ["work", "all"] as const;
/** How argument rules are generated (the order is the one `--help` lists). */
export const ARGS_MODES = ["safe", "pin", "strict", "off"] as const;
/** Whose calls count: the thread-group leader, the other threads, or both. */
export const THREAD_ROLES = ["main", "workers", "all"] as const;
/** Whether static analysis adds the reachable calls a recording never saw. */
export const STATIC_MODES = ["auto", "on", "off"] as const;
/** What a reachable, unseen, high-risk call gets. */
export const UNSEEN_ANSWERS = ["errno", "log", "kill"] as const;
/** How a diff is printed. */
export const DIFF_FORMATS = ["text", "md", "json"] as const;
/** The k8s SeccompProfile API versions `export --api-version` takes. */
export const K8S_API_VERSIONS = ["v1", "v1beta1"] as const;
/** Where audit records are read from (`audit --source`; generate and merge --from-audit also take a file). */
export const AUDIT_SOURCES = ["auto", "journal", "dmesg", "audit-log"] as const;
