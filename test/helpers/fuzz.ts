import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { compile } from "../../src/compile/compile.js";
import { SysfenceError } from "../../src/errors.js";
import { exportBpf } from "../../src/export/bpf.js";
import { exportK8s } from "../../src/export/k8s.js";
import { exportOci } from "../../src/export/oci.js";
import { exportSystemd } from "../../src/export/systemd.js";
import { generatePolicy } from "../../src/generate/generate.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { parseProfile } from "../../src/record/read-profile.js";
import { REPO } from "./paths.js";
import { syntheticProfile } from "./profiles.js";

// Mutation fuzzing of every policy reader and the profile reader. An outcome is "accepted", "clear" (a
// SysfenceError with a code whose message names the input), "crash" (anything else) or "hang".

export type Outcome = "accepted" | "clear" | "crash" | "hang";
export interface FuzzTally {
  reader: string;
  runs: number;
  accepted: number;
  clear: number;
  crash: number;
  hang: number;
  /** Up to five crashing inputs with their error, for the report. */
  examples: { input: string; error: string }[];
  /** Accepted OCI inputs (text), for the libseccomp comparison. */
  acceptedOci: string[];
}

/** Inputs a run counts as hung (the limit). */
export const HANG_MS = 10_000;

/** One reader under fuzz: its seed inputs and how an input is read (throws on refusal). */
export interface FuzzTarget {
  name: string;
  seeds: Uint8Array[];
  file: string;
  /** JSON seeds: half the mutations are structural (a value replaced, a key added or removed). */
  json?: boolean;
  read(input: Uint8Array): void;
}

/** The readers and their seeds: bundled examples and exports of them, so every format starts valid. */
export function fuzzTargets(): FuzzTarget[] {
  const text = (p: string) => readFileSync(`${REPO}${p}`);
  const server = parsePolicy(text("examples/server-policy.yaml"), { file: "server-policy.yaml" }).policy;
  const docker = parsePolicy(text("examples/docker-default.json"), {
    file: "docker-default.json",
    arch: "x86_64",
  }).policy;
  const enc = (s: string) => Buffer.from(s, "utf8");
  const readPolicy = (file: string) => (input: Uint8Array) => {
    const p = parsePolicy(input, { file, arch: "x86_64" });
    compile(p.policy, { stats: false });
  };
  const profile = syntheticProfile({
    read: { work: 10 },
    write: { work: 4 },
    ioctl: { work: 3, args: { 1: ["TCGETS", "FIONBIO"] } },
    clone: { work: 1, args: { 0: ["CLONE_VM|CLONE_FS|CLONE_THREAD"] } },
  });
  return [
    {
      name: "sysfence-yaml",
      file: "p.yaml",
      seeds: [text("examples/server-policy.yaml"), text("examples/lockdown-server/policy.yaml")],
      read: readPolicy("p.yaml"),
    },
    {
      name: "sysfence-json",
      file: "p.json",
      seeds: [
        enc(
          JSON.stringify({
            defaultAction: "kill-process",
            syscalls: [
              { names: ["read", "write"], action: "allow" },
              { name: "ioctl", action: "allow", args: ["arg1 == FIONBIO", { arg: 0, op: "<=", value: 2 }] },
            ],
          }),
        ),
      ],
      read: readPolicy("p.json"),
    },
    { name: "oci", file: "p.json", seeds: [enc(exportOci(server).text)], read: readPolicy("p.json") },
    {
      name: "moby",
      file: "p.json",
      seeds: [text("examples/docker-default.json")],
      read: readPolicy("p.json"),
    },
    {
      name: "spo",
      file: "p.yaml",
      seeds: [enc(exportK8s(server).text.split("---")[0])],
      read: readPolicy("p.yaml"),
    },
    {
      // the same resource as JSON (kubectl get -o json), so the structural mutations reach its values
      name: "spo-json",
      file: "p.json",
      seeds: [enc(JSON.stringify(parseYaml(exportK8s(server).text.split("---")[0])))],
      json: true,
      read: readPolicy("p.json"),
    },
    {
      // a runtime bundle's config.json: the profile at linux.seccomp (as a Kubelet/CRI runtime writes it)
      name: "oci-config",
      file: "config.json",
      seeds: [
        enc(
          JSON.stringify({
            ociVersion: "1.2.0",
            process: { args: ["/bin/true"] },
            linux: { seccomp: JSON.parse(exportOci(server).text) },
          }),
        ),
      ],
      json: true,
      read: readPolicy("config.json"),
    },
    { name: "systemd", file: "p.conf", seeds: [enc(exportSystemd(server).text)], read: readPolicy("p.conf") },
    {
      name: "bpf",
      file: "p.bpf",
      seeds: [
        exportBpf(docker).bytes,
        exportBpf(
          parsePolicy("defaultAction: errno EPERM\nsyscalls:\n  - names: ['@basic-io']\n    action: allow\n")
            .policy,
        ).bytes,
      ],
      read: readPolicy("p.bpf"),
    },
    {
      name: "profile",
      file: "p.json",
      seeds: [
        enc(
          JSON.stringify({ ...profile, pathAccess: { "/etc/demo.conf": "rw", "inet:127.0.0.1:8080": "r" } }),
        ),
        // with an entry that folds many images of one program (images, endings, tid 0 for other threads)
        enc(
          JSON.stringify({
            ...profile,
            processes: [
              ...profile.processes,
              {
                pid: 300,
                exe: "/bin/true",
                parent: 100,
                images: 40,
                endings: { 0: 39, SIGKILL: 1 },
                threads: [
                  { tid: 300, syscalls: { exit_group: { setup: 40, work: 0, errors: 0 } } },
                  { tid: 0, syscalls: { futex: { setup: 3, work: 0, errors: 0, args: { 1: { 129: 3 } } } } },
                ],
              },
            ],
          }),
        ),
      ],
      read: (input) => {
        const profile = parseProfile(new TextDecoder().decode(input), "p.json");
        try {
          generatePolicy([profile]);
        } catch (e) {
          // generate's own refusals (an empty selection) are about the profile just read
          if (e instanceof SysfenceError)
            throw new SysfenceError(e.code, `p.json: ${e.message}`, { cause: e });
          throw e;
        }
      },
    },
  ];
}

