// Orders that do not depend on the locale: output (profiles, rules, scripts) must read the same everywhere.

/** Ascending by `<`: strings by UTF-16 code unit, numbers and bigints by value. */
export const ascending = <T extends string | number | bigint>(a: T, b: T): number =>
  a < b ? -1 : a > b ? 1 : 0;

/** Entries ascending by key (see ascending). */
export const byKey = <K extends string | number | bigint>(
  [a]: readonly [K, unknown],
  [b]: readonly [K, unknown],
) => ascending(a, b);
