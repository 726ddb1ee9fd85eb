// record's launcher (src/record/launch-entry.ts) is a second Node process on the path of every recording's
// start with the ftrace and bpf engines: it must load only the exec plumbing and the libc binding. It once
// imported install/run.js, whose graph (policy, compile, install, Landlock, the syscall tables) was 72
// modules and ~100 ms of CPU before the program could start.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "../helpers/paths.js";

/** The modules a built module loads at start (static imports and re-exports, transitively), from dist/src. */
function staticGraph(entry: string): string[] {
  const root = join(REPO, "dist/src");
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|^import\s+"(\.[^"]+)"/gms))
      visit(join(dirname(file), m[1] ?? m[2]));
  };
  visit(join(root, entry));
  return [...seen].map((f) => relative(root, f)).sort();
}

describe("record's launcher", () => {
  it("loads only the exec plumbing and the libc binding (not install/run.js's graph)", () => {
    assert.deepEqual(staticGraph("record/launch-entry.js"), [
      "errors.js",
      "install/exec.js",
      "install/ffi.js",
      "record/launch-entry.js",
      "syscalls/generated/constants.js",
    ]);
  });
});