const TOKENS = [
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  '"',
  "'",
  "*a",
  "&a ",
  "- ",
  "\n",
  "  ",
  "\t",
  "-1",
  "1e308",
  "NaN",
  ".nan",
  "null",
  "true",
  "\u0000",
  "\uFFFF",
  "__proto__",
  "constructor",
  "SCMP_ACT_",
  "SCMP_ACT_ALLOW",
  "SCMP_CMP_MASKED_EQ",
  "SystemCallFilter=",
  "~",
  "@",
  "@default",
  "18446744073709551616",
  "18446744073709551516",
  "0x",
  "65536",
  "4096",
  "arg9 == 1",
  "<<",
  "!!binary ",
  "%YAML 1.1\n---\n",
  "\\u0000",
  "errno",
  "kill-process",
  "allow",
  "names",
  "args",
  "index",
  "value",
  "valueTwo",
  "archMap",
  "includes",
  "caps",
  "minKernel",
  "kind: SeccompProfile\n",
  "[Service]\n",
  "\r\n",
  "#",
  "&&",
  "|",
];

/** A deterministic generator (xorshift32). */
export function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return (n: number) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

/** One mutation of an input: bytes, tokens, slices, or (for JSON) a replaced value. */
export function mutate(input: Uint8Array, rand: (n: number) => number, json = false): Uint8Array {
  const b = Buffer.from(input);
  if (json && rand(2) === 0) return jsonMutation(b, rand, true) ?? b;
  const at = () => rand(b.length + 1);
  switch (rand(8)) {
    case 0: {
      const out = Buffer.from(b);
      for (let k = 1 + rand(4); k > 0 && out.length; k--) out[rand(out.length)] = rand(256);
      return out;
    }
    case 1: {
      const i = at();
      return Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + 1 + rand(64)))]);
    }
    case 2: {
      const i = at();
      const j = Math.min(b.length, i + rand(128));
      return Buffer.concat([b.subarray(0, j), b.subarray(i, j), b.subarray(j)]);
    }
    case 3:
      return b.subarray(0, at());
    case 5:
      return jsonMutation(b, rand) ?? b;
    case 6: {
      // swap two 8-byte instructions (BPF) or two lines (text)
      const i = rand(Math.max(1, b.length >> 3)) << 3;
      const j = rand(Math.max(1, b.length >> 3)) << 3;
      const out = Buffer.from(b);
      b.copy(out, i, j, j + 8);
      b.copy(out, j, i, i + 8);
      return out;
    }
    default: {
      const i = at();
      return Buffer.concat([b.subarray(0, i), Buffer.from(TOKENS[rand(TOKENS.length)]), b.subarray(i)]);
    }
  }
}

/** Stands for an integer no double holds (written as digits after JSON.stringify). */
const HUGE = "\u0000huge";

const VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  4095,
  4096,
  65536,
  1e308,
  "EPERM",
  "read",
  "",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_ALLOW",
  "SCMP_CMP_MASKED_EQ",
  "SCMP_CMP_GT",
  [],
  ["read"],
  {},
  { index: 1, value: 2, op: "SCMP_CMP_EQ" },
  ["CAP_SYS_ADMIN"],
  "kill-process",
  "errno 70000",
  "arg1 & 0xff == 0x1ff",
  "@default",
  "__proto__",
  { caps: "CAP_SYS_ADMIN" },
  HUGE,
];

/** Keys a mutation adds: those one reader knows and another must ignore or refuse, whatever their value. */
const KEYS = [
  "archMap",
  "architectures",
  "includes",
  "excludes",
  "name",
  "comment",
  "apiVersion",
  "ociVersion",
  "errnoRet",
  "defaultErrnoRet",
  "args",
  "flags",
  "baseProfileName",
  "disabled",
  "subArchitectures",
];

/**
 * Replaces, removes or adds one node of a JSON document (undefined when the input is not JSON). The node is
 * any node alike, or with `shallow` one found by a random descent from the root (stopping a third of the
 * time at each level), so that top-level keys (apiVersion, archMap) are mutated as often as deep ones.
 */
function jsonMutation(b: Buffer, rand: (n: number) => number, shallow = false): Buffer | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(b.toString("utf8"));
  } catch {
    return undefined;
  }
  const isNode = (v: unknown): v is Record<string, unknown> | unknown[] =>
    v !== null && typeof v === "object";
  const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const maps: Record<string, unknown>[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v))
      v.forEach((x, i) => {
        nodes.push({ parent: v, key: i });
        walk(x);
      });
    else if (isNode(v)) {
      maps.push(v as Record<string, unknown>);
      for (const [k, x] of Object.entries(v)) {
        nodes.push({ parent: v, key: k });
        walk(x);
      }
    }
  };
  if (shallow) {
    let at: unknown = doc;
    while (isNode(at)) {
      const keys = Array.isArray(at) ? at.map((_, i) => i) : Object.keys(at);
      if (!Array.isArray(at)) maps.push(at as Record<string, unknown>);
      if (!keys.length) break;
      const key = keys[rand(keys.length)];
      nodes.push({ parent: at, key });
      if (rand(3) === 0) break;
      at = (at as Record<string | number, unknown>)[key];
    }
  } else walk(doc);
  if (!nodes.length) return undefined;
  const n = shallow ? nodes[nodes.length - 1] : nodes[rand(nodes.length)];
  const v = VALUES[rand(VALUES.length)];
  const how = rand(4);
  if (how === 0 && !Array.isArray(n.parent)) delete (n.parent as Record<string, unknown>)[n.key as string];
  else if (how === 1 && maps.length)
    // a key another dialect (or another place) reads, with a value of any type
    maps[shallow ? maps.length - 1 : rand(maps.length)][KEYS[rand(KEYS.length)]] = structuredClone(v);
  else (n.parent as Record<string | number, unknown>)[n.key] = structuredClone(v);
  return Buffer.from(JSON.stringify(doc).replaceAll('"\\u0000huge"', "123456789012345678901234567890"));
}

/** Runs `runs` mutated inputs (1–3 mutations of a seed) through one reader. */
export function fuzzReader(t: FuzzTarget, runs: number, seed: number): FuzzTally {
  const rand = rng(seed);
  const tally: FuzzTally = {
    reader: t.name,
    runs: 0,
    accepted: 0,
    clear: 0,
    crash: 0,
    hang: 0,
    examples: [],
    acceptedOci: [],
  };
  for (let k = 0; k < runs; k++) {
    let input = t.seeds[rand(t.seeds.length)];
    for (let m = 1 + rand(3); m > 0; m--) input = mutate(input, rand, t.json);
    const started = Date.now();
    const outcome = classify(() => t.read(input), t.file);
    tally.runs++;
    const kind: Outcome = Date.now() - started > HANG_MS ? "hang" : outcome.kind;
    tally[kind]++;
    if ((kind === "crash" || kind === "hang") && tally.examples.length < 5)
      tally.examples.push({ input: Buffer.from(input).toString("base64"), error: outcome.error ?? "hang" });
    if (kind === "accepted" && (t.name === "oci" || t.name === "moby") && tally.acceptedOci.length < 2000)
      tally.acceptedOci.push(Buffer.from(input).toString("utf8"));
  }
  return tally;
}

/** Accepted, a clear error (SysfenceError with a code, naming the input), or a crash. */
export function classify(
  fn: () => void,
  file: string,
): { kind: "accepted" | "clear" | "crash"; error?: string } {
  try {
    fn();
    return { kind: "accepted" };
  } catch (e) {
    if (e instanceof SysfenceError && e.code && e.message.includes(file)) return { kind: "clear" };
    return { kind: "crash", error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}
