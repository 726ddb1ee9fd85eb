import type { Command } from "commander";
import { parseAction } from "../../policy/actions.js";
import type { LandlockPlan } from "../../policy/landlock.js";
import type { Policy } from "../../policy/model.js";
import { type CliIO, UsageError } from "../io.js";
import { loadPolicy } from "../policy-input.js";
import type { RunArgs } from "./run-args.js";

/**
 * `sysfence run [OPTIONS] [SPEC…] [--] CMD [ARGS…]`, for its help and the man page: main.ts parses run's
 * words itself (run-args.ts), and `command` is what followed `--`.
 */
export function registerRun(program: Command, io: CliIO, command: string[]): void {
  program
    .command("run")
    .usage("[OPTIONS] [SPEC...] [--] COMMAND [ARGS...]")
    .description(
      "run a command under a policy: syscall names and @groups (an allow-list; '--' before the command), and/or --policy FILE or --preset NAME (options end at the command: '--' optional). Exit status: the program's; 125 sysfence failed before exec, 126 the command cannot be executed, 127 not found",
    )
    .argument("[spec...]", "syscall names and @groups, e.g. @default @basic-io getdents64")
    .option("--policy <file>", "a policy file (sysfence YAML/JSON or Docker/OCI JSON)")
    .option(
      "--default-action <action>",
      "what calls outside the allow-list get (default errno ENOSYS); with --deny, what listed calls get (default errno EPERM)",
    )
    .option("--errno <name>", "shorthand for --default-action 'errno NAME'")
    .option("--deny", "SPEC is a deny-list over default allow")
    .option(
      "--log",
      "log-only: the kernel logs what the policy would deny (audit type 1326) and nothing is blocked",
    )
    .option("--preset <name...>", "built-in hardening sets: no-user-namespaces, no-debug")
    .option("--no-implicit", "do not add @default and the dynamic loader's calls to an allow-list")
    .option(
      "--no-landlock",
      "do not apply the policy's landlock: section (as on a kernel without Landlock); rules with needs: landlock are dropped",
    )
    .option("--dry-run", "print the policy's summary instead of running")
    .option(
      "--json",
      "with --dry-run: the summary as JSON (command, instructions, syscalls with rules per architecture, the Landlock plan)",
    )
    .option(
      "--learn <out>",
      "learning mode (no root needed): calls the policy would refuse are recorded into OUT (a profile) and let through; then audit --patch POLICY OUT",
    )
    .option(
      "--learn-all",
      "with --learn: let the privilege class through too (otherwise it gets the policy's answer)",
    )
    .option(
      "--learn-answer <how>",
      "with --learn: policy = answer every call as the policy does (still recorded)",
    )
    .action(
      async (
        spec: string[],
        opts: Omit<RunArgs, "spec" | "preset" | "implicit"> & { preset?: string[]; implicit?: boolean },
      ) => {
        const { landlock, ...rest } = opts;
        await runCommand(
          {
            ...rest,
            spec,
            preset: opts.preset ?? [],
            implicit: opts.implicit !== false,
            ...(landlock === false ? { landlock: false } : {}),
          },
          io,
          command,
        );
      },
    );
}

