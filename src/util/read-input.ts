import { readFile } from "node:fs/promises";
import { SysfenceError } from "../errors.js";

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
      `cannot read ${path === "-" ? "standard input" : path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
      { cause: e },
    );
  }
}
