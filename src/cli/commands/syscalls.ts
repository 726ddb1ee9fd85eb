import type { Command } from "commander";
import {
  type ArchName,
  archInfo,
  argCount,
  argWidth,
  expandGroup,
  groupDescription,
  groupNames,
  groupsOf,
  nativeArch,
  resolveSyscallSpec,
  SYSTEMD_VERSION,
  suggestSyscalls,
  syscallNumber,
  syscallTable,
} from "../../api/vocabulary.js";
import { type CliIO, toJson, UsageError } from "../io.js";

interface SyscallInfo {
  name: string;
  nr: number | null;
  args: string[];
  groups: string[];
}

function describe(arch: ArchName, name: string): SyscallInfo {
  const n = argCount(name);
  const args =
    n === undefined
      ? []
      : Array.from({ length: n }, (_, i) => {
          const w = argWidth(name, i, arch);
          return w.kind === "ptr" ? "ptr" : `${w.signed ? "s" : "u"}${w.bits}`;
        });
  return { name, nr: syscallNumber(arch, name) ?? null, args, groups: groupsOf(name) };
}

/** `sysfence syscalls`. */
export function registerSyscalls(program: Command, io: CliIO): void {
  program
    .command("syscalls")
    .description("resolve syscall names, numbers and @groups (systemd's) on an architecture")
    .argument("[items...]", "names, numbers or @groups; none lists every syscall; @ lists the groups")
    .option("--arch <arch>", "architecture", nativeArch())
    .option("--json", "print JSON")
    .action((items: string[], opts: { arch: string; json?: boolean }) => {
      const arch = archInfo(opts.arch).name;
      if (items.length === 1 && items[0] === "@") {
        const groups = groupNames().map((g) => ({
          group: g,
          description: groupDescription(g),
          count: expandGroup(g)?.length ?? 0,
        }));
        if (opts.json) io.stdout(`${toJson({ systemd: SYSTEMD_VERSION, groups })}\n`);
        else
          io.stdout(
            `${groups.map((g) => `${g.group.padEnd(18)} ${String(g.count).padStart(4)}  ${g.description}`).join("\n")}\n`,
          );
        return;
      }
      const out: SyscallInfo[] = [];
      const targets = items.length
        ? items
        : Object.keys(syscallTable(arch)).sort((a, b) => syscallTable(arch)[a] - syscallTable(arch)[b]);
      for (const item of targets) {
        if (item.startsWith("@")) {
          const members = expandGroup(item);
          if (!members)
            throw new UsageError(
              `unknown group '${item}'${nearGroup(item)}; list them with 'sysfence syscalls @'.`,
            );
          for (const m of members) out.push(describe(arch, m));
          continue;
        }
        const { name, nr } = resolveSyscallSpec(arch, item);
        if (!name) throw new UsageError(`no syscall has number ${nr} on ${arch}.`);
        out.push(describe(arch, name));
      }
      if (opts.json) {
        io.stdout(`${toJson({ arch, syscalls: out })}\n`);
        return;
      }
      const rows = out.map(
        (s) =>
          `${String(s.nr ?? "-").padStart(10)}  ${s.name.padEnd(24)} ${`(${s.args.join(", ")})`.padEnd(34)} ${s.groups.join(" ")}`,
      );
      io.stdout(`${rows.join("\n")}\n`);
    });
}

/** " — did you mean @basic-io?" for a misspelt group, or nothing. */
function nearGroup(name: string): string {
  const near = suggestSyscalls(name, groupNames());
  return near.length ? ` — did you mean ${near.join(" or ")}?` : "";
}
