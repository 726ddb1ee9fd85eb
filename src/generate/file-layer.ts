// The Landlock layer of a generated policy, from how the recording used each path (profile.pathAccess):
// write only under the directories the program wrote in; read where it read — the whole directory under
// the system's shared trees (/usr, /lib, /opt) and where it read two files or more, else the file alone, and
// always file by file in the bin directories and at /etc's top (neither a shell it never ran nor /etc/shadow
// comes with its neighbours, nor a home directory with the one dotfile a program looked for); execute only
// what it executed and the interpreters those need; TCP binds only on the ports it bound; signals and
// abstract unix sockets scoped to its own sandbox. Paths whose metadata alone was used (m: stat, chdir,
// chmod) are left out: Landlock does not confine metadata. Pure: the interpreter of an executable comes in
// through FileFacts.
import { dirname } from "node:path/posix";
import type { LandlockPath, LandlockPort, LandlockScope, LandlockSection } from "../policy/model.js";
import type { Profile } from "../record/profile.js";
import type { ConfinedBy } from "./classes.js";
import { bindPortNote, forkedProcNote, readOnlyDataNote } from "./file-layer-notes.js";

/** What the generator asks the machine about a path (file-facts.ts answers from the file system). */
export interface FileFacts {
  /** The ELF interpreter (PT_INTERP) of an executable, or, for a #! script, its interpreter; undefined for neither. */
  interpreterOf(path: string): string | undefined;
  /** Where a path's symlinks lead (Landlock judges the file reached), or undefined when it does not exist. */
  realpath?(path: string): string | undefined;
  /** Whether a path is a directory here (a directory read itself is granted whole, never "a file alone"). */
  isDirectory?(path: string): boolean;
}

/** The layer, which confined classes it covers (for the static tier), and what the user should read. */
export interface FileLayer {
  section?: LandlockSection;
  layers: Set<ConfinedBy>;
  notes: string[];
}

/** Directories whose files are granted one by one (a program that ran one tool must not run its neighbours). */
const FILE_BY_FILE = [
  "/bin",
  "/sbin",
  "/usr/bin",
  "/usr/sbin",
  "/usr/local/bin",
  "/usr/local/sbin",
  "/usr/libexec",
  "/etc",
];

/** Device files every program may open: the null, zero and random devices. */
const DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"];

/** Trees of shared, public system files: a read there grants its whole directory. */
const SHARED_TREES = ["/usr/", "/lib/", "/lib64/", "/lib32/", "/opt/", "/var/lib/dpkg/"];

/**
 * Read by the dynamic loader and glibc on ordinary paths whatever a recording saw: the loader's cache, time
 * zones, locales and message catalogues, iconv modules, and the name service files (users, groups, hosts,
 * DNS, services) — a use the recording missed (an error message, a user lookup) reads them.
 */
const ALWAYS_READ = [
  "/etc/ld.so.cache",
  "/etc/localtime",
  "/usr/share/zoneinfo",
  "/usr/share/locale",
  "/usr/lib/locale",
  "/usr/lib/x86_64-linux-gnu/gconv",
  "/etc/nsswitch.conf",
  "/etc/passwd",
  "/etc/group",
  "/etc/hosts",
  "/etc/host.conf",
  "/etc/resolv.conf",
  "/etc/gai.conf",
  "/etc/services",
  "/etc/protocols",
  "/etc/locale.alias",
];

const isAddress = (p: string) => /^(inet6?|unix|netlink):/.test(p);

/** The path uses of the recordings, merged (path → access letters); or why they cannot support a layer. */
function pathUses(all: readonly Profile[]): Map<string, Set<string>> | string {
  // audit records (--from-audit) name calls, never paths: the recordings decide the layer
  const profiles = all.filter((p) => p.engine?.name !== "audit");
  if (profiles.length === 0) return "no recording with path uses";
  // the kernel engines' paths are not a program's whole file use: ftrace sees executed files only; bpf
  // records every call's paths, absolute (engine.wholePaths), unless the kernel refused its path program (or
  // the recording predates it): then only the files the open family named, relative ones without their directory
  const blind = profiles.filter(
    (p) => (p.engine?.name === "bpf" && !p.engine.wholePaths) || p.engine?.name === "ftrace",
  );
  if (blind.length)
    return `the recording has no whole path uses (${[...new Set(blind.map((p) => (p.engine.name === "bpf" ? "engine bpf without its path program: the files opened and executed, relative ones without their directory" : "engine ftrace: executed files only")))].join("; ")}); record with --engine strace for one`;
  if (!profiles.every((p) => p.pathAccess))
    return `the recording has no path uses (engine ${[...new Set(profiles.map((p) => p.engine?.name ?? "?"))].join(", ")}); record with --engine strace for one`;
  if (profiles.some((p) => p.pathsOmitted)) return "the recording kept only part of its paths (pathsOmitted)";
  const access = new Map<string, Set<string>>();
  for (const p of profiles)
    for (const [path, letters] of Object.entries(p.pathAccess ?? {})) {
      const set = access.get(path) ?? new Set<string>();
      for (const l of letters) set.add(l);
      access.set(path, set);
    }
  // a merge of tracepoint recordings has their executed files only: no file uses to build a layer from
  if (![...access.values()].some((l) => l.has("r") || l.has("w") || l.has("c")))
    return "the recording's path uses hold no file read or written (a merge of bpf/ftrace recordings?)";
  const relative = [...access.keys()].filter((p) => !p.startsWith("/") && !isAddress(p));
  if (relative.length)
    return `${relative.length} path(s) are relative (an imported log without the working directory, e.g. ${relative[0]})`;
  return access;
}

