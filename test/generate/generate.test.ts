import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generatePolicy } from "../../src/generate/generate.js";
import { nameValue, parseArgValue } from "../../src/generate/symbols.js";
import type { Action, Policy } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { referenceDecide } from "../../src/policy/reference.js";
import { parseProfile } from "../../src/record/read-profile.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { evalValue } from "../../src/syscalls/constants.js";
import { syscallNumber } from "../../src/syscalls/table.js";
import { syntheticProfile } from "../helpers/profiles.js";

const decide = (p: Policy, name: string, args: (string | number | bigint)[] = []): Action =>
  referenceDecide(p, {
    arch: ARCHES.x86_64.audit,
    nr: syscallNumber("x86_64", name)!,
    args: [...args.map((a) => evalValue(a)), 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6),
  });
const allows = (p: Policy, name: string, args: (string | number | bigint)[] = []) =>
  decide(p, name, args).kind === "allow";

/** A server's recording: numeric values as sysfence record writes them (strace -X raw). */
const server = syntheticProfile(
  {
    read: {},
    write: {},
    openat: { args: { 2: [0o2000000] } },
    accept4: { args: { 3: [0x80800] } },
    epoll_wait: {},
    ioctl: { args: { 1: [0x5421, 0x5401] } }, // FIONBIO, TCGETS
    socket: { args: { 0: [2, 10], 1: [0x80801], 2: [0] } }, // AF_INET/AF_INET6, SOCK_STREAM|NONBLOCK|CLOEXEC
    clone3: { args: { 0: [0x3d0f00] } },
    mmap: { args: { 2: [3, 1], 3: [0x22] } },
    mprotect: { args: { 2: [1, 0] } },
    fcntl: { args: { 1: [3, 4] } },
    prctl: { args: { 0: [15] } },
    setsockopt: { args: { 1: [1, 6], 2: [2, 1] } },
    io_uring_setup: {},
  },
  { launch: true },
);

