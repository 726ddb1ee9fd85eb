import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Family,
  familyOf,
  NAMING,
  namesOf,
  nameValue,
  type Selected,
} from "../../src/generate/symbols.js";
import { evalValue } from "../../src/syscalls/constants.js";
import { CONSTANTS } from "../../src/syscalls/generated/constants.js";

/** Every naming context: (syscall, argument, the selector's name when one decides the family). */
function contexts(): { syscall: string; arg: number; args?: bigint[]; where: string; family: Family }[] {
  const out = [];
  for (const [key, n] of Object.entries(NAMING)) {
    const [syscall, a] = key.split(":");
    const arg = Number(a);
    if ("selector" in n) {
      for (const [sel, family] of Object.entries((n as Selected).by)) {
        const args: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
        args[(n as Selected).selector] = BigInt(CONSTANTS[sel]);
        out.push({
          syscall,
          arg,
          args,
          where: `${syscall} arg${arg} when arg${(n as Selected).selector} is ${sel}`,
          family,
        });
      }
    } else out.push({ syscall, arg, where: `${syscall} arg${arg}`, family: n as Family });
  }
  return out;
}

describe("constants by context: a value prints as a name of its own argument, and parses back", () => {
  it("every selector value names a constant sysfence knows", () => {
    for (const [key, n] of Object.entries(NAMING))
      if ("selector" in n)
        for (const sel of Object.keys(n.by))
          assert.ok(CONSTANTS[sel] !== undefined, `${key}: selector ${sel}`);
  });

  it("every name in every table prints as itself (or an alias of the same value in the same table) and parses back", () => {
    let checked = 0;
    for (const c of contexts()) {
      const names = namesOf(c.family);
      assert.ok(names.size > 0, `${c.where}: the family names nothing`);
      for (const [value, aliases] of names) {
        if (value < 0n) continue;
        const printed = nameValue(c.syscall, c.arg, value, c.args);
        if (c.family.flags) {
          // flags: every part is a name of this family (or its value part), and the whole is the value
          const value_ = namesOf(c.family, "value");
          for (const part of printed.split("|")) {
            const known = [...names.values(), ...value_.values()].some((l) => l.includes(part));
            assert.ok(known || /^\d+$|^0x/.test(printed), `${c.where}: ${value} printed as ${printed}`);
          }
        } else {
          assert.ok(
            aliases.includes(printed),
            `${c.where}: ${value} (${aliases.join("/")}) printed as ${printed}`,
          );
        }
        assert.equal(evalValue(printed), value, `${c.where}: ${printed} parses back to ${value}`);
        checked++;
      }
    }
    assert.ok(checked > 500, `only ${checked} values checked`);
  });

  it("values that collide across families print by their context", () => {
    const SOL_SOCKET = BigInt(CONSTANTS.SOL_SOCKET);
    const TCP = BigInt(CONSTANTS.IPPROTO_TCP);
    const F_SETFL = BigInt(CONSTANTS.F_SETFL);
    const PR_PAC_RESET_KEYS = BigInt(CONSTANTS.PR_PAC_RESET_KEYS);
    const cases: [string, number, bigint, (bigint | undefined)[] | undefined, string][] = [
      ["fcntl", 1, 4n, undefined, "F_SETFL"], // not F_EXLCK
      ["fcntl", 1, 8n, undefined, "F_SETOWN"], // not F_SHLCK
      ["fcntl", 2, 0x800n, [0n, F_SETFL], "O_NONBLOCK"],
      ["fcntl", 2, 1n, [0n, BigInt(CONSTANTS.F_SETFD)], "FD_CLOEXEC"],
      ["fcntl", 2, 0x800n, undefined, "2048"], // no command known: a number, never a guess
      ["prctl", 0, 4n, undefined, "PR_SET_DUMPABLE"], // not PR_PAC_APDAKEY
      ["prctl", 1, 4n, [PR_PAC_RESET_KEYS], "PR_PAC_APDAKEY"],
      ["prctl", 1, 2n, [BigInt(CONSTANTS.PR_CAP_AMBIENT)], "PR_CAP_AMBIENT_RAISE"],
      ["setsockopt", 2, 2n, [0n, SOL_SOCKET], "SO_REUSEADDR"],
      ["setsockopt", 2, 2n, [0n, TCP], "TCP_MAXSEG"],
      ["setsockopt", 2, 1n, [0n, TCP], "TCP_NODELAY"],
      ["getsockopt", 2, 3n, [0n, SOL_SOCKET], "SO_TYPE"],
      ["setsockopt", 2, 26n, [0n, BigInt(CONSTANTS.IPPROTO_IPV6)], "IPV6_V6ONLY"],
      ["setsockopt", 2, 2n, undefined, "2"],
      ["arch_prctl", 0, 0x1002n, undefined, "ARCH_SET_FS"],
      ["rt_sigaction", 0, 1n, undefined, "SIGHUP"],
      ["openat", 2, 0x80000n, undefined, "O_RDONLY|O_CLOEXEC"],
      ["openat", 2, 0x241n, undefined, "O_WRONLY|O_CREAT|O_TRUNC"],
      ["mmap", 3, 0x22n, undefined, "MAP_PRIVATE|MAP_ANONYMOUS"],
      ["futex", 1, 0x80n, undefined, "FUTEX_WAIT|FUTEX_PRIVATE_FLAG"],
      ["futex", 1, 0x189n, undefined, "FUTEX_WAIT_BITSET|FUTEX_PRIVATE_FLAG|FUTEX_CLOCK_REALTIME"],
      ["eventfd2", 1, 0x80800n, undefined, "EFD_NONBLOCK|EFD_CLOEXEC"],
      ["clock_gettime", 0, 1n, undefined, "CLOCK_MONOTONIC"],
      ["shutdown", 1, 1n, undefined, "SHUT_WR"],
    ];
    for (const [s, a, v, args, text] of cases) {
      assert.equal(nameValue(s, a, v, args), text, `${s} arg${a} = ${v}`);
      assert.equal(evalValue(text), v);
    }
    assert.equal(familyOf("setsockopt", 2, undefined), undefined);
  });
});
