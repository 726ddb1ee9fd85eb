// strace's argument syntax, decoded into the event model's values: numbers in decimal (or the symbolic
// expression an imported log printed), paths and socket addresses, clone3's flags, a write's strings.
// Nothing past the strace adapter reads strace syntax.

/** A scalar argument's text as a value: numbers to decimal, a symbolic expression as written. */
export function argValue(text: string): string {
  const c = text.charCodeAt(0);
  if (c >= 49 && c <= 57) {
    // plain decimal (most values under -X raw)
    let k = 1;
    while (k < text.length && text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57) k++;
    if (k === text.length) return text;
  }
  const t = text.replace(/^\w+=/, "");
  if (/^-?\d+$/.test(t)) return t;
  if (/^0x[0-9a-f]+$/i.test(t)) return BigInt(t).toString();
  return t;
}

/** An argument worth filtering, decoded: clone3's struct gives its flags, any other its value. */
export function decodeValue(text: string): string | undefined {
  return text.startsWith("{") ? clone3Flags(text) : argValue(text);
}

/** Whether a decoded clone flags value (decimal, or an imported log's symbolic expression) makes a thread. */
export function makesThread(value: string): boolean {
  if (value.includes("CLONE_THREAD")) return true;
  const m = /(0x[0-9a-f]+|\d+)/i.exec(value);
  return !!m && (BigInt(m[1]) & CLONE_THREAD) !== 0n;
}
const CLONE_THREAD = 0x10000n;

/**
 * clone3's flags OR its exit signal, from the struct strace prints ({flags=…, exit_signal=…, …}): the
 * value clone(2) takes for the same request, which libc uses when clone3 answers ENOSYS.
 */
export function clone3Flags(text: string): string | undefined {
  const flags = /flags=([^,}]+)/.exec(text)?.[1]?.trim();
  if (flags === undefined) return undefined;
  const sig = /exit_signal=([^,}]+)/.exec(text)?.[1]?.trim();
  const num = (t: string) => (/^(0x[0-9a-f]+|\d+)$/i.test(t) ? BigInt(t) : undefined);
  const f = num(flags);
  const s = sig === undefined ? 0n : num(sig);
  if (f !== undefined && s !== undefined) return (f | s).toString();
  // symbolic (an imported log): keep the text, the generator evaluates it
  return sig && sig !== "0" ? `${flags}|${sig}` : flags;
}

/** The path or socket address an argument names ("/etc/passwd", "unix:/run/x", "inet:1.2.3.4:80"). */
export function decodePath(a: string): string | undefined {
  const m = /sun_path=(@?)"([^"]*)"/.exec(a);
  if (m) return `unix:${m[1]}${m[2]}`;
  // {sa_family=AF_INET, sin_port=htons(11211), sin_addr=inet_addr("127.0.0.1")}; AF_INET6: inet_pton(AF_INET6, "::1", …)
  const port = /sin6?_port=htons\((\d+)\)/.exec(a);
  if (port) {
    const v4 = /inet_addr\("([^"]*)"\)/.exec(a);
    if (v4) return `inet:${v4[1]}:${port[1]}`;
    const v6 = /inet_pton\(AF_INET6, "([^"]*)"/.exec(a);
    if (v6) return `inet6:[${v6[1]}]:${port[1]}`;
  }
  // strace -X raw: sin_port="\x00\x50", sin_addr="\x7f\x00\x00\x01" (network byte order)
  const rawPort = /sin6?_port="((?:\\x[0-9a-f]{2}){2})"/i.exec(a);
  if (rawPort) {
    const p = hexBytes(rawPort[1]);
    const portNum = (p[0] << 8) | p[1];
    const v4 = /sin_addr="((?:\\x[0-9a-f]{2}){4})"/i.exec(a);
    if (v4) return `inet:${hexBytes(v4[1]).join(".")}:${portNum}`;
    const v6 = /sin6_addr="((?:\\x[0-9a-f]{2}){16})"/i.exec(a);
    if (v6) {
      return inet6Text(hexBytes(v6[1]), portNum);
    }
  }
  return unquote(a);
}

/** An IPv6 socket address as a profile writes it ("inet6:[::1]:80"), from its 16 address bytes. */
export function inet6Text(bytes: readonly number[], port: number): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16));
  return `inet6:[${groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::")}]:${port}`;
}

function hexBytes(text: string): number[] {
  return text
    .split("\\x")
    .filter(Boolean)
    .map((h) => Number.parseInt(h, 16));
}

/** A quoted string argument's text, without the quotes (strace's "..." ellipsis of a cut string dropped). */
export function unquote(a: string | undefined): string | undefined {
  if (!a?.startsWith('"')) return undefined;
  const end = a.lastIndexOf('"');
  return a.slice(1, end > 0 ? end : undefined).replace(/\\(["\\])/g, "$1");
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", v: "\v", f: "\f", '"': '"', "\\": "\\" };

/** Every string literal in an argument list, unescaped and joined by newlines (a write's data: markers). */
export function stringsIn(text: string): string {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(text); m; m = re.exec(text))
    out.push(
      m[1].replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) =>
        e[0] === "x"
          ? String.fromCharCode(Number.parseInt(e.slice(1), 16))
          : /^[0-7]/.test(e)
            ? String.fromCharCode(Number.parseInt(e, 8))
            : (ESCAPES[e] ?? e),
      ),
    );
  return out.join("\n");
}

/**
 * The path of an fd argument as strace -y decorates it ("3</tmp/d>", "-100</home/u>" for AT_FDCWD):
 * the escapes of the quote, the backslash and the angle brackets undone (others kept as written, as
 * unquote keeps them); undefined for an fd without one, or one that is not a path ("4<socket:[81]>").
 */
export function fdPath(text: string): string | undefined {
  const lt = text.indexOf("<");
  if (lt <= 0 || text.charCodeAt(text.length - 1) !== 62 || text.charCodeAt(lt + 1) !== 47) return undefined;
  return text
    .slice(lt + 1, -1)
    .replace(/\\(["\\]|0?7[46])/g, (_, e: string) => (e.endsWith("74") ? "<" : e.endsWith("76") ? ">" : e));
}

/** Whether a directory fd argument is AT_FDCWD as strace prints it without -y (decoded, -X raw, hex). */
export const isCwdFd = (text: string): boolean =>
  text === "AT_FDCWD" || text === "-100" || text === "0xffffff9c" || text === "0xffffffffffffff9c";
