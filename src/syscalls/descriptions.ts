import { DESCRIPTIONS } from "./generated/descriptions.js";

/** One-line description of a syscall, from its man page's NAME section; "" when it has none. */
export function describeSyscall(name: string): string {
  return DESCRIPTIONS[name] ?? "";
}