/** What the layer grants, built path by path. */
interface Grants {
  facts: FileFacts;
  read: Set<string>;
  write: Set<string>;
  execute: Set<string>;
  devices: Set<string>;
  bind: Set<number>;
  abstractUnix: boolean;
  notes: string[];
  /** /, the top-level and the file-by-file directories, read themselves: not granted */
  dirReads: string[];
  /** how many files the program read in each directory */
  readsIn: Map<string, number>;
}

function startGrants(
  access: Map<string, Set<string>>,
  facts: FileFacts,
  o: { writable?: readonly string[]; readable?: readonly string[] },
): Grants {
  // how many files the program read in each directory
  const readsIn = new Map<string, number>();
  for (const [path, letters] of access)
    if (letters.has("r") && path.startsWith("/"))
      readsIn.set(dirname(path), (readsIn.get(dirname(path)) ?? 0) + 1);
  return {
    facts,
    // and those the user says it reads (generate --readable): one use may have read one file of many
    read: new Set<string>([...ALWAYS_READ, ...(o.readable ?? [])]),
    // directories the user says the program writes in (generate --writable): a recording of one use may
    // never have saved its data
    write: new Set<string>(o.writable ?? []),
    execute: new Set<string>(),
    devices: new Set<string>(DEVICES),
    bind: new Set<number>(),
    abstractUnix: false,
    notes: [],
    dirReads: [],
    readsIn,
  };
}

/** A file read: its directory as a whole where that is shared or read from more than once, else the file. */
function grantRead(g: Grants, path: string): void {
  // a read of /, a top-level directory (/tmp, /home, /root, /srv …) or a directory granted file by file,
  // itself (listed, opened as a directory fd — an O_PATH open is recorded as a read —, or a chrooted
  // process's view of its new root): a Landlock rule there would grant every file beneath, /etc/shadow with
  // /etc, every user's files with /home
  const topLevel = dirname(path) === "/" && !SHARED_TREES.includes(`${path}/`);
  if (path === "/" || topLevel || FILE_BY_FILE.includes(path)) {
    g.dirReads.push(path);
    return;
  }
  const dir = dirname(path);
  const whole =
    !FILE_BY_FILE.includes(dir) &&
    dir !== "/" &&
    (SHARED_TREES.some((t) => path.startsWith(t)) || (g.readsIn.get(dir) ?? 0) >= 2);
  g.read.add(whole ? dir : path);
}

/** One path use: an address, a device, a /proc entry, or a file executed, written or read. */
function grantPath(g: Grants, path: string, letters: Set<string>): void {
  if (isAddress(path)) {
    const port = /^inet6?:.*:(\d+)$/.exec(path);
    if (port && letters.has("c")) g.bind.add(Number(port[1]));
    if (path.startsWith("unix:@")) g.abstractUnix = true;
    return;
  }
  if (path.startsWith("/dev/")) {
    if (path.startsWith("/dev/pts/") || path === "/dev/ptmx") g.devices.add("/dev/pts").add("/dev/ptmx");
    else if (path.startsWith("/dev/shm/")) g.write.add("/dev/shm");
    else if (
      path !== "/dev" &&
      !path.startsWith("/dev/fd") &&
      path !== "/dev/stdin" &&
      path !== "/dev/stdout" &&
      path !== "/dev/stderr"
    )
      g.devices.add(path);
    return;
  }
  if (path.startsWith("/proc/") || path === "/proc") {
    g.read.add("/proc");
    // a write goes to that file alone, never /proc as a whole (/proc/sys is the kernel's configuration).
    // run adds the rules in the process that then execs the program, so /proc/self is the program's own
    // directory; a pid the recording saw is written as /proc/self (a fork's own entries stay refused), and
    // a thread's entries (pthread_setname_np writes /proc/self/task/TID/comm) as its own task directory
    if (letters.has("w") || letters.has("c"))
      g.write.add(
        /^\/proc\/(\d+|self)\/task\/\d+\/|^\/proc\/thread-self\//.test(path)
          ? "/proc/self/task"
          : path.replace(/^\/proc\/\d+(?=\/)/, "/proc/self"),
      );
    return;
  }
  if (letters.has("x")) {
    g.execute.add(path);
    const interp = g.facts.interpreterOf(path);
    if (interp) g.execute.add(interp);
  }
  if (letters.has("c") || letters.has("w")) {
    const dir = dirname(path);
    // creating or removing an entry changes its directory; writing a file needs only the file
    const target = letters.has("c") ? dir : path;
    if (target === "/" || FILE_BY_FILE.includes(target))
      g.notes.push(`wrote ${path}: write access to ${target} as a whole is not granted`);
    else g.write.add(target);
  }
  if (letters.has("r")) grantRead(g, path);
}

