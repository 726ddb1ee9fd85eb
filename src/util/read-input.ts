import { open, readFile } from "node:fs/promises";
import { SysfenceError } from "../errors.js";
import { systemErrorText } from "./errno.js";

/** All of standard input; `check` sees the size read so far after each chunk (to refuse a flood early). */
export async function readAllStdin(check?: (size: number) => void): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    size += (c as Buffer).length;
    check?.(size);
  }
  return Buffer.concat(chunks);
}

/** The name an input is shown by in messages: `-` is standard input. */
export const inputName = (path: string) => (path === "-" ? "<stdin>" : path);

/** A file's bytes, `-` for standard input; an unreadable file is one E_IO error naming it. */
export async function readInput(path: string): Promise<Buffer> {
  try {
    return path === "-" ? await readAllStdin() : await readFile(path);
  } catch (e) {
    throw new SysfenceError(
      "E_IO",
      `cannot read ${path === "-" ? "standard input" : path}: ${systemErrorText(e)}.`,
      { cause: e },
    );
  }
}

const PREFIX = 4096;

/**
 * At most `limit` bytes of a file or of standard input (`-`), and whether there was more. Never reads more
 * than limit + 1 bytes (a regular file larger than the limit is not read at all), so a huge file, a device
 * such as /dev/zero or an endless pipe costs limit + 1 bytes. With `more`, `bytes` is what was read (of a
 * regular file, its first 4 KiB) and `size` the size of a regular file. An unreadable file is one E_IO error naming it.
 */
export async function readUpTo(
  path: string,
  limit: number,
): Promise<{ bytes: Buffer; more: boolean; size?: number }> {
  try {
    if (path === "-") {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of process.stdin) {
        chunks.push(c as Buffer);
        size += (c as Buffer).length;
        if (size > limit) break; // stops reading (and closes) standard input
      }
      const all = Buffer.concat(chunks);
      return { bytes: all.subarray(0, limit), more: size > limit };
    }
    const handle = await open(path, "r");
    try {
      const st = await handle.stat();
      if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
      // a regular file over the limit: only a prefix, which can still tell text from binary
      const tooBig = st.isFile() && st.size > limit;
      const buf = Buffer.alloc(tooBig ? Math.min(limit, PREFIX) : limit + 1);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await handle.read(buf, got, buf.length - got, null);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (tooBig) return { bytes: buf.subarray(0, got), more: true, size: st.size };
      return { bytes: buf.subarray(0, Math.min(got, limit)), more: got > limit };
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw new SysfenceError(
      "E_IO",
      `cannot read ${path === "-" ? "standard input" : path}: ${systemErrorText(e)}.`,
      { cause: e },
    );
  }
}

/**
 * A file's bytes ('-': standard input) when they are at most `limit`; more is the error `tooBig` makes from
 * the size ("123456789 bytes" for a regular file, "more than N bytes" for a device or a pipe).
 */
export async function readCapped(
  path: string,
  limit: number,
  tooBig: (size: string) => SysfenceError,
): Promise<Buffer> {
  const r = await readUpTo(path, limit);
  if (r.more) throw tooBig(r.size !== undefined ? `${r.size} bytes` : `more than ${limit} bytes`);
  return r.bytes;
}
