// The objects of one analysis in load order (the program first), found as the loader finds them: its
// needed libraries breadth-first, the interpreter, then the recorded dlopened libraries and theirs. The
// finding needs only each object's head (what its dynamic section and headers say); its facts may still be
// being built in a worker thread (analyzeAsync) while the next libraries are found.
import { basename } from "node:path";
import { SysfenceError } from "../errors.js";
import type { ObjectFacts } from "./facts.js";
import { findLibrary, logicalPath, type Root, realInRoot, rightMachine } from "./libraries.js";
import type { LoadedFacts } from "./reach.js";

/** What finding an object's libraries needs of it. */
export type ObjectHead = Pick<ObjectFacts, "arch" | "soname" | "needed" | "runpath" | "rpath" | "interp">;

/** One object read: its head now, its facts now or once a worker has built them. */
export interface ReadObject {
  head: ObjectHead;
  cached: boolean;
  facts: ObjectFacts | Promise<ObjectFacts>;
  /** The file's identity when it stands for the content read (object-cache.ts). */
  identity?: string;
}

/** An object in the table. */
export type TableObject = Omit<LoadedFacts, "facts"> & { real: string; read: ReadObject };

export class ObjectTable {
  readonly objects: TableObject[] = [];
  readonly missing: string[] = [];
  private readonly byReal = new Map<string, number>();
  private readonly bySoname = new Map<string, number>();

  constructor(
    readonly root: Root,
    readonly arch: "x86_64" | "aarch64",
    private readonly read: (real: string, shown: string) => ReadObject,
    private readonly onProgress:
      | ((progress: { step: "object"; objects: number; path: string }) => void)
      | undefined,
  ) {}

  /** The object's index, read (or found in the cache) the first time its real path is seen. */
  add(real: string, shown: string, extra: Partial<LoadedFacts>, given?: ReadObject) {
    const known = this.byReal.get(real);
    if (known !== undefined) return known;
    if (!given) this.onProgress?.({ step: "object", objects: this.objects.length, path: shown });
    const read = given ?? this.read(real, shown);
    const { head } = read;
    if (head.arch !== this.arch)
      throw new SysfenceError("E_ANALYZE", `${shown} is ${head.arch}, the program ${this.arch}.`);
    const i = this.objects.length;
    this.objects.push({ name: head.soname ?? basename(shown), real, read, ...extra });
    this.byReal.set(real, i);
    if (head.soname) this.bySoname.set(head.soname, i);
    return i;
  }

  /** Everything the program (object 0) loads: needed libraries, the interpreter, the dlopened ones. */
  loadAll(dlopened: readonly string[], note: (n: string) => void): void {
    this.loadDeps(0);
    const interp = this.objects[0].read.head.interp;
    if (interp) {
      const real = realInRoot(this.root, interp);
      if (!real) this.missing.push(interp);
      else {
        const j = this.add(real, interp, {});
        this.objects[j].role = this.objects[j].role ?? "interpreter";
      }
    }
    // the recording's paths include the loader's search for a library (dlopen of a bare name, an NSS
    // module): every directory it probed, tls/, x86_64/, glibc-hwcaps/… — one name, one note, and none when
    // the search found it in another directory
    const found = new Set<string>();
    const notFound = new Map<string, string[]>();
    const reals = dlopened.map((d) => {
      const real = realInRoot(this.root, d);
      if (real) found.add(basename(d));
      else notFound.set(basename(d), [...(notFound.get(basename(d)) ?? []), d]);
      return real;
    });
    for (const [name, paths] of notFound)
      if (!found.has(name))
        note(
          `the recorded library ${paths.length === 1 ? paths[0] : `${name} (${paths.length} paths the recording looked for it at, e.g. ${paths[0]})`} was not found${this.root.sysroot ? ` under ${this.root.sysroot}` : ""}`,
        );
    for (const [i, d] of dlopened.entries()) {
      const real = reals[i];
      if (!real) continue;
      if (!rightMachine(this.root, real)) {
        note(`${d} (opened by the recording) is not an ${this.arch} shared object; left out`);
        continue;
      }
      // a library the program loaded at start (ld.so opens them too) is not a dlopened one
      if (this.byReal.has(real)) continue;
      this.loadDeps(this.add(real, d, { dlopened: true }));
    }
  }

  /** The needed libraries of object `from` and theirs, breadth-first, as the loader builds the global scope. */
  private loadDeps(from: number): void {
    const root = this.root;
    const program = this.objects[0];
    const programPath = { path: logicalPath(root, program.real), rpath: program.read.head.rpath };
    const queue = [from];
    while (queue.length) {
      const oi = queue.shift() as number;
      const o = this.objects[oi];
      const head = o.read.head;
      for (const name of head.needed) {
        if (this.bySoname.has(name)) continue;
        const real = findLibrary(
          root,
          name,
          { path: logicalPath(root, o.real), runpath: head.runpath, rpath: head.rpath },
          oi === 0 ? undefined : programPath,
        );
        if (!real) {
          if (!this.missing.includes(name)) this.missing.push(name);
          continue;
        }
        const before = this.objects.length;
        const j = this.add(real, logicalPath(root, real), {});
        if (j === before) queue.push(j);
      }
    }
  }
}
