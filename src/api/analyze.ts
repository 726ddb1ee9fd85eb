// analyze: a program (a path, a name in PATH, a #! script) → the syscalls its code can make.
import { type AnalyzeAsyncOptions, type AnalyzeResult, analyzeAsync } from "../analyze/analyze.js";
import { programFile } from "../analyze/program-file.js";

/** Options of analyzeProgram(): analyzeAsync()'s, and recordings whose opened libraries count as dlopened. */
export interface AnalyzeProgramOptions extends Omit<AnalyzeAsyncOptions, "dlopened"> {
  /** Profile files (sysfence record): the libraries they saw opened are analysed as dlopened. */
  profiles?: readonly string[];
  /** Libraries analysed as dlopened besides those of the profiles. */
  dlopened?: readonly string[];
}

/** The analysis, and the #! scripts that led to the executable analysed (outermost first). */
export interface ProgramAnalysis extends AnalyzeResult {
  scripts: string[];
}

/**
 * `sysfence analyze PROGRAM` as one step: a name is looked up in PATH and a #! script analysed through
 * its interpreter, as the shell runs them; libraries the profiles saw opened are analysed as dlopened.
 */
export async function analyzeProgram(
  program: string,
  options: AnalyzeProgramOptions = {},
): Promise<ProgramAnalysis> {
  const { profiles = [], dlopened = [], ...rest } = options;
  const opened = [...dlopened];
  if (profiles.length) {
    // loaded only for --profile: the policy readers behind them are most of the command's modules
    const { readProfileFile } = await import("./document.js");
    const { dlopenedPaths } = await import("../generate/static-input.js");
    for (const p of profiles) opened.push(...dlopenedPaths((await readProfileFile(p)).paths ?? {}));
  }
  const { elf, scripts } = programFile(program);
  if (scripts.length)
    rest.onNote?.(`${scripts.join(" → ")} is a #! script; analysing its interpreter ${elf}`);
  return { ...(await analyzeAsync(elf, { ...rest, dlopened: [...new Set(opened)] })), scripts };
}
