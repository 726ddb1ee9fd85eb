import { readFileSync } from "node:fs";
import type { Policy } from "../../src/policy/model.js";
import { parsePolicy } from "../../src/policy/parse.js";
import { REPO } from "./paths.js";

/** Parses a policy text (throws on errors). */
export const policyFrom = (text: string, file = "test.yaml"): Policy => parsePolicy(text, { file }).policy;

/** A bundled example, parsed. */
export const example = (name: string): Policy =>
  parsePolicy(readFileSync(`${REPO}examples/${name}`, "utf8"), { file: name, arch: "x86_64", kernel: "6.18" })
    .policy;

/** Policies that exercise the compiler's edges. */
export const EDGE_POLICIES: Record<string, string> = {
  multiArch: `
defaultAction: errno EPERM
architectures: [x86_64, i386, x32]
syscalls:
  - names: ["@basic-io", getpid]
    action: allow
  - name: ioctl
    action: allow
    args: ["arg1 == TIOCGWINSZ"]
  - name: ioctl
    action: kill-process
    args: ["arg1 == TIOCSTI"]
  - name: openat
    action: errno EACCES
    args: ["arg0 == AT_FDCWD", "arg2 & O_CREAT == O_CREAT"]
  - name: mremap
    action: trap 3
    args: ["arg1 > 0x100000000"]
  - name: lseek
    action: allow
    args: ["arg1 <= 4096"]
  - name: socket
    action: allow
    args: ["arg0 < AF_VSOCK", "arg1 >= 1"]
  - name: fcntl
    action: log
    args: ["arg1 != F_SETFL"]
  - name: mmap
    action: allow
    args: ["arg2 & PROT_EXEC == 0", "arg3 & 0xffffffff00000000 == 0"]
  - name: kill
    action: errno ESRCH
    args: ["arg0 < 0"]
  - name: personality
    action: allow
    args: ["arg0 == 0xffffffff"]
`,
  signed: `
defaultAction: kill-thread
architectures: [x86_64]
badArchAction: errno ENOSYS
syscalls:
  - name: dup2
    action: allow
    args: ["arg1 >= -1", "arg1 < 3"]
  - name: kill
    action: allow
    args: ["arg0 > -2"]
  - name: kill
    action: errno EPERM
    args: ["arg0 <= -2"]
  - name: umask
    action: allow
    args: ["arg0 & 0o077 == 0o022"]
`,
  onlyX32: `
defaultAction: allow
architectures: [x32]
syscalls:
  - names: [ptrace, bpf]
    action: errno EPERM
`,
  aarch64: `
defaultAction: trap
architectures: [aarch64, arm]
syscalls:
  - names: [read, write, exit_group]
    action: allow
  - name: ioctl
    action: allow
    args: ["arg1 == FIONBIO"]
`,
  bigEndian: `
defaultAction: errno EPERM
architectures: [s390x, ppc64le, riscv64]
syscalls:
  - name: lseek
    action: allow
    args: ["arg1 == 0x100000001"]
  - name: ioctl
    action: allow
    args: ["arg1 == FIONBIO"]
`,
};
