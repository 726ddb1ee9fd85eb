// The decoded event model every recording engine's adapter produces and the ProfileBuilder consumes:
// events in batches of columns (typed arrays, no object per call), with strings (syscall names, errnos,
// argument values, paths, file names) as ids into the producer's string table. Values are already decoded:
// numbers in decimal, or a symbolic expression as an imported log printed it ("O_RDONLY|O_CLOEXEC");
// paths as "/etc/passwd", "unix:/run/x.sock", "inet:127.0.0.1:80". No engine's syntax gets past here.

/** Row kinds. */
export const Ev = {
  /** A call that returned (result set), or whose end the engine never saw. */
  call: 1,
  /** A call whose end comes in a later `resume` row of the same thread (it is counted here). */
  unfinished: 2,
  /** The end of the thread's unfinished call: result, errno; text for an exec's file name if the call had none. */
  resume: 3,
  /** `n` calls of one thread with the same values and path, `errors` of them failed, `noReturn` never returned. */
  tally: 4,
  /** The thread's last call (counted in a tally) is still unfinished; its resume row comes later. */
  pending: 5,
  /** The thread ended: n = its process's exit status (-1: none), text = the signal that killed it. */
  exit: 6,
  /** n deliveries of the signal named by text to the thread (tid -1: to some recorded thread). */
  signal: 7,
  /**
   * The thread belongs to the process whose leader is n (an engine that knows thread groups: ftrace; a
   * process row's image: bpf).
   */
  thread: 8,
  /**
   * n more uses of the path by the thread's calls, with access bits (folded calls' paths, apart from
   * their tallies; a call's second path; tid -1: by no thread in particular).
   */
  paths: 9,
  /**
   * Thread n exec'd while it was not its process's leader (tid): it takes over the leader's tid, and its
   * unfinished exec ends under that tid; the leader's own unfinished call never returns.
   */
  superseded: 10,
  /**
   * Process tid runs the file named by text, a process image of its own from here on (an engine that
   * knows images, not the calls that make them: bpf); its parent is aux (-1: unknown). Its threads join
   * it by thread rows (the leader too); the image is over when each of them has had an exit row.
   */
  process: 11,
} as const;

/** How a call ended. */
export const Result = { none: 0, noReturn: 1, ok: 2, failed: 3 } as const;

/**
 * A tally's phase: the process's own (the builder follows --after), or setup or work as the engine
 * decided it (bpf decides in the kernel).
 */
export const TallyPhase = { process: 0, setup: 1, work: 2 } as const;

/**
 * A batch's columns, by name and type:
 * - tid; sys: the syscall's name (string id); result; errno: its name (string id, -1: none);
 * - v0, v1, v2: the values of the syscall's arguments worth filtering (INTERESTING_ARGS order; string ids,
 *   -1: none); path: the path or socket address the call names (string id, -1: none); access: how the
 *   call (or a paths row's calls) used it (path-access.ts Access bits, 0: not said);
 * - text: an exec's new file name, the strings a marker write carries, a signal's name (string id, -1: none);
 * - n: calls in a tally (1 for a call row), exit status, signal count, a thread's leader, a path's uses;
 *   errors, noReturn: of a tally's calls; phase: a tally's (TallyPhase);
 * - time: seconds since the epoch, NaN when the engine did not stamp the event;
 * - aux: a process row's parent (-1: none); a clone or clone3 call's flags: 1 when they make a thread
 *   (CLONE_THREAD), 0 when a process (-1: not known).
 */
const COLUMNS = {
  kind: Uint8Array,
  tid: Int32Array,
  sys: Int32Array,
  result: Uint8Array,
  errno: Int32Array,
  v0: Int32Array,
  v1: Int32Array,
  v2: Int32Array,
  path: Int32Array,
  access: Uint8Array,
  text: Int32Array,
  n: Int32Array,
  errors: Int32Array,
  noReturn: Int32Array,
  phase: Uint8Array,
  time: Float64Array,
  aux: Int32Array,
} as const;
type ColumnName = keyof typeof COLUMNS;
const NAMES = Object.keys(COLUMNS) as ColumnName[];

/** A batch's columns (as sent between threads: the arrays are transferred). */
export type EventColumns = { length: number } & {
  -readonly [K in ColumnName]: InstanceType<(typeof COLUMNS)[K]>;
};

/** A typed array's contents in a new one of `size` elements (the rest zero). */
export function grown<T extends Uint8Array | Int32Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a.subarray(0, Math.min(a.length, size)));
  return b;
}

function allocate(capacity: number): EventColumns {
  const c = { length: 0 } as Record<string, unknown>;
  for (const k of NAMES) c[k] = new COLUMNS[k](capacity);
  return c as EventColumns;
}

/** A growing batch of rows: `columns` holds them (read `columns`, or pass the batch, as EventColumns). */
export class EventBatch {
  columns: EventColumns;

  constructor(capacity = 1024) {
    this.columns = allocate(capacity);
  }

  get length(): number {
    return this.columns.length;
  }

  /** Appends a row of `kind` for thread tid and syscall sys (-1: none), every other field empty; its index. */
  push(kind: number, tid: number, sys: number): number {
    let c = this.columns;
    if (c.length === c.kind.length) {
      const size = c.kind.length * 2;
      const g = { length: c.length } as Record<string, unknown>;
      for (const k of NAMES) g[k] = grown(c[k], size);
      c = g as EventColumns;
      this.columns = c;
    }
    const i = c.length++;
    c.kind[i] = kind;
    c.tid[i] = tid;
    c.sys[i] = sys;
    c.result[i] = Result.none;
    c.errno[i] = -1;
    c.v0[i] = -1;
    c.v1[i] = -1;
    c.v2[i] = -1;
    c.path[i] = -1;
    c.access[i] = 0;
    c.text[i] = -1;
    c.n[i] = 1;
    c.errors[i] = 0;
    c.noReturn[i] = 0;
    c.phase[i] = TallyPhase.process;
    c.time[i] = Number.NaN;
    c.aux[i] = -1;
    return i;
  }

  /** Empties the batch (its arrays are reused). */
  clear(): void {
    this.columns.length = 0;
  }

  /**
   * The rows so far (their columns are handed over as they are, with spare room after `length`: sending
   * them to another thread transfers them without a copy); the batch goes on in new columns.
   */
  take(): EventColumns {
    const c = this.columns;
    this.columns = allocate(Math.max(1024, c.length));
    return c;
  }
}

/** The buffers of a batch's columns, to transfer it to another thread without copying. */
export function transferList(c: EventColumns): ArrayBuffer[] {
  return NAMES.map((k) => c[k].buffer as ArrayBuffer);
}

/**
 * A producer's strings, each given an id once. The consumer keeps a list in id order, extended with
 * `fresh()` after each batch (strings made since the last call).
 */
export class StringTable {
  private readonly ids = new Map<string, number>();
  readonly list: string[] = [];
  private sent = 0;

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.list.length;
      this.ids.set(s, id);
      this.list.push(s);
    }
    return id;
  }

  get size(): number {
    return this.list.length;
  }

  /** The strings added since the last call, in id order. */
  fresh(): string[] {
    const out = this.list.slice(this.sent);
    this.sent = this.list.length;
    return out;
  }
}
