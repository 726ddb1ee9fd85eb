// --allow-udp: UDP over IPv4 and IPv6 allowed as if seen (a program recorded without a DNS lookup), and the
// note that tells a user whose recording made inet sockets but no UDP one why name lookups will fail.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { decodeActionValue } from "../../src/abi/action.js";
import { emulate } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import { type GenerateOptions, generatePolicy } from "../../src/generate/generate.js";
import { formatAction } from "../../src/policy/actions.js";
import type { Policy } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import type { Profile } from "../../src/record/profile.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { evalValue } from "../../src/syscalls/constants.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { runCli } from "../helpers/cli.js";
import { syntheticProfile } from "../helpers/profiles.js";

const n = (v: string | number) => (typeof v === "string" ? evalValue(v) : BigInt(v));

/** socket's answer from the compiled filter (BPF emulator), checked against the reference evaluator. */
function socketAnswer(p: Policy, args: (string | number)[]): string {
  const data = {
    nr: syscallNumber("x86_64", "socket") as number,
    arch: ARCHES.x86_64.audit,
    instructionPointer: 0n,
    args: [...args.map(n), 0n, 0n, 0n],
  };
  const bpf = formatAction(decodeActionValue(emulate(compile(p).program, data).value));
  assert.equal(bpf, formatAction(referenceDecide(p, data)), `socket(${args}): filter and reference agree`);
  return bpf;
}

const generated = (profiles: Profile[], o: GenerateOptions = {}) => {
  const g = generatePolicy(profiles, o);
  return { ...g, policy: parsePolicy(g.text, { file: "generated.yaml" }).policy };
};
const UDP_NOTE = /no UDP socket in this recording.*--allow-udp/;

// curl recorded against http://127.0.0.1: a TCP socket, no DNS lookup
const tcpOnly = syntheticProfile({ read: {}, socket: { combos: [[2, 0x80801, 6]] } }); // AF_INET, SOCK_STREAM, IPPROTO_TCP
// a syslog client: a unix datagram socket, no inet one
const unixOnly = syntheticProfile({ read: {}, socket: { combos: [[1, 0x80002, 0]] } });
// a resolver: TCP and UDP over IPv4
const withUdp = syntheticProfile({
  read: {},
  socket: {
    combos: [
      [2, 0x80801, 6],
      [2, 0x80802, 0],
    ],
  },
});

describe("--allow-udp", () => {
  const UDP = [
    ["AF_INET", "SOCK_DGRAM", 0],
    ["AF_INET", "SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC", "IPPROTO_UDP"],
    ["AF_INET6", "SOCK_DGRAM", 0],
    ["AF_INET6", "SOCK_DGRAM|SOCK_CLOEXEC", "IPPROTO_UDP"],
  ] as const;

  it("without it, a recording with TCP only gets EPERM for UDP", () => {
    const { policy } = generated([tcpOnly]);
    for (const a of UDP) assert.equal(socketAnswer(policy, [...a]), "errno EPERM", a.join(","));
  });

  for (const args of ["safe", "pin", "strict"] as const)
    it(`with it (--args ${args}), UDP over IPv4 and IPv6 is allowed; ping, SCTP and raw sockets stay EPERM`, () => {
      const { policy, text } = generated([tcpOnly], { allowUdp: true, args });
      for (const a of UDP) assert.equal(socketAnswer(policy, [...a]), "allow", a.join(","));
      assert.equal(socketAnswer(policy, ["AF_INET", "SOCK_STREAM", "IPPROTO_TCP"]), "allow", "seen");
      assert.equal(socketAnswer(policy, ["AF_INET", "SOCK_DGRAM", "IPPROTO_ICMP"]), "errno EPERM", "ping");
      assert.equal(socketAnswer(policy, ["AF_INET6", "SOCK_DGRAM", "IPPROTO_ICMPV6"]), "errno EPERM");
      assert.equal(socketAnswer(policy, ["AF_INET", "SOCK_STREAM", "IPPROTO_SCTP"]), "errno EPERM", "SCTP");
      assert.equal(socketAnswer(policy, ["AF_INET", "SOCK_RAW", "IPPROTO_UDP"]), "errno EPERM", "raw");
      assert.equal(socketAnswer(policy, ["AF_PACKET", "SOCK_DGRAM", 0]), "errno EPERM", "packet");
      assert.match(
        text,
        /--allow-udp: UDP over IPv4 and IPv6 .* Landlock does not confine where datagrams go/,
      );
    });

  it("adds nothing to a call the recording never made (no socket seen: socket stays unallowed)", () => {
    const { policy } = generated([syntheticProfile({ read: {} })], { allowUdp: true });
    assert.notEqual(socketAnswer(policy, ["AF_INET", "SOCK_DGRAM", 0]), "allow");
  });

  it("UDP already seen: the same answers, one rule per combination (no duplicate)", () => {
    const seen = generated([withUdp]);
    const both = generated([withUdp], { allowUdp: true });
    assert.equal(socketAnswer(seen.policy, ["AF_INET", "SOCK_DGRAM", 0]), "allow");
    const udpRules = both.policy.rules.filter(
      (r) =>
        r.names[0] === "socket" &&
        r.conditions.some((c) => c.arg === 0 && c.value === 2n) &&
        r.conditions.some((c) => c.arg === 1 && c.value === 2n) &&
        r.conditions.some((c) => c.arg === 2 && c.value === 0n),
    );
    assert.equal(udpRules.length, 1);
  });
});

