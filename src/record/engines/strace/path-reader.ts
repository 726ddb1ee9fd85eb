// The paths a strace line's call names, with the access it asks for (moved whole from adapter.ts).
import type { StringTable } from "../../events.js";
import {
  Access,
  existingName,
  normalPath,
  openAccess,
  type PathUse,
  resolvePath,
} from "../../path-access.js";
import { MAX_PATHS } from "../../profile.js";
import { decodePath, fdPath, isCwdFd } from "./decode.js";
import { Interner, type LineScanner, utf8 } from "./scan.js";

/** Reads a call's path arguments (see uses); one per adapter, sharing its line scanner and string table. */
export class PathReader {
  private readonly paths = new Interner(MAX_PATHS);
  /** Open flags texts, with their access bits (info). */
  private readonly flagTexts = new Interner(4096);
  /** uses' answer: string ids and access bits of the call's paths. */
  readonly ids = new Int32Array(2);
  readonly bits = new Int32Array(2);
  /** Uses of paths past MAX_PATHS distinct ones, left out (since the adapter last reset it). */
  omitted = 0;

  constructor(
    private readonly line: LineScanner,
    private readonly strings: StringTable,
  ) {}

  /**
   * The paths a call with argument bytes buf[from, to) names, into ids and bits (string id, access
   * and Access.relative/unix bits); how many. A relative path of an *at call whose directory fd strace
   * decorated (-y: "3</tmp/d>", "-100</home/u>" for AT_FDCWD) is made absolute here; one relative to the
   * current directory is marked for the builder, which knows it; one relative to an fd strace did not
   * decorate is kept as written. `errno`: the call's (a call that failed with EEXIST found its names
   * there and did nothing else: each is a lookup, existingName).
   */
  uses(buf: Buffer, from: number, to: number, uses: PathUse[], errno?: string): number {
    const line = this.line;
    let n = 0;
    for (let k = 0; k < uses.length && n < 2; k++) {
      const u = uses[k];
      if (!line.nthArgIn(buf, from, to, u.arg)) continue;
      const ps = line.spanStart;
      const pe = line.spanEnd;
      const x = this.paths.kept(buf, ps, pe);
      if (x === undefined) {
        this.omitted++;
        continue;
      }
      if (x.id === -1) {
        const p = decodePath(x.text);
        const rel = p === undefined ? 0 : relativeBits(x.text, p);
        // (an absolute file path with "." or ".." in it is read as the kernel would without symlinks)
        x.id =
          p === undefined || p === ""
            ? -2
            : this.strings.id(rel === Access.rooted && x.text.startsWith('"') ? normalPath(p) : p);
        x.info = rel;
      }
      if (x.id < 0) continue;
      let id = x.id;
      let bits = u.access === 0 ? this.openBits(buf, from, to, u) : u.access;
      if (errno === "EEXIST") bits = existingName(bits);
      const rel = x.info as number;
      if (rel === Access.rooted) bits |= rel;
      else if (rel !== 0) {
        if (u.dirfd < 0) bits |= rel;
        else if (line.nthArgIn(buf, from, to, u.dirfd)) {
          const ds = line.spanStart;
          if (buf[line.spanEnd - 1] === 62 /* > */) {
            // the directory fd and the path, one key: "3</tmp/d>, \"x\""
            const y = this.paths.kept(buf, ds, pe);
            if (y === undefined) {
              this.omitted++;
              continue;
            }
            if (y.id === -1) {
              const dir = fdPath(utf8(buf, ds, line.spanEnd));
              const p = this.strings.list[id];
              y.id = dir === undefined ? id : this.strings.id(resolvePath(dir, p));
            }
            id = y.id;
          } else if (isCwdFd(utf8(buf, ds, line.spanEnd))) bits |= rel;
        }
      }
      this.ids[n] = id;
      this.bits[n] = bits;
      n++;
    }
    return n;
  }

  /** The access an open's flags argument (openat2: its struct) asks for. */
  private openBits(buf: Buffer, from: number, to: number, u: PathUse): number {
    const line = this.line;
    if (!line.nthArgIn(buf, from, to, u.flags)) return Access.read;
    // openat2's struct open_how as a pointer (-X raw, a strace that does not decode it): its address is no
    // flags — read as flags, its bits made random reads into writes, creates or O_PATH lookups
    if (u.how && buf[line.spanStart] !== 0x7b /* { */) return Access.read;
    const x = this.flagTexts.of(buf, line.spanStart, line.spanEnd);
    if (x.info === undefined) x.info = openAccess(x.text);
    return x.info as number;
  }
}

/**
 * Whether a decoded path is relative, as Access bits: relative to the current directory (a file's path,
 * or a unix socket's: Access.unix too); 0 for an absolute path, an abstract socket, an inet address.
 */
function relativeBits(text: string, p: string): number {
  // a quoted string is a file's path; anything else a socket address
  if (text.startsWith('"')) return p.startsWith("/") ? Access.rooted : Access.relative;
  if (p.startsWith("unix:/")) return Access.rooted;
  if (!p.startsWith("unix:") || p.startsWith("unix:@") || p === "unix:") return 0;
  return Access.relative | Access.unix;
}
