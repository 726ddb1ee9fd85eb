// Reading a slice of a log file: the bytes of the lines that start in [from, to), handed out in pieces of
// whole lines.
import { closeSync, openSync, readSync } from "node:fs";

/** Bytes a scanning loop is given at once (it is entered often enough to be compiled early). */
const PIECE = 1 << 18;

export class SliceReader {
  private readonly fd: number;
  private buf = Buffer.alloc(0);

  constructor(file: string) {
    this.fd = openSync(file, "r");
  }

  /**
   * Calls fn(buf, start, end, first) for the lines that start in [from, to) of the file, in pieces of
   * about 256 KB of whole lines (first: the piece holds the slice's first line). A line that starts
   * before `from` is the previous slice's; the last one may run past `to`.
   */
  scan(
    from: number,
    to: number,
    fn: (buf: Buffer, start: number, end: number, first: boolean) => void,
  ): void {
    const [buf, start, end] = this.read(from, to);
    let pos = start;
    while (pos < end) {
      let stop = pos + PIECE >= end ? end : buf.indexOf(10, pos + PIECE);
      if (stop < 0 || stop > end) stop = end;
      fn(buf, pos, stop, pos === start);
      pos = stop + 1;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** The buffer holding the slice's lines, and where they are in it. */
  private read(from: number, to: number): [Buffer, number, number] {
    const TAIL = 1 << 16;
    if (this.buf.length < to - from + TAIL + 1) this.buf = Buffer.allocUnsafe(to - from + TAIL + 1);
    let buf = this.buf;
    const start = from > 0 ? from - 1 : 0;
    let len = readSync(this.fd, buf, 0, buf.length, start);
    // extend until the last line that starts before `to` is complete; only the bytes read count (the reused
    // buffer holds an older slice's bytes after them)
    const after = Math.max(0, to - start - 1);
    let nl = buf.indexOf(10, after);
    if (nl >= len) nl = -1;
    while (nl < 0 && len === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, len);
      len += readSync(this.fd, bigger, len, bigger.length - len, start + len);
      buf = bigger;
      this.buf = bigger;
      nl = buf.indexOf(10, after);
      if (nl >= len) nl = -1;
    }
    const end = nl >= 0 ? nl : len;
    // a last line without a newline: a newline after it, so no scan reads the previous slice's bytes there
    if (end < buf.length) buf[end] = 10;
    let pos = 0;
    if (from > 0) {
      // skip the rest of a line that started in the previous slice (buf[0] is the byte before `from`)
      const first = buf.indexOf(10, 0);
      pos = first < 0 || first >= end ? end : first + 1;
    }
    return [buf, pos, end];
  }
}
