// Argument values seen together (profile.ts combos): socket's family, type and protocol, setsockopt's level
// and option are allowed as the recording saw them together — never a whole level or family because one of
// its values was seen, never UDP because datagram sockets (unix) and inet sockets (TCP) were seen apart.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeActionValue } from "../../src/abi/action.js";
import { emulate } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import { generatePolicy } from "../../src/generate/generate.js";
import { mergeProfiles } from "../../src/generate/merge.js";
import { formatAction } from "../../src/policy/actions.js";
import type { Policy } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import type { Profile } from "../../src/record/profile.js";
import { parseProfile } from "../../src/record/read-profile.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { evalValue } from "../../src/syscalls/constants.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { syntheticProfile } from "../helpers/profiles.js";

const X86 = ARCHES.x86_64.audit;
const n = (v: string | number | bigint) => (typeof v === "string" ? evalValue(v) : BigInt(v));

/** The answer of the policy's compiled filter (the BPF emulator) and of the reference evaluator, which agree. */
function decide(p: Policy, name: string, args: (string | number | bigint)[]): string {
  const data = {
    nr: syscallNumber("x86_64", name) as number,
    arch: X86,
    instructionPointer: 0n,
    args: [...args.map(n), 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6),
  };
  const bpf = formatAction(decodeActionValue(emulate(compile(p).program, data).value));
  assert.equal(bpf, formatAction(referenceDecide(p, data)), `${name}(${args}): filter and reference agree`);
  return bpf;
}
const EPERM = "errno EPERM";
const ALLOW = "allow";

/** A generated policy as its YAML reads back. */
const policyOf = (profiles: Profile[]) =>
  parsePolicy(generatePolicy(profiles).text, { file: "generated.yaml" }).policy;

// a server: syslog over a unix datagram socket, TCP over IPv4; SO_REUSEADDR and TCP_NODELAY set
const SOCKETS = [
  [1, 0x80002, 0], // AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC
  [2, 0x80801, 0], // AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC
];
const OPTIONS = [
  [1, 2], // SOL_SOCKET, SO_REUSEADDR
  [6, 1], // IPPROTO_TCP, TCP_NODELAY
];
const server = syntheticProfile({ read: {}, socket: { combos: SOCKETS }, setsockopt: { combos: OPTIONS } });

