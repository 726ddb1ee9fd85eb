import { decodeActionValue } from "../../src/abi/action.js";
import { Emulator } from "../../src/bpf/emulator.js";
import { compile } from "../../src/compile/compile.js";
import { formatAction } from "../../src/policy/actions.js";
import type { Action } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { ARCHES } from "../../src/syscalls/arches.js";
import { errnoValue } from "../../src/syscalls/constants.js";
import { GROUPS } from "../../src/syscalls/generated/groups.js";
import { syscallTable } from "../../src/syscalls/table.js";
import { rng } from "./fuzz.js";
import { haveSystemdTest, resolvableNames, systemdAnswer, systemdReadings } from "./systemd-oracle.js";

// The systemd-semantics fuzz oracle: random unit files (SystemCallFilter= lines with groups, ~, resets,
// NAME:ERRNO; SystemCallErrorNumber=) are decided for every x86_64 call three ways: a small model of
// systemd's rules written here independently of src/policy/systemd-*.ts (one call at a time, replaying
// the lines), sysfence (importSystemd + compile + the BPF emulator), and, when it is installed, systemd
// itself (`systemd --test`, test/helpers/systemd-oracle.ts).

const X86 = syscallTable("x86_64");
const NAMES = Object.keys(X86).sort();
const GROUP_NAMES = Object.keys(GROUPS);
const ERRNOS = ["EPERM", "EACCES", "ENOSYS", "13", "1", "4095", "kill", "eio"];

/** A random unit body (no section header). */
export function randomUnit(rand: (n: number) => number): string {
  const lines: string[] = [];
  const count = 1 + rand(6);
  for (let i = 0; i < count; i++) {
    const kind = rand(10);
    if (kind === 0) lines.push("SystemCallFilter=");
    else if (kind === 1) lines.push(`SystemCallErrorNumber=${["kill", "EPERM", "38", ""][rand(4)]}`);
    else {
      const negate = rand(2) === 0;
      const items: string[] = [];
      const n = 1 + rand(4);
      for (let j = 0; j < n; j++) {
        const name = rand(5) < 2 ? GROUP_NAMES[rand(GROUP_NAMES.length)] : NAMES[rand(NAMES.length)];
        items.push(negate && rand(3) === 0 ? `${name}:${ERRNOS[rand(ERRNOS.length)]}` : name);
      }
      lines.push(`SystemCallFilter=${negate ? "~" : ""}${items.join(" ")}`);
    }
  }
  return lines.join("\n");
}

/** Whether group or name `item` covers syscall `name`, from the raw group table. */
function covers(item: string, name: string, seen: string[] = []): boolean {
  if (!item.startsWith("@")) return item === name;
  if (seen.includes(item)) return false;
  return (GROUPS[item]?.members ?? []).some((m) => covers(m, name, [...seen, item]));
}

/** The model: systemd's rules replayed for one call. */
export function modelAnswer(unit: string, name: string): Action {
  let mode: "allow" | "deny" | undefined;
  let listed = false;
  let entry: number | "kill" | undefined;
  let errno: number | undefined;
  const errnoOf = (t: string) => (t === "kill" ? "kill" : /^\d+$/.test(t) ? Number(t) : errnoValue(t));
  for (const line of unit.split("\n")) {
    const [key, value] = [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)];
    if (key === "SystemCallErrorNumber") {
      const e = value === "" ? "kill" : errnoOf(value);
      errno = e === "kill" ? undefined : e;
      continue;
    }
    if (value === "") {
      mode = undefined;
      listed = false;
      continue;
    }
    const negate = value.startsWith("~");
    if (mode === undefined) {
      mode = negate ? "deny" : "allow";
      listed = mode === "allow" && covers("@default", name);
      entry = undefined;
    }
    for (const item of (negate ? value.slice(1) : value).split(" ")) {
      const [n, e] = item.split(":");
      if (!covers(n, name)) continue;
      const given = e === undefined ? undefined : errnoOf(e);
      if (mode === "allow" ? !negate || given !== undefined : negate) {
        listed = true;
        entry = given;
      } else listed = false;
    }
  }
  const negative: Action = errno === undefined ? { kind: "kill-process" } : { kind: "errno", data: errno };
  const of = (none: Action): Action =>
    entry === undefined ? none : entry === "kill" ? { kind: "kill-process" } : { kind: "errno", data: entry };
  if (mode === undefined) return { kind: "allow" };
  if (mode === "allow") return listed ? of({ kind: "allow" }) : negative;
  return listed ? of(negative) : { kind: "allow" };
}

