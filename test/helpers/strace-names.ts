import { readFileSync } from "node:fs";

/**
 * The syscall names in an `strace -f -o` log or qemu-user's `-strace` log, read with a pattern of its own
 * (not sysfence's parser, which is what the tests compare against).
 */
export function recordedSyscalls(log: string): Set<string> {
  const out = new Set<string>();
  for (const m of readFileSync(log, "utf8").matchAll(/^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]/gm)) out.add(m[1]);
  out.delete("exited");
  return out;
}