describe("argument values seen together (combos)", () => {
  const p = policyOf([server]);

  it("setsockopt: a seen level allows its ordinary options and the options seen with it, nothing else", () => {
    assert.equal(decide(p, "setsockopt", [3, "SOL_SOCKET", "SO_REUSEADDR"]), ALLOW);
    assert.equal(decide(p, "setsockopt", [3, "IPPROTO_TCP", "TCP_NODELAY"]), ALLOW);
    assert.equal(decide(p, "setsockopt", [3, "SOL_SOCKET", "SO_KEEPALIVE"]), ALLOW, "ordinary");
    for (const o of ["SO_ATTACH_FILTER", "SO_ATTACH_BPF", "SO_BINDTODEVICE", "SO_MARK", 99])
      assert.equal(decide(p, "setsockopt", [3, "SOL_SOCKET", o]), EPERM, String(o));
    // option 1 was seen, at IPPROTO_TCP (TCP_NODELAY): SOL_SOCKET's 1 is SO_DEBUG, never seen
    assert.equal(decide(p, "setsockopt", [3, "SOL_SOCKET", "SO_DEBUG"]), EPERM);
    assert.equal(decide(p, "setsockopt", [3, "IPPROTO_TCP", "TCP_ULP"]), EPERM);
  });

  it("socket: unix datagrams and TCP seen apart do not make UDP; SCTP and MPTCP are never ordinary", () => {
    assert.equal(decide(p, "socket", ["AF_UNIX", "SOCK_DGRAM|SOCK_CLOEXEC", 0]), ALLOW);
    assert.equal(decide(p, "socket", ["AF_INET", "SOCK_STREAM", 0]), ALLOW);
    assert.equal(decide(p, "socket", ["AF_INET6", "SOCK_STREAM", "IPPROTO_TCP"]), ALLOW, "ordinary");
    assert.equal(decide(p, "socket", ["AF_INET", "SOCK_DGRAM", 0]), EPERM, "UDP");
    assert.equal(decide(p, "socket", ["AF_INET", "SOCK_DGRAM", "IPPROTO_UDP"]), EPERM, "UDP");
    assert.equal(decide(p, "socket", ["AF_INET6", "SOCK_DGRAM", 0]), EPERM, "UDP over IPv6");
    assert.equal(decide(p, "socket", ["AF_INET", "SOCK_DGRAM", "IPPROTO_ICMP"]), EPERM, "ping socket");
    assert.equal(decide(p, "socket", ["AF_INET", "SOCK_STREAM", "IPPROTO_SCTP"]), EPERM, "SCTP");
    assert.equal(decide(p, "socket", ["AF_INET6", "SOCK_STREAM", "IPPROTO_MPTCP"]), EPERM, "MPTCP");
    // the kernel reads socket's int arguments on 32 bits: high bits do not turn a refused family into AF_UNIX
    assert.equal(decide(p, "socket", [n("AF_UNIX") | (1n << 32n), "SOCK_DGRAM", 0]), ALLOW);
    assert.equal(decide(p, "socket", [n("AF_PACKET") | (1n << 32n), "SOCK_DGRAM", 0]), EPERM);
  });

  it("UDP seen is allowed as seen (its protocol too), and only that", () => {
    const udp = policyOf([
      syntheticProfile({ socket: { combos: [...SOCKETS, [2, 0x80802, 0]] } }), // AF_INET, SOCK_DGRAM, 0
    ]);
    assert.equal(decide(udp, "socket", ["AF_INET", "SOCK_DGRAM|SOCK_NONBLOCK", 0]), ALLOW);
    assert.equal(decide(udp, "socket", ["AF_INET", "SOCK_DGRAM", "IPPROTO_ICMP"]), EPERM);
    assert.equal(decide(udp, "socket", ["AF_INET6", "SOCK_DGRAM", 0]), EPERM);
  });

  it("the comment names the combinations seen", () => {
    const g = generatePolicy([server]);
    assert.match(
      g.text,
      /arg1, arg2 seen together: \(SOL_SOCKET, SO_REUSEADDR\), \(IPPROTO_TCP, TCP_NODELAY\)/,
    );
    assert.match(
      g.text,
      /arg0, arg1 & 0xf, arg2 seen together: \(AF_UNIX, SOCK_DGRAM, [^)]*\), \(AF_INET, SOCK_STREAM/,
    );
  });

  it("a profile without combinations (written before them) loads and pins every argument apart", () => {
    const old = syntheticProfile({
      socket: { args: { 0: [1, 2], 1: [0x80002, 0x80801], 2: [0] } },
      setsockopt: { args: { 1: [1, 6], 2: [2, 1] } },
    });
    const text = JSON.stringify(old);
    assert.ok(!text.includes("combos"));
    const loaded = parseProfile(text, "old.json");
    const g = generatePolicy([loaded]);
    const q = parsePolicy(g.text, { file: "generated.yaml" }).policy;
    assert.match(g.text, /recorded without the values seen together/);
    // wider than the combinations (AF_INET+SOCK_DGRAM, SOL_SOCKET+1), never a whole level or family
    assert.equal(decide(q, "socket", ["AF_INET", "SOCK_DGRAM", 0]), ALLOW);
    assert.equal(decide(q, "socket", ["AF_INET", "SOCK_DGRAM", "IPPROTO_UDP"]), EPERM);
    assert.equal(decide(q, "socket", ["AF_INET6", "SOCK_DGRAM", 0]), EPERM);
    assert.equal(decide(q, "setsockopt", [3, "SOL_SOCKET", "SO_DEBUG"]), ALLOW);
    for (const o of ["SO_ATTACH_FILTER", "SO_ATTACH_BPF", "SO_BINDTODEVICE", "SO_MARK", 99])
      assert.equal(decide(q, "setsockopt", [3, "SOL_SOCKET", o]), EPERM, String(o));
  });

  it("a profile merged with an older one: its combinations as seen, the older values in any combination of their own", () => {
    const old = syntheticProfile({ setsockopt: { args: { 1: [41], 2: [26] } } }); // IPV6_V6ONLY
    const merged = mergeProfiles([server, old]);
    assert.deepEqual({ ...merged.syscalls.setsockopt.combos }, { "1,2": 1, "6,1": 1 });
    const q = policyOf([merged]);
    assert.equal(
      decide(q, "setsockopt", [3, "IPPROTO_IPV6", "IPV6_V6ONLY"]),
      ALLOW,
      "the older profile's value",
    );
    assert.equal(decide(q, "setsockopt", [3, "SOL_SOCKET", "SO_ATTACH_FILTER"]), EPERM);
    // and generating from both profiles at once does the same
    const both = policyOf([server, old]);
    assert.equal(decide(both, "setsockopt", [3, "IPPROTO_IPV6", "IPV6_V6ONLY"]), ALLOW);
  });

  it("--phase work uses the work phase's combinations", () => {
    const phased = syntheticProfile(
      { listen: { setup: 1, work: 0 }, socket: { setup: 0, work: 1, combos: [[10, 1, 6]] } },
      { boundary: "listen" },
    );
    const g = generatePolicy([phased], { phase: "work" });
    assert.match(g.text, /seen together: \(AF_INET6, SOCK_STREAM, IPPROTO_TCP\)/);
  });

  it("--args pin allows exactly the combinations seen", () => {
    const q = parsePolicy(generatePolicy([server], { args: "pin" }).text, { file: "g.yaml" }).policy;
    assert.equal(decide(q, "socket", ["AF_INET", "SOCK_STREAM", 0]), ALLOW);
    assert.equal(decide(q, "socket", ["AF_UNIX", "SOCK_STREAM", 0]), EPERM);
    assert.equal(decide(q, "setsockopt", [3, "SOL_SOCKET", "SO_REUSEADDR"]), ALLOW);
    assert.equal(decide(q, "setsockopt", [3, "SOL_SOCKET", "SO_KEEPALIVE"]), EPERM);
  });
});
