// sysfence's library API. install() and lockdown() load the FFI (koffi) only when called.
export { actionValue, decodeActionValue } from "./abi/action.js";
export {
  type AnalyzeAsyncOptions,
  type AnalyzeOptions,
  type AnalyzeProgress,
  type AnalyzeResult,
  analyze,
  analyzeAsync,
} from "./analyze/analyze.js";
export {
  type DiffOptions,
  type Drift,
  diff,
  type ExportedAs,
  type ExportOutput,
  type ExportRequest,
  exportPolicy,
  type GenerateFromOptions,
  type GeneratePolicyOptions,
  generate,
  generatePolicy,
  record,
  report,
} from "./api/api.js";
export { type Document, type ReadDocumentOptions, readDocument } from "./api/document.js";
export type { ProfileInput } from "./api/inputs.js";
export {
  ARGS_MODES,
  DIFF_FORMATS,
  PHASES,
  STATIC_MODES,
  THREAD_ROLES,
  UNSEEN_ANSWERS,
} from "./api/options.js";
export { type RecordRequest, type RecordResult, recordProgram } from "./api/record.js";
export { Assembler } from "./bpf/assembler.js";
export { disassemble } from "./bpf/disasm.js";
export {
  type EmulationResult,
  Emulator,
  emulate,
  packSeccompData,
  type SeccompData,
} from "./bpf/emulator.js";
export { decodeProgram, encodeProgram, type Insn } from "./bpf/insn.js";
export { verifyProgram } from "./bpf/verify.js";
export { type CompileOptions, type CompileResult, compile } from "./compile/compile.js";
export type { CompileStats } from "./compile/stats.js";
export { type Diagnostic, type ErrorCode, SysfenceError } from "./errors.js";
export type { Exported, ExportOptions } from "./export/export.js";
export { EXPORT_FORMATS } from "./export/export.js";
export type { ExportFormat, LauncherName } from "./export/launchers.js";
export type { Denial, DiffResult } from "./generate/diff.js";
export type { GeneratedPolicy, GenerateOptions } from "./generate/generate.js";
export { mergeProfiles } from "./generate/merge.js";
export {
  type InstallOptions,
  type InstallResult,
  install,
  type LockdownOptions,
  lockdown,
  type PolicyInput,
} from "./install/install.js";
export { formatAction, parseAction } from "./policy/actions.js";
export { formatCondition, parseCondition } from "./policy/conditions.js";
export { importOci, type OciOptions } from "./policy/formats/oci/read.js";
export { DOCKER_DEFAULT_CAPS } from "./policy/formats/oci/vocab.js";
export {
  fsRightsOf,
  LANDLOCK_FS,
  LANDLOCK_LIST_ACCESS,
  LANDLOCK_NET,
  LANDLOCK_SCOPE,
  type LandlockEnforced,
  type LandlockPlan,
  planLandlock,
  seccompPolicyFor,
} from "./policy/landlock.js";
export { landlockYamlLines } from "./policy/landlock-yaml.js";
export type {
  Action,
  ActionKind,
  CmpOp,
  Condition,
  LandlockPath,
  LandlockPort,
  LandlockScope,
  LandlockSection,
  Policy,
  Rule,
} from "./policy/model.js";
export { type ParsedPolicy, parsePolicy, readPolicyFile } from "./policy/parse.js";
export { type Query, referenceDecide } from "./policy/reference.js";
export { type ResolvedPolicy, resolvePolicy } from "./policy/resolve.js";
export { policyJsonSchema } from "./policy/schema.js";
export { policyToYaml } from "./policy/write.js";
export type { Profile } from "./record/profile.js";
export type { RecordCommandOptions as RecordOptions } from "./record/record.js";
export type { Report } from "./report/model.js";
export { renderHtml } from "./report/render-html.js";
export { renderMarkdown, renderText } from "./report/render-text.js";
export { ARCHES, type ArchName, archInfo, nativeArch } from "./syscalls/arches.js";
export { argWidth } from "./syscalls/args.js";
export { constantValue, errnoName, errnoValue } from "./syscalls/constants.js";
export { expandGroup, groupNames } from "./syscalls/groups.js";
export { syscallName, syscallNumber } from "./syscalls/table.js";
