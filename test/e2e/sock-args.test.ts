// socket and setsockopt under a generated policy, on the real kernel: a program recorded setting SO_REUSEADDR
// and TCP_NODELAY may set ordinary options (SO_KEEPALIVE) but not attach a filter, bind to a device or mark
// its packets; a program recorded with a unix datagram socket and a TCP socket may not open a UDP socket
// (their values were seen apart, never together), nor SCTP; one recorded with UDP may, and so may the first
// when generated with --allow-udp.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Profile } from "../../src/record/profile.js";
import { CLI_PATH } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";
import { requireOrSkip } from "../helpers/require.js";

const skip =
  process.arch !== "x64" ? "needs x86_64" : requireOrSkip(spawnSync("strace", ["-V"]).status === 0, "strace");

describe("socket arguments seen together, enforced by the kernel", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-sock-args-"));
  const bin = join(dir, "sock-args");
  execFileSync("gcc", ["-O2", "-o", bin, `${REPO}test/fixtures/sock-args.c`]);
  const sysfence = (...args: string[]) =>
    spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: "utf8", timeout: 60000 });
  /** Records `bin mode`, generates with the defaults; the policy file. */
  const policyFor = (mode: string) => {
    const profile = join(dir, `${mode}.json`);
    const policy = join(dir, `${mode}.yaml`);
    const rec = sysfence("record", "-q", "--engine", "strace", "-o", profile, "--", bin, mode);
    assert.equal(rec.status, 0, rec.stderr);
    const gen = sysfence("generate", profile, "-o", policy);
    assert.equal(gen.status, 0, gen.stderr);
    return { policy, profile };
  };
  const attempt = (policy: string, what: string) => {
    const r = sysfence("run", "--policy", policy, "--", bin, "try", what);
    assert.equal(r.status, 0, `${what}: ${r.stdout}${r.stderr}`);
    return r.stdout.trim();
  };
  const tcp = policyFor("work");
  const udp = policyFor("work-udp");

  it("the recording keeps the values seen together", () => {
    const p = JSON.parse(readFileSync(tcp.profile, "utf8")) as Profile;
    assert.deepEqual(Object.keys(p.syscalls.setsockopt.combos ?? {}).sort(), ["1,2", "6,1"]);
    assert.deepEqual(Object.keys(p.syscalls.socket.combos ?? {}).sort(), ["1,524290,0", "2,524289,0"]);
  });

  it("the program keeps working, and sets an ordinary option it was never recorded setting", () => {
    const r = sysfence("run", "--policy", tcp.policy, "--", bin, "work");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "work: ok\n");
    assert.equal(attempt(tcp.policy, "keepalive"), "keepalive: ok");
    assert.equal(attempt(tcp.policy, "tcp6"), "tcp6: ok", "TCP over IPv6 is ordinary");
  });

  it("SOL_SOCKET seen with SO_REUSEADDR does not allow SO_ATTACH_FILTER, SO_BINDTODEVICE or SO_MARK", () => {
    assert.equal(attempt(tcp.policy, "filter"), "filter: Operation not permitted");
    assert.equal(attempt(tcp.policy, "bindtodev"), "bindtodev: Operation not permitted");
    assert.equal(attempt(tcp.policy, "mark"), "mark: Operation not permitted");
  });

  it("unix datagrams and TCP seen apart do not allow UDP; SCTP never; UDP seen is allowed", () => {
    assert.equal(attempt(tcp.policy, "udp"), "udp: Operation not permitted");
    assert.equal(attempt(tcp.policy, "sctp"), "sctp: Operation not permitted");
    assert.equal(attempt(udp.policy, "udp"), "udp: ok");
    assert.equal(attempt(udp.policy, "sctp"), "sctp: Operation not permitted");
  });

  it("recorded with TCP only: generate notes that UDP is refused; with --allow-udp the UDP socket opens", () => {
    const plain = sysfence("generate", tcp.profile, "-o", join(dir, "plain.yaml"));
    assert.match(plain.stderr, /note: the program made IPv4\/IPv6 sockets but no UDP socket.*--allow-udp/);
    const allowUdp = join(dir, "allow-udp.yaml");
    const gen = sysfence("generate", "--allow-udp", tcp.profile, "-o", allowUdp);
    assert.equal(gen.status, 0, gen.stderr);
    assert.doesNotMatch(gen.stderr, /no UDP socket/);
    assert.equal(attempt(allowUdp, "udp"), "udp: ok");
    assert.equal(attempt(allowUdp, "sctp"), "sctp: Operation not permitted");
    assert.equal(attempt(allowUdp, "filter"), "filter: Operation not permitted");
  });
});