describe("generate: a policy from a profile", () => {
  const g = generatePolicy([server], { sources: ["server.json"] });
  const back = parsePolicy(g.text, { file: "generated.yaml" }).policy;

  it("allows every recorded call with every recorded argument value, in the model and in its YAML", () => {
    for (const p of [g.policy, back]) {
      for (const [name, c] of Object.entries(server.syscalls)) {
        if (name === "clone3" || name === "io_uring_setup") continue;
        const vals = Object.entries(c.args ?? {});
        if (vals.length === 0) assert.ok(allows(p, name), name);
        for (const [i, v] of vals)
          for (const text of Object.keys(v)) {
            const args: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
            // the other pinned arguments take a recorded value too
            for (const [j, w] of vals) args[Number(j)] = BigInt(Object.keys(w)[0]);
            args[Number(i)] = BigInt(text);
            assert.ok(allows(p, name, args), `${name} arg${i}=${text}`);
          }
      }
    }
  });

  it("reads back to the same decisions (text == model) over recorded and hostile calls", () => {
    const probes: [string, (string | number)[]][] = [
      ["ioctl", [0, "FIONBIO"]],
      ["ioctl", [0, "TIOCSTI"]],
      ["socket", ["AF_PACKET", "SOCK_RAW"]],
      ["socket", ["AF_INET", "SOCK_RAW"]],
      ["socket", ["AF_INET", "SOCK_DGRAM"]],
      ["clone", ["CLONE_NEWUSER|SIGCHLD"]],
      [
        "clone",
        [
          "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID",
        ],
      ],
      ["mprotect", [0, 0, "PROT_READ|PROT_EXEC"]],
      ["mmap", [0, 0, "PROT_READ|PROT_WRITE|PROT_EXEC"]],
      ["fcntl", [0, "F_SETFD"]],
      ["prctl", ["PR_SET_DUMPABLE"]],
      ["setsockopt", [3, "SOL_IP"]],
    ];
    for (const [name, args] of probes)
      assert.deepEqual(decide(back, name, args), decide(g.policy, name, args), `${name}(${args})`);
  });

  it("safe (default): ordinary values and the seen ones are allowed; any other value is EPERM, logged, never a kill", () => {
    const eperm = { kind: "errno", data: 1 };
    for (const p of [g.policy, back]) {
      // ordinary, although never recorded
      assert.ok(allows(p, "ioctl", [0, "TIOCGWINSZ"]), "terminal size (git diff --stat)");
      assert.ok(allows(p, "fcntl", [0, "F_GETFL"]), "status flags (HAProxy's reload)");
      assert.ok(allows(p, "fcntl", [0, "F_OFD_SETLK"]), "locks (sqlite3 WAL)");
      assert.ok(allows(p, "socket", ["AF_UNIX", "SOCK_STREAM"]));
      assert.ok(
        allows(p, "socket", ["AF_INET6", "SOCK_STREAM|SOCK_CLOEXEC", "IPPROTO_TCP"]),
        "TCP over IPv6",
      );
      assert.deepEqual(decide(p, "socket", ["AF_INET6", "SOCK_DGRAM|SOCK_CLOEXEC"]), eperm, "UDP never seen");
      assert.deepEqual(decide(p, "socket", ["AF_INET", "SOCK_DGRAM"]), eperm, "UDP never seen");
      assert.deepEqual(decide(p, "socket", ["AF_INET", "SOCK_STREAM", "IPPROTO_SCTP"]), eperm, "SCTP");
      assert.deepEqual(decide(p, "socket", ["AF_INET6", "SOCK_STREAM", 262]), eperm, "IPPROTO_MPTCP");
      assert.ok(allows(p, "socket", ["AF_NETLINK", "SOCK_RAW", "NETLINK_ROUTE"]));
      assert.ok(allows(p, "setsockopt", [3, "IPPROTO_IPV6", "IPV6_V6ONLY"]));
      assert.ok(allows(p, "prctl", ["PR_SET_PDEATHSIG"]));
      // neither ordinary nor seen: an error the kernel logs (flags: [log]), not a kill
      assert.deepEqual(decide(p, "ioctl", [0, "TIOCSTI"]), eperm);
      assert.deepEqual(decide(p, "ioctl", [0, "TIOCLINUX"]), eperm);
      assert.deepEqual(decide(p, "ioctl", [0, 0x54321]), eperm, "a value no list names");
      // the kernel compares ioctl's unsigned int request on 32 bits: high bits do not smuggle TIOCSTI past
      assert.deepEqual(decide(p, "ioctl", [0, evalValue("TIOCSTI") | (1n << 32n)]), eperm, "TIOCSTI | 1<<32");
      assert.ok(allows(p, "ioctl", [0, evalValue("TIOCGWINSZ") | (1n << 32n)]), "the kernel sees TIOCGWINSZ");
      // queries that only read: if_nametoindex, interface lists and flags, termios2, block size, reflinks
      for (const r of ["SIOCGIFINDEX", "SIOCGIFCONF", "SIOCGIFFLAGS", "SIOCGIFMTU", "SIOCGIFADDR"])
        assert.ok(allows(p, "ioctl", [0, r]), r);
      for (const r of ["SIOCGIFNAME", "SIOCGIFHWADDR", "TCGETS2", "FIGETBSZ", "FICLONE", "FICLONERANGE"])
        assert.ok(allows(p, "ioctl", [0, r]), r);
      // the other interface queries (ifconfig's netmask, broadcast, txqueuelen …) and a socket's own
      // queries (receive timestamp, unsent bytes) read as those do: a program reaching them is not refused
      for (const r of [
        "SIOCGIFNETMASK",
        "SIOCGIFBRDADDR",
        "SIOCGIFDSTADDR",
        "SIOCGIFMETRIC",
        "SIOCGIFTXQLEN",
      ])
        assert.ok(allows(p, "ioctl", [0, r]), r);
      for (const r of ["SIOCGIFMAP", "SIOCGSTAMP", "SIOCGSTAMPNS", "SIOCGSTAMP_NEW", "SIOCOUTQNSD"])
        assert.ok(allows(p, "ioctl", [0, r]), r);
      // the terminal core's own queries (line discipline, exclusive mode, locked modes, device number,
      // packet mode, pty lock) read as TCGETS does; the driver queries (TIOCMGET, TIOCGSERIAL) stay refused
      for (const r of [
        "TIOCGETD",
        "TIOCGEXCL",
        "TIOCGLCKTRMIOS",
        "TIOCGSOFTCAR",
        "TIOCGDEV",
        "TIOCGPKT",
        "TIOCGPTLCK",
      ])
        assert.ok(allows(p, "ioctl", [0, r]), r);
      for (const r of ["TIOCMGET", "TIOCGSERIAL"]) assert.deepEqual(decide(p, "ioctl", [0, r]), eperm, r);
      for (const r of ["SIOCSIFFLAGS", "SIOCSIFADDR", "SIOCSIFMTU", "SIOCADDRT"])
        assert.deepEqual(decide(p, "ioctl", [0, r]), eperm, `${r} sets`);
      assert.deepEqual(decide(p, "socket", ["AF_PACKET", "SOCK_RAW"]), eperm);
      assert.deepEqual(decide(p, "socket", ["AF_INET", "SOCK_RAW"]), eperm);
      assert.deepEqual(decide(p, "socket", ["AF_ALG", "SOCK_SEQPACKET"]), eperm);
      assert.deepEqual(decide(p, "socket", ["AF_VSOCK", "SOCK_STREAM"]), eperm);
      assert.deepEqual(decide(p, "socket", ["AF_NETLINK", "SOCK_RAW", "NETLINK_AUDIT"]), eperm);
      assert.deepEqual(decide(p, "clone", ["CLONE_NEWUSER|SIGCHLD"]), eperm);
      assert.deepEqual(decide(p, "mprotect", [0, 0, "PROT_READ|PROT_EXEC"]), eperm, "a JIT needs it seen");
      assert.deepEqual(decide(p, "fcntl", [0, "F_SETOWN"]), eperm);
      assert.deepEqual(decide(p, "fcntl", [0, "F_SETSIG"]), eperm);
      assert.deepEqual(decide(p, "prctl", ["PR_SET_DUMPABLE"]), eperm);
      assert.deepEqual(decide(p, "prctl", ["PR_SET_PTRACER"]), eperm);
      assert.deepEqual(decide(p, "prctl", ["PR_CAP_AMBIENT"]), eperm);
      assert.ok(allows(p, "setsockopt", [3, "SOL_IP", "IP_TOS"]), "an ordinary IP option, level never seen");
      assert.deepEqual(
        decide(p, "setsockopt", [3, "SOL_IP", 64]),
        eperm,
        "IPT_SO_SET_REPLACE (netfilter tables)",
      );
      assert.deepEqual(decide(p, "setsockopt", [3, "IPPROTO_IPV6", 64]), eperm, "IP6T_SO_SET_REPLACE");
      // SOL_SOCKET was seen (with options 1 and 2): its other options are not allowed with it
      assert.ok(allows(p, "setsockopt", [3, "SOL_SOCKET", "SO_KEEPALIVE"]), "ordinary");
      for (const o of ["SO_ATTACH_FILTER", "SO_ATTACH_BPF", "SO_BINDTODEVICE", "SO_MARK", 99])
        assert.deepEqual(decide(p, "setsockopt", [3, "SOL_SOCKET", o]), eperm, String(o));
    }
    assert.deepEqual(back.flags, ["log"], "EPERM answers reach the kernel log");
    assert.ok(back.rules.some((r) => r.names[0] === "ioctl" && r.tier === "argument-fallback"));
    assert.match(g.text, /ioctl: any other argument value — EPERM, logged/);
  });

  it("--args pin: only the values seen (today's lists), the rest EPERM", () => {
    const pin = generatePolicy([server], { args: "pin" });
    const back = parsePolicy(pin.text, { file: "generated.yaml" }).policy;
    assert.ok(allows(back, "ioctl", [0, "FIONBIO"]));
    assert.deepEqual(decide(back, "ioctl", [0, "TIOCGWINSZ"]), { kind: "errno", data: 1 });
    assert.ok(!allows(back, "ioctl", [0, "TIOCSTI"]), "TIOCSTI was never recorded");
    assert.ok(!allows(back, "ioctl", [0, "TIOCSTI"]), "TIOCSTI was never recorded");
    assert.ok(allows(back, "socket", ["AF_INET6", "SOCK_STREAM"]));
    assert.ok(!allows(back, "socket", ["AF_PACKET", "SOCK_RAW"]));
    assert.ok(!allows(back, "socket", ["AF_INET", "SOCK_RAW"]));
    assert.ok(!allows(back, "socket", ["AF_UNIX", "SOCK_STREAM"]));
    assert.ok(!allows(back, "clone", ["CLONE_NEWUSER|SIGCHLD"]));
    assert.ok(!allows(back, "clone", ["CLONE_NEWNET"]));
    assert.ok(!allows(back, "mprotect", [0, 0, "PROT_READ|PROT_EXEC"]));
    assert.ok(!allows(back, "fcntl", [0, "F_SETOWN"]));
    assert.ok(!allows(back, "prctl", ["PR_SET_SECCOMP"]));
    assert.ok(!allows(back, "setsockopt", [3, "SOL_IP"]));
    // mmap: PROT_EXEC was never recorded
    assert.ok(!allows(back, "mmap", [0, 0, "PROT_READ|PROT_EXEC"]));
    assert.deepEqual(pin.stats.argRestricted.sort(), [
      "clone",
      "fcntl",
      "ioctl",
      "mmap",
      "mprotect",
      "prctl",
      "setsockopt",
      "socket",
    ]);
  });

  it("clone3 gets ENOSYS and clone allows exactly what libc's fallback needs", () => {
    assert.deepEqual(decide(back, "clone3"), { kind: "errno", data: 38 });
    assert.ok(allows(back, "clone", [0x3d0f00]), "the thread-creation flags recorded through clone3");
    assert.match(g.text, /clone: create a child process.*libc's fallback for the 1 clone3 calls recorded/);
  });

  it("io_uring is answered ENOSYS, never silently allowed, with a warning when it was recorded", () => {
    for (const n of ["io_uring_setup", "io_uring_enter", "io_uring_register"])
      assert.deepEqual(decide(back, n), { kind: "errno", data: 38 });
    assert.ok(g.warnings.some((w) => /io_uring_setup was recorded/.test(w)));
  });

  it("denies what a server never did: execve (the launch excluded), ptrace, bpf, raw sockets", () => {
    for (const n of ["execve", "execveat", "ptrace", "bpf", "unshare", "mount", "process_vm_writev"])
      assert.deepEqual(decide(back, n), { kind: "kill-process" }, n);
    assert.ok(g.notes.some((n) => /launch's execve/.test(n)));
  });

  it("adds the always-needed set with the reason, and comments every rule", () => {
    for (const n of [
      "rt_sigreturn",
      "restart_syscall",
      "exit",
      "exit_group",
      "clock_gettime",
      "gettimeofday",
      "time",
      "getcpu",
    ])
      assert.ok(allows(back, n), n);
    assert.match(g.text, /rt_sigreturn: return from signal handler.*always needed, not recorded/);
    assert.match(
      g.text,
      /ioctl: control device \(@system-service\)? ?— seen 1× in demo main; ordinary values: terminal modes.*; arg1 seen: TCGETS, FIONBIO/,
    );
    assert.match(g.text, /args: \["arg1 == FIONBIO"\]/);
    assert.match(g.text, /args: \["arg0 == AF_INET", "arg1 & 0xf == SOCK_STREAM", "arg2 == IPPROTO_TCP"\]/);
    for (const r of back.rules)
      assert.ok(r.comment && r.comment.length > 10, `rule for ${r.names} has a comment`);
    assert.match(g.text, /^# \d+ of \d+ x86_64 syscalls allowed/m);
  });

  it("--args off allows calls whatever their arguments; strict pins more (futex ops, socket protocol)", () => {
    const off = generatePolicy([server], { args: "off" });
    assert.deepEqual(off.stats.argRestricted, []);
    assert.ok(allows(off.policy, "ioctl", [0, "TIOCSTI"]));
    const strict = generatePolicy([server], { args: "strict" });
    assert.ok(strict.stats.argRestricted.includes("setsockopt"));
    assert.ok(!allows(strict.policy, "setsockopt", [3, "SOL_SOCKET", 99]), "optname pinned");
    assert.ok(!allows(strict.policy, "socket", ["AF_INET", "SOCK_STREAM", 6]), "protocol pinned");
    assert.ok(!allows(strict.policy, "clone", ["CLONE_VM|SIGCHLD"]), "clone flags pinned exactly");
  });

  it("--errno answers a probe instead of allowing it; --default-action is the fallback", () => {
    const e = generatePolicy([server], { errno: { openat: 13 }, defaultAction: { kind: "errno", data: 1 } });
    assert.deepEqual(decide(e.policy, "openat"), { kind: "errno", data: 13 });
    assert.deepEqual(decide(e.policy, "ptrace"), { kind: "errno", data: 1 });
    assert.throws(() => generatePolicy([server], { errno: { nosuchcall: 1 } }), /no syscall 'nosuchcall'/);
  });

  it("phases: a launch-ready policy by default even when recorded with --after; --phase work writes phase: work", () => {
    const phased = syntheticProfile(
      {
        read: { setup: 3, work: 5 },
        bind: { setup: 1, work: 0 },
        listen: { setup: 1, work: 0 },
        accept4: { setup: 0, work: 9 },
      },
      { boundary: "listen" },
    );
    const work = generatePolicy([phased], { phase: "work" });
    assert.equal(work.phase, "work");
    assert.equal(work.policy.phase, "work");
    assert.equal(parsePolicy(work.text, { file: "w.yaml" }).policy.phase, "work", "written and read back");
    assert.ok(!allows(work.policy, "bind"), "bind happened only in set-up");
    assert.ok(allows(work.policy, "accept4"));
    assert.ok(work.notes.some((n) => /work-phase policy/.test(n)));
    const all = generatePolicy([phased]);
    assert.equal(all.phase, "all");
    assert.equal(all.policy.phase, undefined);
    assert.ok(allows(all.policy, "bind"));
    assert.ok(all.notes.some((n) => /covers start-up too/.test(n)));
    assert.throws(
      () => generatePolicy([syntheticProfile({ read: {} })], { phase: "work" }),
      /--phase work needs profiles recorded with --after/,
    );
  });

  it("thread roles and executables select what the policy is for", () => {
    const p = syntheticProfile({ accept4: {}, epoll_wait: {} }, { worker: { read: {}, write: {} } });
    const main = generatePolicy([p], { threadRole: "main" });
    assert.ok(allows(main.policy, "accept4") && !allows(main.policy, "read"));
    const workers = generatePolicy([p], { threadRole: "workers" });
    assert.ok(allows(workers.policy, "read") && !allows(workers.policy, "accept4"));
    assert.throws(
      () => generatePolicy([p], { exe: ["nginx"] }),
      /no recorded process runs nginx; the profiles have: \/usr\/bin\/demo/,
    );
    assert.ok(allows(generatePolicy([p], { exe: ["demo"] }).policy, "accept4"));
  });

  it("symbolic values from imported logs are read; inexact ones leave the call unrestricted with a warning", () => {
    const p = syntheticProfile({
      ioctl: { args: { 1: ["FIONBIO"] } },
      socket: { args: { 0: ["AF_UNIX"], 1: ["SOCK_STREAM|SOCK_CLOEXEC"] } },
      fcntl: { args: { 1: ["_IOC(0, 0x1, 0x2, 0)"] } },
    });
    const g2 = generatePolicy([p], { args: "pin" });
    assert.ok(allows(g2.policy, "ioctl", [0, "FIONBIO"]) && !allows(g2.policy, "ioctl", [0, "TCGETS"]));
    assert.ok(allows(g2.policy, "socket", ["AF_UNIX", "SOCK_STREAM"]));
    assert.ok(allows(g2.policy, "fcntl", [0, 1234]));
    assert.ok(g2.warnings.some((w) => /fcntl: argument 1 value '_IOC/.test(w)));
  });
});

describe("argument values: names a reader knows, parsed back exactly", () => {
  it("names values and parses them back", () => {
    const cases: [string, number, bigint, string][] = [
      ["ioctl", 1, 0x5421n, "FIONBIO"],
      ["socket", 0, 1n, "AF_UNIX"],
      ["socket", 1, 0x80801n, "SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC"],
      ["clone", 0, 0x1200011n, "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"],
      ["mmap", 2, 3n, "PROT_READ|PROT_WRITE"],
      ["fcntl", 1, 3n, "F_GETFL"],
      ["setsockopt", 1, 6n, "IPPROTO_TCP"],
      ["personality", 0, 0xffffffffn, "0xffffffff"],
      ["read", 0, 7n, "7"],
    ];
    for (const [s, a, v, text] of cases) {
      assert.equal(nameValue(s, a, v), text);
      assert.equal(evalValue(text), v);
    }
    assert.equal(parseArgValue("0x5421 /* FIONBIO */"), 0x5421n);
    assert.equal(parseArgValue("flags=CLONE_VM|SIGCHLD"), 0x111n);
    assert.equal(parseArgValue("0x7ffd1234"), 0x7ffd1234n);
    assert.equal(parseArgValue("{sa_family=AF_INET}"), undefined);
  });
  it("on another architecture, names mean that architecture's values (ppc64le's FIONBIO, TCGETS)", () => {
    assert.equal(nameValue("ioctl", 1, 0x8004667en, undefined, "ppc64le"), "FIONBIO");
    assert.equal(nameValue("ioctl", 1, 0x403c7413n, undefined, "ppc64le"), "TCGETS");
    assert.notEqual(nameValue("ioctl", 1, 0x5421n, undefined, "ppc64le"), "FIONBIO", "x86_64's number");
    assert.equal(parseArgValue("FIONBIO", "ppc64le"), 0x8004667en, "an imported ppc64le log's symbol");
    assert.equal(parseArgValue("FIONBIO"), 0x5421n);
    // generate from a ppc64le profile (numbers as sysfence records them) and decide on ppc64le
    const profile = {
      ...syntheticProfile({ ioctl: { work: 3, args: { 1: [0x8004667e, 0x403c7413] } }, read: { work: 1 } }),
      arch: "ppc64le",
    };
    const { policy, text } = generatePolicy([profile], { args: "pin" });
    const rules = policy.rules.filter((r) => r.names.includes("ioctl"));
    assert.deepEqual(
      rules.flatMap((r) => r.conditions.map((c) => c.text)),
      ["arg1 == TCGETS", "arg1 == FIONBIO"],
    );
    // the policy as written and read back decides with ppc64le's values
    const back = parsePolicy(text, { file: "p.yaml" }).policy;
    const ioctl = (request: bigint) =>
      referenceDecide(back, {
        arch: ARCHES.ppc64le.audit,
        nr: syscallNumber("ppc64le", "ioctl") as number,
        args: [3n, request, 0n, 0n, 0n, 0n],
      }).kind;
    assert.equal(ioctl(0x8004667en), "allow");
    assert.equal(ioctl(0x403c7413n), "allow");
    assert.notEqual(ioctl(0x5421n), "allow");
  });
});

describe("profiles: bad input gets one clear error", () => {
  it("names the file, line and what to do", () => {
    assert.throws(
      () => parseProfile('{\n  "format": "sysfence-profile",\n  oops\n}', "p.json"),
      /p\.json:3:\d+: not a sysfence profile: invalid JSON/,
    );
    assert.throws(
      () => parseProfile('{"defaultAction": "SCMP_ACT_ERRNO"}', "docker.json"),
      /docker\.json: not a sysfence profile \("format" is undefined.*sysfence record -o FILE/,
    );
    assert.throws(
      () => parseProfile('{"format":"sysfence-profile","version":9}', "new.json"),
      /version 9; this sysfence reads version 1/,
    );
  });
});

describe("generate: calls recorded without argument values (ftrace profiles, imported logs)", () => {
  it("still forbids namespaces to clone, and restricts nothing it has no values for", () => {
    const p = syntheticProfile({ clone3: {}, mprotect: {}, ioctl: {} });
    const g = generatePolicy([p]);
    const back = parsePolicy(g.text).policy;
    assert.ok(allows(back, "clone", ["CLONE_VM|CLONE_THREAD"]));
    assert.ok(!allows(back, "clone", ["CLONE_NEWUSER"]));
    assert.ok(
      allows(back, "mprotect", [0, 0, "PROT_READ|PROT_EXEC"]),
      "PROT_EXEC may have been used: unknown",
    );
    assert.ok(allows(back, "ioctl", [0, "TCGETS"]), "nothing to pin: allowed whatever the request");
  });
});

describe("generate: the header comment", () => {
  it("keeps a recorded command with a line break in an argument on one comment line (python3 -c 'a\nb')", () => {
    // the text once had the argument's second line outside the comment: 6,580 YAML errors, no policy
    const p = syntheticProfile({ read: {}, write: {} });
    p.command = ["python3", "-c", "import os\nprint(1)\r\x1b[2J"];
    const g = generatePolicy([p]);
    const back = parsePolicy(g.text, { file: "generated.yaml" }).policy;
    assert.deepEqual(
      back.rules.map((r) => r.names),
      g.policy.rules.map((r) => r.names),
    );
    assert.match(g.text, /^# command: python3 -c import os\\x0aprint\(1\)\\x0d\\x1b\[2J$/m);
  });
});
