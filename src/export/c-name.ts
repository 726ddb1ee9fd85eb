// The C function name `export --function-name` pastes into generated C (libseccomp-c, bpf-c): it must be
// an identifier and nothing else, or the text after it becomes code.
import { SysfenceError } from "../errors.js";

/** C's keywords (C89 to C23) and the spellings C23 made keywords: none can name a function. */
const C_KEYWORDS = new Set(
  (
    "auto break case char const continue default do double else enum extern float for goto if inline int long " +
    "register restrict return short signed sizeof static struct switch typedef union unsigned void volatile " +
    "while _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local " +
    "_BitInt _Decimal32 _Decimal64 _Decimal128 alignas alignof bool constexpr false nullptr static_assert " +
    "thread_local true typeof typeof_unqual"
  ).split(" "),
);

/** The longest name taken: far past any real function name, short of an identifier no compiler keeps. */
const MAX_C_NAME = 255;

/** Throws E_USAGE unless `name` is a C identifier ([A-Za-z_][A-Za-z0-9_]*) and not a keyword. */
export function checkCFunctionName(name: string, option = "--function-name"): void {
  const shown = JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new SysfenceError(
      "E_USAGE",
      `${option} ${shown} is not a C identifier: use letters, digits and _ only, not starting with a digit (e.g. install_filter).`,
    );
  if (C_KEYWORDS.has(name))
    throw new SysfenceError(
      "E_USAGE",
      `${option} ${shown} is a C keyword; choose another name (e.g. ${name}_filter).`,
    );
  if (name.length > MAX_C_NAME)
    throw new SysfenceError(
      "E_USAGE",
      `${option}: a name of ${name.length} characters is longer than the ${MAX_C_NAME} taken; choose a shorter one.`,
    );
}
