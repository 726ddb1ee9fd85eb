// The words options take that belong to a module of their own (api/option-lists.ts holds the others), and
// the syscall tables' lookups: what `sysfence completion`, the man page and `sysfence syscalls` show, read
// from the tables that define them so that they offer exactly what the parsers take.
export { EXPORT_FORMATS } from "../export/export.js";
export { LAUNCHERS } from "../export/launchers.js";
export { PRESETS } from "../install/run-policy.js";
export { POLICY_FORMATS } from "../policy/formats/parsed.js";
export { ENGINE_CHOICES } from "../record/engine.js";
export { ARCH_NAMES, type ArchName, archInfo, nativeArch } from "../syscalls/arches.js";
export { argCount, argWidth } from "../syscalls/args.js";
export { SYSTEMD_VERSION } from "../syscalls/generated/groups.js";
export { expandGroup, groupDescription, groupNames, groupsOf } from "../syscalls/groups.js";
export { resolveSyscallSpec, suggestSyscalls, syscallNumber, syscallTable } from "../syscalls/table.js";
