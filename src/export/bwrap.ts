import type { Diagnostic } from "../errors.js";
import type { LandlockSection } from "../policy/model.js";
import { ascending } from "../util/order.js";

// `export --format bwrap`: one shell script that runs a program under bubblewrap with the policy's seccomp
// filter (the same raw BPF as --format bpf, embedded as base64, opened on fd 9 for --seccomp 9) and its
// landlock: file layer carried by the sandbox's mount namespace. bwrap starts from an empty tmpfs root, so
// a path no list names does not exist inside:
// - read and execute -> --ro-bind-try, write -> --bind-try, devices -> --dev-bind-try (a missing path is
//   skipped, as Landlock skips it); each at the name the policy gives (a merged-/usr host's /lib appears as a
//   directory holding just the listed entries);
// - a path under /proc -> --proc /proc (the sandbox's own procfs: /proc/self cannot be bound from outside);
// - the root tmpfs remounted read-only at the end: creating anything outside the write list fails (EROFS);
// - scope: signal -> --unshare-pid (a pid namespace: processes outside cannot be named, so not signalled).
// bwrap 0.8.0 has no noexec mount (--remount-ro only), no port or abstract-socket rules: execute, bindTcp,
// connectTcp and the abstract-unix-socket scope are said, not approximated.

type Kind = "ro" | "rw" | "dev";
const RANK: Record<Kind, number> = { ro: 0, rw: 1, dev: 2 };
const OPTION: Record<Kind, string> = { ro: "--ro-bind-try", rw: "--bind-try", dev: "--dev-bind-try" };

/** bwrap's arguments for a policy's file layer (before --seccomp), with a comment per choice. */
export interface BwrapLayout {
  /** Each option with its values, in order: ["--ro-bind-try", "/etc/hosts", "/etc/hosts"]. */
  args: string[][];
  /** What each part maps, for the script's header. */
  comments: string[];
  /** What bwrap cannot hold (`--strict` refuses these). */
  warnings: Diagnostic[];
}

const depth = (p: string) => (p === "/" ? 0 : p.split("/").length - 1);
const under = (p: string, dir: string) => p === dir || dir === "/" || p.startsWith(`${dir}/`);
const normal = (p: string) => (p.length > 1 ? p.replace(/\/+$/, "") || "/" : p);

/**
 * The mounts and namespaces that carry `section` (absent: no file layer, the host's tree as it is; `whyNone`
 * says why, in place of "the policy has no landlock: section").
 */
export function bwrapLayout(section: LandlockSection | undefined, whyNone?: string): BwrapLayout {
  const comments: string[] = [];
  const warnings: Diagnostic[] = [];
  const warn = (m: string) => {
    warnings.push({ severity: "warning", message: `bwrap: ${m}` });
    comments.push(`not enforced: ${m}`);
  };
  if (!section) {
    comments.push(
      `${whyNone ?? "the policy has no landlock: section"}: no file layer, the host's file system is bound as it is (with a new /dev and /proc)`,
    );
    return {
      args: [
        ["--bind", "/", "/"],
        ["--dev", "/dev"],
        ["--proc", "/proc"],
      ],
      comments,
      warnings,
    };
  }
  const { kept, kinds, proc, procWrite } = mountKinds(section);
  const args: string[][] = [];
  if (section.scope.includes("signal")) {
    args.push(["--unshare-pid"]);
    comments.push(
      "scope signal -> --unshare-pid: a pid namespace of its own; processes outside it have no pid inside, so they cannot be signalled",
    );
  }
  const dirs = tmpfsDirs(kept.map(([p]) => p).concat(proc ? ["/proc"] : []));
  for (const d of dirs) args.push(["--perms", "0755", "--dir", d]);
  if (dirs.length)
    comments.push(
      "the directories above the mounts -> --perms 0755 --dir (bwrap would make them 0700: a program that drops root could not reach its files)",
    );
  for (const [p, k] of kept) args.push([OPTION[k], p, p]);
  comments.push(
    "read, execute -> --ro-bind-try; write -> --bind-try; devices -> --dev-bind-try (a missing path is skipped, as Landlock skips it); a path no list names does not exist in the sandbox",
  );
  if (proc) {
    args.push(["--proc", "/proc"]);
    comments.push(
      "a path under /proc -> --proc /proc: a new procfs for the sandbox (with --unshare-pid it shows only the sandbox's processes)",
    );
    if (procWrite)
      warn(
        "the write list names files under /proc: the sandbox's whole /proc is as writable as procfs allows (bwrap keeps /proc/sys and the like read-only), not only those files",
      );
  }
  if (!kinds.has("/")) {
    args.push(["--remount-ro", "/"]);
    comments.push(
      "--remount-ro / (last): bwrap's root tmpfs becomes read-only, so creating anything outside the write list fails (EROFS where Landlock says EACCES)",
    );
  }
  unenforced(section, warn);
  return { args, comments, warnings };
}