/** The work of `sysfence run`, shared by the fast path and commander. */
export async function runCommand(opts: RunArgs, io: CliIO, command: string[]): Promise<number | undefined> {
  const { spec } = opts;
  if (command.length === 0)
    throw new UsageError(
      "give the command to run, e.g. sysfence run --policy p.yaml ls / or sysfence run @default @basic-io -- ls /.",
    );
  if (spec.length === 0 && !opts.policy && !opts.preset.length)
    throw new UsageError("give syscalls/@groups, --policy FILE or --preset NAME before the command.");
  const { resolveCommand, execUnderPolicy } = await import("../../install/run.js");
  const note = (line: string) => io.stderr(`sysfence run: note: ${line}\n`); // -q drops these
  // the kernel's Landlock ABI decides the ruleset and which rules compile (part of the cache key)
  const landlockKernel = opts.policy ? await landlockKernelOf(opts) : undefined;
  // A policy file's compiled program is cached: later launches skip parsing and compiling.
  let cacheKey: string | undefined;
  let cacheNote: string | undefined;
  if (opts.learn !== undefined && opts.log)
    throw new UsageError("--learn and --log are two ways to burn a policy in; give one.");
  if ((opts.learnAll || opts.learnAnswer) && opts.learn === undefined)
    throw new UsageError("--learn-all and --learn-answer go with --learn OUT.");
  if (opts.policy && !opts.dryRun && opts.learn === undefined) {
    const { openProgramCache, programKey } = await import("../../install/program-cache.js");
    const { readFileSync } = await import("node:fs");
    let text: string | undefined;
    try {
      text = readFileSync(opts.policy, "utf8");
    } catch {
      // loadPolicy reports it below
    }
    if (text !== undefined) {
      cacheKey = programKey(text, {
        ...opts,
        policy: undefined,
        dryRun: undefined,
        landlockAbi: landlockKernel?.abi,
      });
      const cache = openProgramCache(false);
      if ("get" in cache) {
        const cached = cache.get(cacheKey);
        if (cached) {
          for (const line of cached.launch.landlock?.plan.dropped ?? []) note(line);
          execUnderPolicy(cached.program, command, { ...cached.launch, onNote: note });
        }
      } else cacheNote = cache.note;
    }
  }
  const { buildRunPolicy, launchGuard } = await import("../../install/run-policy.js");
  // warnings belong to check/compile: a launcher stays quiet (and skips the line:column look-ups)
  const quiet: CliIO = { ...io, stderr: () => {} };
  const loaded = opts.policy ? (await loadPolicy(opts.policy, {}, quiet)).policy : undefined;
  const { planLandlock } = await import("../../policy/landlock.js");
  const plan =
    loaded?.landlock && landlockKernel
      ? planLandlock(loaded.landlock, landlockKernel.abi, landlockKernel.why)
      : undefined;
  const base = loaded && (await withoutUnenforced(loaded, plan, note));
  const landlock =
    plan && loaded?.landlock ? { plan, execute: loaded.landlock.execute.map((p) => p.path) } : undefined;
  const actionText = opts.errno ? `errno ${opts.errno}` : opts.defaultAction;
  const policy = buildRunPolicy({
    spec,
    base,
    deny: opts.deny,
    defaultAction: actionText ? parseAction(actionText) : undefined,
    log: opts.log,
    presets: opts.preset,
    implicit: opts.implicit,
  });
  if (opts.learn !== undefined && !opts.dryRun) {
    // (from its own file, never from the bundle: it starts a worker thread and a launcher beside it)
    const { learnCommand } = (await import(
      new URL("./run-learn.js", import.meta.url).href
    )) as typeof import("./run-learn.js");
    // a policy file is learned as written; an inline allow-list as run would build it
    const learned = spec.length === 0 && base && !opts.deny ? base : policy;
    return await learnCommand({ ...opts, learn: opts.learn }, learned, plan, command, io);
  }
  if (opts.dryRun) {
    const { compile } = await import("../../compile/compile.js");
    const { checkNativeListed } = await import("../../install/install.js");
    checkNativeListed(policy, "run");
    const r = compile(policy, { stats: false });
    if (opts.json) {
      const { dryRunJson } = await import("./run-dry-json.js");
      io.stdout(dryRunJson(resolveCommand(command[0]), command, r, policy, plan));
      return undefined;
    }
    io.stdout(
      `would run ${resolveCommand(command[0])} under ${r.program.length} instructions; ${r.resolved.arches[0].syscalls.length} syscalls with rules\n`,
    );
    if (plan)
      io.stdout(
        plan.enforced.files
          ? `landlock (ABI ${plan.abi}): ${plan.paths.length} path rules, ${plan.ports.length} port rules${plan.dropped.length ? `; ${plan.dropped.join("; ")}` : ""}\n`
          : `${plan.dropped.join("; ")}\n`,
      );
    return undefined;
  }
  for (const line of plan?.dropped ?? []) note(line);
  // a policy file on its own: the launch's execve is let through once, every later one gets the policy's answer
  const answer = base && spec.length === 0 && !opts.deny ? launchGuard(base) : undefined;
  // a policy's `flags: [log]`: installed with SECCOMP_FILTER_FLAG_LOG (errno answers are logged too)
  const flagLog = base?.flags?.includes("log") ? { log: true } : {};
  const launch = {
    ...(answer
      ? { execGuard: opts.log ? { kind: "log" as const } : answer, arches: policy.architectures, ...flagLog }
      : flagLog),
    ...(landlock ? { landlock } : {}),
  };
  if (cacheKey) {
    const { openProgramCache } = await import("../../install/program-cache.js");
    const { programOf } = await import("../../install/install.js");
    const program = programOf(policy, { landlock: plan?.enforced ?? false, done: "run" });
    const cache = cacheNote ? { note: cacheNote } : openProgramCache(true);
    if ("put" in cache) cache.put(cacheKey, { program, launch });
    else if (cache.note) io.stderr(`sysfence run: ${cache.note}; the policy was compiled afresh.\n`);
    execUnderPolicy(program, command, { ...launch, onNote: note });
  }
  execUnderPolicy(policy, command, { ...launch, onNote: note });
}

/**
 * The policy's rules whose part of the Landlock layer is enforced (needs: landlock …); the line that says
 * the layer (or a part) is off also names the calls that fell back — kept in the plan, which the program
 * cache stores, so a cached launch says it too.
 */
async function withoutUnenforced(
  loaded: Policy,
  plan: LandlockPlan | undefined,
  note: (line: string) => void,
): Promise<Policy> {
  const { seccompPolicyFor, noteFallback } = await import("../../policy/landlock.js");
  const layers = plan?.enforced ?? false;
  const lines: string[] = [];
  noteFallback(plan?.dropped ?? lines, loaded, layers, !plan);
  for (const line of lines) note(line);
  return seccompPolicyFor(loaded, layers);
}

/**
 * The Landlock ABI a launch plans for: 0 with the reason when --no-landlock or --log (Landlock has no
 * log-only mode: it would block what --log promises to let through) turn the layer off.
 */
async function landlockKernelOf(opts: RunArgs): Promise<{ abi: number; why?: string }> {
  if (opts.landlock === false) return { abi: 0, why: "disabled by --no-landlock" };
  if (opts.log) return { abi: 0, why: "not applied under --log (Landlock has no log-only mode)" };
  const { loadLibc } = await import("../../install/ffi.js");
  const { landlockAbi } = await import("../../install/landlock.js");
  try {
    return landlockAbi(loadLibc());
  } catch (e) {
    // off Linux (a dry run): the launch itself would fail later with its own message
    return { abi: 0, why: (e as Error).message };
  }
}
