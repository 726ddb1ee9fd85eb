// The errno answers of a generated policy: the calls asked for (--errno), clone3 and io_uring, and clone
// taking over what clone3 was seen doing (libc's fallback).
import { SysfenceError } from "../errors.js";
import { errnoName } from "../syscalls/constants.js";
import { syscallNumber } from "../syscalls/table.js";
import { dict } from "../util/dict.js";
import type { Generation } from "./generation.js";
import { describe, seenText } from "./rule-text.js";

const IO_URING = ["io_uring_setup", "io_uring_enter", "io_uring_register"];
const ENOSYS = 38;

function answer(g: Generation, name: string, errno: number, comment: string): void {
  g.answered.add(name);
  g.errnoRules.push({ names: [name], action: { kind: "errno", data: errno }, conditions: [], comment });
}

/** The errno answers: those asked for (--errno), clone3 (unless allowed) and io_uring. */
export function errnoAnswers(g: Generation): void {
  const { o, sel, arch, answered, warnings } = g;
  for (const [name, errno] of Object.entries(o.errno ?? {})) {
    if (syscallNumber(arch, name) === undefined)
      throw new SysfenceError("E_USAGE", `--errno ${name}: no syscall '${name}' on ${arch}.`);
    const seen = sel.calls.get(name);
    answer(
      g,
      name,
      errno,
      `${describe(name)} — answered ${errnoName(errno) ?? errno} on request (--errno)${seen ? `; ${seenText(seen, sel.phase, sel.phased)}` : ""}`,
    );
  }
  if (!o.allowClone3 && !answered.has("clone3") && syscallNumber(arch, "clone3") !== undefined) {
    const seen = sel.calls.get("clone3");
    answer(
      g,
      "clone3",
      ENOSYS,
      `${describe("clone3")} — ENOSYS: its flags are in memory where seccomp cannot look, and libc falls back to clone, whose flags are checked${seen ? `; ${seenText(seen, sel.phase, sel.phased)}` : ""}`,
    );
  }
  for (const name of IO_URING) {
    if (answered.has(name) || syscallNumber(arch, name) === undefined) continue;
    const seen = sel.calls.get(name);
    if (seen)
      warnings.push(
        `${name} was recorded; it gets ENOSYS (io_uring bypasses per-call filtering), programs fall back to plain calls`,
      );
    answer(
      g,
      name,
      ENOSYS,
      `io_uring — ENOSYS, never allowed: its submissions run inside the kernel where seccomp never sees them; liburing/libuv fall back${seen ? `; ${seenText(seen, sel.phase, sel.phased)}` : ""}`,
    );
  }
}

/** clone3 refused: libc repeats the request through clone, with the same flags (and exit signal). */
export function clone3Fallback(g: Generation): void {
  const { sel } = g;
  const clone3 = sel.calls.get("clone3");
  if (clone3 && g.answered.has("clone3") && syscallNumber(g.arch, "clone") !== undefined) {
    const clone = sel.calls.get("clone") ?? {
      name: "clone",
      count: 0,
      setup: 0,
      work: 0,
      args: dict(),
      combos: dict(),
      where: new Map<string, Map<number, number>>(),
    };
    clone.fallback = `libc's fallback for the ${clone3.count} clone3 calls recorded`;
    for (const [v, n] of Object.entries(clone3.args[0] ?? {})) {
      clone.args[0] ??= dict();
      clone.args[0][v] = (clone.args[0][v] ?? 0) + n;
    }
    for (const [w, pids] of clone3.where)
      clone.where.set(w, new Map([...(clone.where.get(w) ?? []), ...pids]));
    sel.calls.set("clone", clone);
  }
}
