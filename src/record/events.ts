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
  /** The thread's process ended: n = exit status (-1: none), text = the signal that killed it. */
  exit: 6,
  /** n deliveries of the signal named by text to the thread. */
  signal: 7,
  /** The thread belongs to the process whose leader is n (an engine that knows thread groups). */
  thread: 8,
  /** n more uses of the path by the thread's calls (folded calls' paths, apart from their tallies). */
  paths: 9,
} as const;

/** How a call ended. */
export const Result = { none: 0, noReturn: 1, ok: 2, failed: 3 } as const;

/** A batch's columns, as sent between threads (the arrays are transferred). */
export interface EventColumns {
  length: number;
  kind: Uint8Array;
  tid: Int32Array;
  /** The syscall's name (string id). */
  sys: Int32Array;
  result: Uint8Array;
  /** The errno's name (string id, -1: none). */
  errno: Int32Array;
  /** The values of the syscall's arguments worth filtering (INTERESTING_ARGS order; string ids, -1: none). */
  v0: Int32Array;
  v1: Int32Array;
  v2: Int32Array;
  /** The path or socket address the call names (string id, -1: none). */
  path: Int32Array;
  /** An exec's new file name; the strings a marker write carries; a signal's name (string id, -1: none). */
  text: Int32Array;
  /** Calls in a tally (1 for a call row); exit status; signal count; a thread's leader. */
  n: Int32Array;
  errors: Int32Array;
  noReturn: Int32Array;
  /** Seconds since the epoch; NaN when the engine did not stamp the event. */
  time: Float64Array;
}

/** A growing batch of rows. */
export class EventBatch implements EventColumns {
  length = 0;
  kind: Uint8Array;
  tid: Int32Array;
  sys: Int32Array;
  result: Uint8Array;
  errno: Int32Array;
  v0: Int32Array;
  v1: Int32Array;
  v2: Int32Array;
  path: Int32Array;
  text: Int32Array;
  n: Int32Array;
  errors: Int32Array;
  noReturn: Int32Array;
  time: Float64Array;

  constructor(capacity = 1024) {
    this.kind = new Uint8Array(capacity);
    this.tid = new Int32Array(capacity);
    this.sys = new Int32Array(capacity);
    this.result = new Uint8Array(capacity);
    this.errno = new Int32Array(capacity);
    this.v0 = new Int32Array(capacity);
    this.v1 = new Int32Array(capacity);
    this.v2 = new Int32Array(capacity);
    this.path = new Int32Array(capacity);
    this.text = new Int32Array(capacity);
    this.n = new Int32Array(capacity);
    this.errors = new Int32Array(capacity);
    this.noReturn = new Int32Array(capacity);
    this.time = new Float64Array(capacity);
  }

  /** Appends a row of `kind` for thread tid and syscall sys (-1: none), every other field empty; its index. */
  push(kind: number, tid: number, sys: number): number {
    if (this.length === this.kind.length) this.grow();
    const i = this.length++;
    this.kind[i] = kind;
    this.tid[i] = tid;
    this.sys[i] = sys;
    this.result[i] = Result.none;
    this.errno[i] = -1;
    this.v0[i] = -1;
    this.v1[i] = -1;
    this.v2[i] = -1;
    this.path[i] = -1;
    this.text[i] = -1;
    this.n[i] = 1;
    this.errors[i] = 0;
    this.noReturn[i] = 0;
    this.time[i] = Number.NaN;
    return i;
  }

  private grow(): void {
    const size = this.kind.length * 2;
    const more = <T extends Uint8Array | Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.kind = more(this.kind);
    this.tid = more(this.tid);
    this.sys = more(this.sys);
    this.result = more(this.result);
    this.errno = more(this.errno);
    this.v0 = more(this.v0);
    this.v1 = more(this.v1);
    this.v2 = more(this.v2);
    this.path = more(this.path);
    this.text = more(this.text);
    this.n = more(this.n);
    this.errors = more(this.errors);
    this.noReturn = more(this.noReturn);
    this.time = more(this.time);
  }

  /** The rows so far as exact-size columns (copies; the batch is emptied for reuse). */
  take(): EventColumns {
    const k = this.length;
    this.length = 0;
    return {
      length: k,
      kind: this.kind.slice(0, k),
      tid: this.tid.slice(0, k),
      sys: this.sys.slice(0, k),
      result: this.result.slice(0, k),
      errno: this.errno.slice(0, k),
      v0: this.v0.slice(0, k),
      v1: this.v1.slice(0, k),
      v2: this.v2.slice(0, k),
      path: this.path.slice(0, k),
      text: this.text.slice(0, k),
      n: this.n.slice(0, k),
      errors: this.errors.slice(0, k),
      noReturn: this.noReturn.slice(0, k),
      time: this.time.slice(0, k),
    };
  }
}

/** The buffers of a batch's columns, to transfer it to another thread without copying. */
export function transferList(c: EventColumns): ArrayBuffer[] {
  return [
    c.kind,
    c.tid,
    c.sys,
    c.result,
    c.errno,
    c.v0,
    c.v1,
    c.v2,
    c.path,
    c.text,
    c.n,
    c.errors,
    c.noReturn,
    c.time,
  ].map((a) => a.buffer as ArrayBuffer);
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
