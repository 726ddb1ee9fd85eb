import { stringify } from "yaml";

/**
 * A string as a double-quoted YAML scalar, escaped exactly as the yaml library writes it back (`fmt`), so a
 * policy written line by line (generate, the landlock section) is already in canonical form. JSON's quoting
 * agrees except for control characters (\u0001 against \x01).
 */
export function yamlQuoted(s: string): string {
  return stringify(s, { defaultStringType: "QUOTE_DOUBLE", lineWidth: 0 }).trimEnd();
}