/** sysfence's answer to every x86_64 call: importSystemd, compile, the emulator. */
export function sysfenceAnswers(unit: string): Map<string, Action> {
  const p = parsePolicy(`[Service]\n${unit}\n`, { file: "fuzz.conf" }).policy;
  const emu = new Emulator(compile(p, { stats: false }).program);
  const zero = [0n, 0n, 0n, 0n, 0n, 0n];
  return new Map(
    NAMES.map((n) => [
      n,
      decodeActionValue(emu.run({ nr: X86[n], arch: ARCHES.x86_64.audit, args: zero }).value),
    ]),
  );
}

export interface SystemdFuzzTally {
  units: number;
  /** Units where the model and sysfence disagree on some call. */
  modelDiffer: number;
  /** Units compared with systemd's own reading (0 when systemd is not installed), and how many differ. */
  systemdCompared: number;
  systemdDiffer: number;
  /** x86_64 names this machine's libseccomp does not resolve (systemd drops them; not compared with it). */
  unresolved: string[];
  examples: string[];
}

/** Runs `units` random units through the three readings. */
export function fuzzSystemd(units: number, seed: number): SystemdFuzzTally {
  const rand = rng(seed);
  const texts = Array.from({ length: units }, () => randomUnit(rand));
  const tally: SystemdFuzzTally = {
    units,
    modelDiffer: 0,
    systemdCompared: 0,
    systemdDiffer: 0,
    unresolved: [],
    examples: [],
  };
  // sysfence's answers, or the message it refused the unit with (every generated unit is valid for systemd)
  const ours = texts.map((t) => {
    try {
      return sysfenceAnswers(t);
    } catch (e) {
      return (e as Error).message.split("\n").slice(0, 2).join(" ");
    }
  });
  const example = (what: string, i: number, n: string, theirs: Action) => {
    if (tally.examples.length >= 10) return;
    const mine = ours[i];
    const said =
      typeof mine === "string"
        ? `refused it: ${mine}`
        : `${n}: sysfence ${formatAction(mine.get(n) as Action)}`;
    tally.examples.push(`${what}: ${said}, ${what} ${formatAction(theirs)}\n${texts[i]}`);
  };
  /** The first call on which sysfence and `answer` disagree (any call, when sysfence refused the unit). */
  const firstDifference = (i: number, answer: (n: string) => Action, compared: (n: string) => boolean) => {
    const mine = ours[i];
    return NAMES.find(
      (n) =>
        compared(n) &&
        (typeof mine === "string" || formatAction(mine.get(n) as Action) !== formatAction(answer(n))),
    );
  };
  texts.forEach((unit, i) => {
    const bad = firstDifference(
      i,
      (n) => modelAnswer(unit, n),
      () => true,
    );
    if (bad) {
      tally.modelDiffer++;
      example("model", i, bad, modelAnswer(unit, bad));
    }
  });
  if (haveSystemdTest()) {
    const resolvable = resolvableNames(NAMES);
    tally.unresolved = NAMES.filter((n) => !resolvable.has(n));
    for (let start = 0; start < texts.length; start += 250) {
      systemdReadings(texts.slice(start, start + 250)).forEach((reading, j) => {
        const i = start + j;
        tally.systemdCompared++;
        const bad = firstDifference(
          i,
          (n) => systemdAnswer(reading, n),
          (n) => resolvable.has(n),
        );
        if (bad) {
          tally.systemdDiffer++;
          example("systemd", i, bad, systemdAnswer(reading, bad));
        }
      });
    }
  }
  return tally;
}
