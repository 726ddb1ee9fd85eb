// The note on UDP: a policy that refuses it to a program that made inet sockets, so its first DNS lookup
// of a name not in /etc/hosts (glibc sends it over UDP) meets EPERM — "Could not resolve host" and nothing
// saying why. UDP is seen-only (ordinary.ts): Landlock cannot confine where datagrams go. Pure.
import type { Policy } from "../policy/model.js";
import { referenceDecide } from "../policy/reference.js";
import { ARCHES, type ArchName } from "../syscalls/arches.js";
import { constantValue } from "../syscalls/constants.js";
import { syscallNumber } from "../syscalls/table.js";
import type { SeenCall } from "./select.js";
import { parseArgValue } from "./symbols.js";

/**
 * One line when the recording made IPv4/IPv6 sockets but the policy refuses both socket(AF_INET, SOCK_DGRAM,
 * 0) and its IPv6 twin; undefined when UDP is allowed (seen, --allow-udp, no argument rules) or no inet socket
 * was made.
 */
export function udpNote(socket: SeenCall | undefined, policy: Policy, arch: ArchName): string | undefined {
  const nr = syscallNumber(arch, "socket");
  const inet = ["AF_INET", "AF_INET6"].map((f) => constantValue(f, arch));
  const dgram = constantValue("SOCK_DGRAM", arch);
  if (!socket || nr === undefined || dgram === undefined) return undefined;
  const families = Object.keys(socket.args["0"] ?? {}).map((t) => parseArgValue(t, arch));
  if (!families.some((f) => f !== undefined && inet.some((v) => v !== undefined && BigInt(v) === f)))
    return undefined;
  // UDP seen over one family (its own combination) is UDP seen: the program's lookups already work
  const refused = inet.every(
    (f) =>
      f === undefined ||
      referenceDecide(policy, { arch: ARCHES[arch].audit, nr, args: [BigInt(f), BigInt(dgram), 0n] }).kind !==
        "allow",
  );
  if (!refused) return undefined;
  return 'the program made IPv4/IPv6 sockets but no UDP socket in this recording, so the policy refuses UDP (socket(AF_INET, SOCK_DGRAM) gets EPERM): a DNS lookup of a name not in /etc/hosts ("Could not resolve host"), syslog or metrics over UDP, QUIC will fail — add --allow-udp if it does any of these (Landlock does not confine where datagrams go), or record a use that resolves a host name';
}