/** The policy's landlock section for what was granted. */
function sectionOf(g: Grants, o: { anyBindPort?: boolean }): LandlockSection {
  const { read, write, execute, devices, bind, abstractUnix } = g;
  const list = (s: Set<string>): LandlockPath[] => minimal(s).map((path) => ({ path }));
  const writeList = list(write);
  const underWrite = (p: string) => writeList.some((w) => p === w.path || p.startsWith(`${w.path}/`));
  return {
    read: list(new Set([...read].filter((p) => !underWrite(p)))),
    write: writeList,
    execute: [...execute].sort().map((path) => ({ path })),
    devices: [...devices].sort().map((path) => ({ path })),
    ...(o.anyBindPort
      ? {}
      : { bindTcp: [...bind].sort((a, b) => a - b).map((port): LandlockPort => ({ port })) }),
    scope: ["signal", ...(abstractUnix ? [] : ["abstract-unix-socket" as const])] as LandlockScope[],
    comment: `from the recording's path uses: ${execute.size} executable(s), ${writeList.length} write director${writeList.length === 1 ? "y" : "ies"}, TCP binds on ${bind.size ? [...bind].join(", ") : "no port"}; signals only inside the sandbox`,
  };
}

/** Builds the layer from the profiles' paths; skips it, with the reason, when they cannot support one. */
export function fileLayer(
  all: readonly Profile[],
  facts: FileFacts,
  o: { writable?: readonly string[]; readable?: readonly string[]; anyBindPort?: boolean } = {},
): FileLayer {
  const access = pathUses(all);
  if (typeof access === "string")
    return {
      layers: new Set(),
      notes: [
        `file layer (Landlock) skipped: ${access}; calls it would confine (files, sockets, signals, IPC) keep the seccomp-only answer`,
      ],
    };
  const g = startGrants(access, facts, o);
  // a symlink is judged by the file it reaches (/usr/lib/ssl/openssl.cnf → /etc/ssl/openssl.cnf): the
  // target gets the same access
  for (const [path, letters] of [...access]) {
    const real = !isAddress(path) && path.startsWith("/") ? facts.realpath?.(path) : undefined;
    if (real && real !== path && !access.has(real)) access.set(real, new Set(letters));
  }
  for (const [path, letters] of access) grantPath(g, path, letters);
  if (g.dirReads.length) {
    const chroot = all.some((p) => p.syscalls?.chroot);
    g.notes.push(
      `the program read the director${g.dirReads.length === 1 ? "y" : "ies"} ${g.dirReads.join(", ")} itself (listed, or opened as a directory); read access to ${g.dirReads.length === 1 ? "it" : "them"} as a whole is not granted: a Landlock rule there would cover every file beneath${chroot ? "; the recording called chroot, and paths after it are named from the new root (its / is the directory chrooted into): add that directory to landlock.read if the program needs it" : ""}`,
    );
  }
  readOnlyDataNote(g, access);
  forkedProcNote(g, all);
  if (!o.anyBindPort) bindPortNote(g);
  const section = sectionOf(g, o);
  const layers = new Set<ConfinedBy>(["landlock-fs", "landlock-signal", "ipc"]);
  if (section.bindTcp) layers.add("landlock-tcp");
  return { section, layers, notes: g.notes };
}

/** The paths of a set, without those beneath another member, sorted. */
function minimal(paths: Set<string>): string[] {
  const sorted = [...paths].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(q === "/" ? "/" : `${q}/`)));
}
