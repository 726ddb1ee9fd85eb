// The bpf engine's program, read as text: every syscall whose values the generator uses is reached by the
// binary search on its number, with its own argument registers, on every architecture.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bpftraceScript } from "../../src/record/engines/bpf/script.js";
import { INTERESTING_ARGS } from "../../src/record/profile.js";
import { ARCHES, type ArchName } from "../../src/syscalls/arches.js";
import { syscallNumber } from "../../src/syscalls/table.js";

/** What the sys_enter program sets for syscall number nr: the `$vK = args->args[I]` it reaches. */
function picksFor(script: string, nr: number): string[] {
  const body = script.slice(script.indexOf("tracepoint:raw_syscalls:sys_enter"));
  const lines = body.slice(0, body.indexOf("\n}\n")).split("\n");
  // a stack of branch conditions: true when nr takes the branch the line is in
  const taken: boolean[] = [];
  const picked: string[] = [];
  for (const line of lines) {
    const less = /if \(\$id < (\d+)\) \{$/.exec(line.trim());
    if (less) {
      taken.push(nr < Number(less[1]));
      continue;
    }
    if (line.trim() === "} else {") {
      taken.push(!(taken.pop() as boolean));
      continue;
    }
    if (line.trim() === "}") {
      taken.pop();
      continue;
    }
    const leaf = /if \(\$id == (\d+)\) \{ (.*) \}$/.exec(line.trim());
    if (leaf && Number(leaf[1]) === nr && taken.every(Boolean)) picked.push(leaf[2]);
  }
  return picked;
}

describe("bpf engine: argument picks", () => {
  for (const arch of Object.keys(ARCHES) as ArchName[]) {
    it(`every syscall with values is reached once, with its own registers (${arch})`, () => {
      const script = bpftraceScript({ kind: "none" }, arch);
      let checked = 0;
      for (const [name, idx] of Object.entries(INTERESTING_ARGS)) {
        if (name === "clone3") continue; // its flags are in memory, never in a register
        const nr = syscallNumber(arch, name);
        if (nr === undefined) continue;
        const want = `$has = 1; ${idx
          .slice(0, 3)
          .map((i, k) => `$v${k} = $a${i};`)
          .join(" ")}`;
        assert.deepEqual(picksFor(script, nr), [want], `${name} (${nr}) on ${arch}`);
        // each register a pick names is read from the call's arguments, once
        for (const i of idx.slice(0, 3))
          assert.equal(
            script.split(`$a${i} = (uint64)args->args[${i}];`).length,
            2,
            `register ${i} read once`,
          );
        checked++;
      }
      assert.ok(checked > 20, `${checked} syscalls checked`);
      // a number no syscall with values has reaches no pick
      assert.deepEqual(picksFor(script, 100000), []);
    });
  }
});
