// What the command line assumes about the machine it runs on, passed to readers that take it explicitly.
import { release } from "node:os";
import { type ArchName, nativeArch } from "../syscalls/arches.js";

/** This machine's architecture and kernel release. */
export function host(): { arch: ArchName; kernel: string } {
  return { arch: nativeArch(), kernel: release() };
}
