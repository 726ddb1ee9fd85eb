// Finding the libraries a program loads, as the dynamic loader does (ld.so(8)): DT_RPATH (when there is
// no DT_RUNPATH), DT_RUNPATH, /etc/ld.so.cache, then the default directories; $ORIGIN, $LIB and
// $PLATFORM expanded; a candidate of the wrong machine skipped. With a sysroot every path — the cache,
// the interpreter, absolute symlinks — is looked up inside it.
import { closeSync, lstatSync, openSync, readFileSync, readlinkSync, readSync } from "node:fs";
import { dirname, join, posix } from "node:path";

export interface Root {
  sysroot?: string;
  machine: number;
  triplet: string;
  platform: string;
}

/** The real file behind a path inside the root: absolute symlinks stay inside the sysroot. */
export function realInRoot(root: Root, path: string): string | undefined {
  const parts = posix.normalize(path).split("/").filter(Boolean);
  const resolved: string[] = [];
  let links = 0;
  while (parts.length) {
    const part = parts.shift() as string;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    if (part === ".") continue;
    const logical = `/${[...resolved, part].join("/")}`;
    const real = root.sysroot ? join(root.sysroot, logical) : logical;
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(real);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      if (++links > 40) return undefined;
      const target = readlinkSync(real);
      if (target.startsWith("/")) resolved.length = 0;
      parts.unshift(...target.split("/").filter(Boolean));
      continue;
    }
    resolved.push(part);
  }
  const logical = `/${resolved.join("/")}`;
  return root.sysroot ? join(root.sysroot, logical) : logical;
}

/** The logical path (inside the root) of a real path under the sysroot. */
export function logicalPath(root: Root, real: string): string {
  return root.sysroot && real.startsWith(root.sysroot) ? real.slice(root.sysroot.length) || "/" : real;
}

/** True when the file is a 64-bit ELF object for the root's machine. */
export function rightMachine(root: Root, real: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(real, "r");
    const head = Buffer.alloc(20);
    if (readSync(fd, head, 0, 20, 0) < 20) return false;
    return head.readUInt32BE(0) === 0x7f454c46 && head[4] === 2 && head.readUInt16LE(18) === root.machine;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const caches = new Map<string, Map<string, string[]>>();

/** /etc/ld.so.cache (new format, "glibc-ld.so.cache1.1"): library name → paths. */
export function ldCache(root: Root): Map<string, string[]> {
  const key = root.sysroot ?? "/";
  const known = caches.get(key);
  if (known) return known;
  const out = new Map<string, string[]>();
  caches.set(key, out);
  const real = realInRoot(root, "/etc/ld.so.cache");
  if (!real) return out;
  let buf: Buffer;
  try {
    buf = readFileSync(real);
  } catch {
    return out;
  }
  const magic = "glibc-ld.so.cache1.1";
  const at = buf.indexOf(magic);
  if (at < 0 || at + 48 > buf.length) return out;
  const n = buf.readUInt32LE(at + 20);
  const str = (off: number) => {
    const end = buf.indexOf(0, off);
    return end < 0 ? "" : buf.toString("latin1", off, end);
  };
  for (let i = 0; i < n; i++) {
    const e = at + 48 + i * 24;
    if (e + 24 > buf.length) break;
    const keyOff = buf.readUInt32LE(e + 4);
    const valOff = buf.readUInt32LE(e + 8);
    if (keyOff >= buf.length || valOff >= buf.length) continue;
    const name = str(keyOff);
    const list = out.get(name) ?? [];
    list.push(str(valOff));
    out.set(name, list);
  }
  return out;
}

function expand(root: Root, dir: string, origin: string): string {
  return dir
    .replace(/\$(\{ORIGIN\}|ORIGIN)/g, origin)
    .replace(/\$(\{LIB\}|LIB)/g, `lib/${root.triplet}`)
    .replace(/\$(\{PLATFORM\}|PLATFORM)/g, root.platform);
}

/** The directories the loader searches by default for this machine. */
export function defaultDirs(root: Root): string[] {
  return [`/lib/${root.triplet}`, `/usr/lib/${root.triplet}`, "/lib64", "/usr/lib64", "/lib", "/usr/lib"];
}

/**
 * Finds a DT_NEEDED library for the object at logical path `from`; returns its real path or undefined.
 * `rpath` is what applies from the object and the program (only when the object has no RUNPATH).
 */
export function findLibrary(
  root: Root,
  name: string,
  from: { path: string; runpath: string[]; rpath: string[] },
  programRpath: { path: string; rpath: string[] } | undefined,
): string | undefined {
  const tryPath = (logical: string) => {
    const real = realInRoot(root, logical);
    return real && rightMachine(root, real) ? real : undefined;
  };
  if (name.includes("/")) return tryPath(name.startsWith("/") ? name : join(dirname(from.path), name));
  const dirs: string[] = [];
  if (from.runpath.length === 0) {
    dirs.push(...from.rpath.map((d) => expand(root, d, dirname(from.path))));
    if (programRpath)
      dirs.push(...programRpath.rpath.map((d) => expand(root, d, dirname(programRpath.path))));
  }
  dirs.push(...from.runpath.map((d) => expand(root, d, dirname(from.path))));
  for (const d of dirs) {
    const hit = tryPath(join(d, name));
    if (hit) return hit;
  }
  for (const p of ldCache(root).get(name) ?? []) {
    const hit = tryPath(p);
    if (hit) return hit;
  }
  for (const d of defaultDirs(root)) {
    const hit = tryPath(join(d, name));
    if (hit) return hit;
  }
  return undefined;
}