/**
 * One mount kind per path, the widest its lists give, in mount order: parents before children (a later
 * mount covers an earlier one); an entry its nearest kept parent already grants is left out (a read-only
 * bind inside a writable one would take the write away). /proc paths become one new procfs.
 */
function mountKinds(section: LandlockSection): {
  kept: [string, Kind][];
  kinds: Map<string, Kind>;
  proc: boolean;
  procWrite: boolean;
} {
  const kinds = new Map<string, Kind>();
  let proc = false;
  let procWrite = false;
  const add = (list: { path: string }[], kind: Kind) => {
    for (const { path } of list) {
      const p = normal(path);
      if (under(p, "/proc") && p !== "/") {
        proc = true;
        if (kind !== "ro") procWrite = true;
        continue;
      }
      const had = kinds.get(p);
      if (had === undefined || RANK[kind] > RANK[had]) kinds.set(p, kind);
    }
  };
  add(section.read, "ro");
  add(section.execute, "ro");
  add(section.write, "rw");
  add(section.devices, "dev");
  const sorted = [...kinds].sort(([a], [b]) => depth(a) - depth(b) || ascending(a, b));
  const kept: [string, Kind][] = [];
  for (const [p, k] of sorted) {
    const parent = kept.filter(([q]) => under(p, q)).pop();
    const covers = parent && (parent[1] === k || parent[1] === "dev" || (parent[1] === "rw" && k === "ro"));
    if (!covers) kept.push([p, k]);
  }
  return { kept, kinds, proc, procWrite };
}

/**
 * The directories bwrap creates in its root tmpfs to hold the mounts (the mounted paths' ancestors that no
 * mount covers), parents first. bwrap creates them mode 0700, so a program that drops root (a daemon's
 * worker user) could not pass them; they get 0755, as such directories have on a host.
 */
function tmpfsDirs(mounted: string[]): string[] {
  const dirs = new Set<string>();
  for (const p of mounted)
    for (let d = p.slice(0, p.lastIndexOf("/")); d.length > 0; d = d.slice(0, d.lastIndexOf("/")))
      if (!mounted.some((m) => under(d, m))) dirs.add(d);
  return [...dirs].sort((a, b) => depth(a) - depth(b) || ascending(a, b));
}

/** Warns for each part of the section bubblewrap cannot enforce. */
function unenforced(section: LandlockSection, warn: (m: string) => void): void {
  if (section.execute.length)
    warn(
      "landlock.execute has no bwrap equivalent (bubblewrap 0.8.0 cannot mount noexec; it has --remount-ro only): any bound file with an execute bit can be executed, not only the listed executables — only what the lists bind is there to run",
    );
  if (section.bindTcp || section.connectTcp)
    warn(
      "landlock bindTcp/connectTcp have no bwrap equivalent (--unshare-net would cut all networking, not chosen ports); TCP ports are not restricted",
    );
  if (section.scope.includes("abstract-unix-socket"))
    warn(
      "landlock scope abstract-unix-socket has no bwrap equivalent short of --unshare-net (abstract sockets belong to the network namespace, and a new one would cut all networking); abstract sockets outside the sandbox stay reachable",
    );
}

/** The signals the script passes on to the program: a service manager's stop, reload and the user's ones. */
const FORWARDED = ["TERM", "INT", "HUP", "QUIT", "USR1", "USR2"];

/** A dollar sign, for the shell's parameter expansions in template strings. */
const D = "$";

