/** In CI (CI=true) a missing real component fails the test; on a laptop it skips with the reason. */
export function requireOrSkip(available: boolean, what: string): string | false {
  if (available) return false;
  if (process.env.CI === "true" || process.env.SYSFENCE_REQUIRE_REAL === "1")
    throw new Error(`${what} is required in CI but missing`);
  return `${what} is not installed`;
}