describe("the UDP note", () => {
  it("inet sockets but no UDP one: one note naming DNS and --allow-udp", () => {
    const notes = generatePolicy([tcpOnly]).notes.filter((x) => UDP_NOTE.test(x));
    assert.equal(notes.length, 1);
    assert.match(notes[0], /DNS lookup of a name not in \/etc\/hosts/);
    assert.ok(!notes[0].includes("\n"));
  });

  it("not printed with --allow-udp, when UDP was seen, without inet sockets, or with --args off", () => {
    assert.ok(!generatePolicy([tcpOnly], { allowUdp: true }).notes.some((x) => UDP_NOTE.test(x)));
    assert.ok(!generatePolicy([withUdp]).notes.some((x) => UDP_NOTE.test(x)));
    assert.ok(!generatePolicy([unixOnly]).notes.some((x) => UDP_NOTE.test(x)));
    assert.ok(!generatePolicy([syntheticProfile({ read: {} })]).notes.some((x) => UDP_NOTE.test(x)));
    assert.ok(!generatePolicy([tcpOnly], { args: "off" }).notes.some((x) => UDP_NOTE.test(x)));
  });

  it("an IPv6-only recording gets it too", () => {
    const v6 = syntheticProfile({ socket: { combos: [[10, 1, 0]] } });
    assert.ok(generatePolicy([v6]).notes.some((x) => UDP_NOTE.test(x)));
  });
});

describe("generate --allow-udp (CLI)", () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-udp-"));
  const profile = join(dir, "tcp.json");
  writeFileSync(profile, JSON.stringify(tcpOnly));

  it("the flag allows UDP in the written policy; without it the note is on stderr", async () => {
    const out = join(dir, "udp.yaml");
    const r = await runCli("generate", "--static", "off", "--no-landlock", "--allow-udp", profile, "-o", out);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!UDP_NOTE.test(r.stderr), r.stderr);
    const p = parsePolicy(readFileSync(out, "utf8"), { file: out }).policy;
    assert.equal(socketAnswer(p, ["AF_INET", "SOCK_DGRAM", 0]), "allow");

    const plain = join(dir, "plain.yaml");
    const q = await runCli("generate", "--static", "off", "--no-landlock", profile, "-o", plain);
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stderr, /sysfence generate: note: the program made IPv4\/IPv6 sockets but no UDP socket/);
    const pp = parsePolicy(readFileSync(plain, "utf8"), { file: plain }).policy;
    assert.equal(socketAnswer(pp, ["AF_INET", "SOCK_DGRAM", 0]), "errno EPERM");
  });

  it("--help lists it", async () => {
    const r = await runCli("generate", "--help");
    assert.match(r.stdout + r.stderr, /--allow-udp/);
  });
});