/** A shell word: single-quoted unless it is plainly safe. */
function sh(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The script: decodes the filter to a private temp file, checks its size, opens it on fd 9, removes it,
 * and runs bwrap with the layout's arguments, --seccomp 9 and the program given on its command line; it
 * passes TERM, INT, HUP, QUIT, USR1 and USR2 on to the program and exits with bwrap's status.
 */
export function bwrapScript(bpf: Buffer, layout: BwrapLayout, source: string, version: string): string {
  const pidNamespace = layout.args.some((a) => a[0] === "--unshare-pid");
  const b64 = bpf.toString("base64").replace(/.{1,76}/g, "$&\n");
  const header = [
    `Made by sysfence export --format bwrap from ${source.replace(/\n/g, " ")}, for ${version}.`,
    "Runs a program under bubblewrap with the policy's seccomp filter (raw BPF, embedded below, the same bytes",
    "as --format bpf; bwrap loads it from fd 9) and its file layer as the sandbox's mounts:",
    "  sh THIS-SCRIPT PROGRAM [ARG...]        (PROGRAM is looked up along PATH inside the sandbox)",
    "The environment passes through; BWRAP names another bwrap binary.",
    ...layout.comments,
  ];
  const lines = [
    "#!/bin/sh",
    ...header.map((l) => `# ${l}`),
    "set -eu",
    'if [ "$#" -eq 0 ]; then',
    '  echo "usage: $0 PROGRAM [ARG...]" >&2',
    "  exit 2",
    "fi",
    `bpf=$(mktemp "${D}{TMPDIR:-/tmp}/sysfence-bwrap.XXXXXX")`,
    "trap 'rm -f \"$bpf\"' EXIT",
    `base64 -d >"$bpf" <<'SYSFENCE_BPF'`,
    `${b64}SYSFENCE_BPF`,
    `if [ "$(($(wc -c <"$bpf")))" -ne ${bpf.length} ]; then`,
    `  echo "$0: the embedded seccomp filter decoded to the wrong size (want ${bpf.length} bytes); the script is damaged" >&2`,
    "  exit 1",
    "fi",
    'exec 9<"$bpf"',
    'rm -f "$bpf"',
    "trap - EXIT",
    // bwrap forwards no signal: it runs in the background, and the script passes a stop or reload on to
    // the program (--die-with-parent: if the script is killed outright, the sandbox goes with it)
    // stdin kept on fd 7 (an asynchronous list's stdin is /dev/null), or /dev/null when it is closed; a
    // caller's descriptors pass through but 7 and 9 (systemd's sockets from 3 on; bwrap needs fd 9)
    "if { true 7<&0; } 2>/dev/null; then exec 7<&0; else exec 7</dev/null; fi",
    `"${D}{BWRAP:-bwrap}" --die-with-parent \\`,
    ...layout.args.map((a) => `  ${a.map(sh).join(" ")} \\`),
    '  --seccomp 9 -- "$@" <&7 7<&- &',
    "bw=$!",
    "exec 7<&- 9<&-",
    // the program is bwrap's child, or with --unshare-pid its pid 1's child
    pidNamespace
      ? `program() { for c in $(cat /proc/"$bw"/task/*/children 2>/dev/null); do cat /proc/"$c"/task/*/children 2>/dev/null; done; }`
      : `program() { cat /proc/"$bw"/task/*/children 2>/dev/null; }`,
    ...FORWARDED.map((g) => `trap 'sig=${g}; kill -s ${g} $(program) 2>/dev/null || :' ${g}`),
    // wait returns early (128+N) when a trapped signal comes: then wait again — bwrap may be gone already
    // (the shell collected it during the interrupted wait: kill -0 fails, yet the next wait gives its
    // status); 127 from a second wait: its status was the one before
    "rc=0; waited=0",
    "while :; do",
    '  sig=; r=0; wait "$bw" || r=$?',
    '  [ "$r" -eq 127 ] && [ "$waited" -eq 1 ] && break',
    "  rc=$r; waited=1",
    '  { [ -n "$sig" ] && [ "$r" -gt 128 ]; } || break',
    "done",
    'exit "$rc"',
  ];
  return `${lines.join("\n")}\n`;
}
