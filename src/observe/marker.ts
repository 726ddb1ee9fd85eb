// Closing a kernel-log window with a message of sysfence's own. Without auditd the kernel prints audit
// records through printk_ratelimit (kernel.printk_ratelimit seconds, kernel.printk_ratelimit_burst
// messages, shared by every caller): what it drops is said only by "kauditd_printk_skb: N callbacks
// suppressed", printed when the next rate-limited message comes after the interval — and the audit `lost`
// counter does not move. So silence at the end of a window proves nothing until another message has come
// through after the interval. sysfence sends that message itself: an AUDIT_USER_MSG (1107) through the
// audit netlink socket (root: CAP_AUDIT_WRITE), which kauditd prints through the same rate limit as the
// SECCOMP records — not a seccomp record, so it spends none of a filter's records. Any drop before it is
// reported by a suppression line printed before it; if it does not arrive, the window stays open.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { SysfenceError } from "../errors.js";

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_AUDIT = 9;
const AUDIT_USER_MSG = 1107;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const NLMSG_ERROR = 2;

/** A window marker: the text sysfence sends, unique to one finalize. */
export function markerText(nonce: string = randomBytes(8).toString("hex")): string {
  return `sysfence-window-end nonce=${nonce}`;
}

/** True when a log line is the marker `text` (as kauditd prints it: msg='…'). */
export function isMarkerLine(line: string, text: string): boolean {
  return line.includes(`msg='${text}'`) || line.includes(`msg="${text}"`);
}

/** The netlink request: nlmsghdr (len, type, flags, seq, pid) and the NUL-terminated text. */
export function auditUserMessage(text: string, seq = 1): Buffer {
  const body = Buffer.from(`${text}\0`, "utf8");
  const head = Buffer.alloc(16);
  head.writeUInt32LE(16 + body.length, 0);
  head.writeUInt16LE(AUDIT_USER_MSG, 4);
  head.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK, 6);
  head.writeUInt32LE(seq, 8);
  head.writeUInt32LE(0, 12);
  return Buffer.concat([head, body]);
}

/** The errno in the kernel's acknowledgement (NLMSG_ERROR; 0 is success); undefined when it is not one. */
export function ackErrno(reply: Buffer): number | undefined {
  if (reply.length < 20 || reply.readUInt16LE(4) !== NLMSG_ERROR) return undefined;
  return -reply.readInt32LE(16);
}

/** Sends `text` to the kernel's audit log as an AUDIT_USER_MSG. Throws E_IO with the reason when it cannot. */
export function sendAuditUserMessage(text: string): void {
  const require = createRequire(import.meta.url);
  const koffi = require("koffi") as typeof import("koffi");
  const lib = koffi.load("libc.so.6");
  const socket = lib.func("int socket(int domain, int type, int protocol)");
  const write = lib.func("long write(int fd, const void *buf, unsigned long n)");
  const read = lib.func("long read(int fd, void *buf, unsigned long n)");
  const close = lib.func("int close(int fd)");
  const errnoLoc = lib.func("int *__errno_location()");
  const errno = () => koffi.decode(errnoLoc(), "int") as number;
  const why = (what: string, e: number) =>
    new SysfenceError(
      "E_IO",
      `cannot close the window with a marker in the kernel log: ${what} failed with errno ${e}${e === 1 ? " (EPERM: sending audit messages needs root, CAP_AUDIT_WRITE)" : ""}. Run as root, or run auditd and finalize from /var/log/audit/audit.log.`,
    );
  const fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT) as number;
  if (fd < 0) throw why("socket(AF_NETLINK, NETLINK_AUDIT)", errno());
  try {
    const msg = auditUserMessage(text);
    if (Number(write(fd, msg, msg.length)) !== msg.length) throw why("sending the audit message", errno());
    const reply = Buffer.alloc(256);
    const n = Number(read(fd, reply, reply.length));
    if (n < 0) throw why("reading the audit acknowledgement", errno());
    const e = ackErrno(reply.subarray(0, n));
    if (e) throw why("the audit message", e);
  } finally {
    close(fd);
  }
}

/** The printk rate limit's interval in seconds (kernel.printk_ratelimit); 5, the default, when unreadable. */
export function rateLimitInterval(): number {
  try {
    const n = Number(readFileSync("/proc/sys/kernel/printk_ratelimit", "utf8").trim());
    return Number.isFinite(n) && n >= 0 ? n : 5;
  } catch {
    return 5;
  }
}
