// record's launcher without a second Node: a 160-byte static x86_64 program, written by sysfence into a
// memfd (nothing on disk) and started as /proc/self/fd/<memfd> (the child's own copy of the descriptor,
// open until its exec has read the file; /proc/<sysfence pid> could name another process in a foreign
// /proc). It does what launch-entry.ts does —
// stop itself until the engine has attached, then exec the program with argv exactly as given (argv[0]
// included) and its own environment, cwd, umask, process group and descriptors — in ~1 ms instead of a
// Node start (~100–170 ms of CPU on the path of every recording). What it inherits from libuv's spawn is
// what a shell gives: stdio without close-on-exec and blocking, every signal at its default, none blocked.
// The launcher's argv: [itself, PATH, ARGV0, ARGS…]; fd 3 is a pipe back to sysfence: close-on-exec, so
// the program never sees it, and the errno of a failed execve is written to it (sysfence says what failed).
import { closeSync, writeSync } from "node:fs";
import { createRequire } from "node:module";

const LOAD_ADDRESS = 0x400000;
const EHDR = 64;
const PHDR = 56;

/** The launcher's code: x86_64, Linux syscalls only (no libc, no loader). */
const X86_64_CODE = [
  // fcntl(3, F_SETFD, FD_CLOEXEC): the status pipe never reaches the program
  "bf 03 00 00 00", // mov edi, 3
  "be 02 00 00 00", // mov esi, F_SETFD
  "ba 01 00 00 00", // mov edx, FD_CLOEXEC
  "b8 48 00 00 00", // mov eax, __NR_fcntl
  "0f 05", // syscall
  // prctl(PR_SET_PDEATHSIG, SIGKILL): sysfence gone (even SIGKILLed) means the recording is gone
  "bf 01 00 00 00", // mov edi, PR_SET_PDEATHSIG
  "be 09 00 00 00", // mov esi, SIGKILL
  "b8 9d 00 00 00", // mov eax, __NR_prctl
  "0f 05", // syscall
  // sysfence died before the prctl (the launcher was handed to a reaper): exit_group(125)
  "b8 6e 00 00 00", // mov eax, __NR_getppid
  "0f 05", // syscall
  "3d PPID", // cmp eax, <sysfence's pid> (not 1: sysfence is pid 1 as a container's first process)
  "74 0c", // je stop
  "bf 7d 00 00 00", // mov edi, 125
  "b8 e7 00 00 00", // mov eax, __NR_exit_group
  "0f 05", // syscall
  // stop: kill(getpid(), SIGSTOP), until the engine has attached and sysfence sends SIGCONT
  "b8 27 00 00 00", // mov eax, __NR_getpid
  "0f 05", // syscall
  "89 c7", // mov edi, eax
  "be 13 00 00 00", // mov esi, SIGSTOP
  "b8 3e 00 00 00", // mov eax, __NR_kill
  "0f 05", // syscall
  // execve(argv[1], &argv[2], envp): the stack holds argc, argv[0..argc-1], NULL, envp…
  "48 8b 7c 24 10", // mov rdi, [rsp+16]
  "48 8d 74 24 18", // lea rsi, [rsp+24]
  "48 8b 04 24", // mov rax, [rsp]
  "48 8d 54 c4 10", // lea rdx, [rsp+rax*8+16]
  "b8 3b 00 00 00", // mov eax, __NR_execve
  "0f 05", // syscall
  // it failed (rax = -errno): write(3, &errno, 4), exit_group(errno == ENOENT ? 127 : 126)
  "f7 d8", // neg eax
  "89 c3", // mov ebx, eax
  "50", // push rax
  "bf 03 00 00 00", // mov edi, 3
  "48 89 e6", // mov rsi, rsp
  "ba 04 00 00 00", // mov edx, 4
  "b8 01 00 00 00", // mov eax, __NR_write
  "0f 05", // syscall
  "bf 7e 00 00 00", // mov edi, 126
  "83 fb 02", // cmp ebx, ENOENT
  "75 05", // jne out
  "bf 7f 00 00 00", // mov edi, 127
  "b8 e7 00 00 00", // out: mov eax, __NR_exit_group
  "0f 05", // syscall
];

/**
 * The launcher as an ELF executable for Node's arch, or undefined where there is none (arm64: Node's);
 * PARENT is the pid it must be the child of (sysfence's), else it exits 125.
 */
export function launcherElf(arch: string = process.arch, parent = process.pid): Buffer | undefined {
  if (arch !== "x64") return undefined;
  const pid = Buffer.alloc(4);
  pid.writeUInt32LE(parent);
  const code = Buffer.from(
    X86_64_CODE.join(" ").replace("PPID", pid.toString("hex")).replace(/ /g, ""),
    "hex",
  );
  const headers = EHDR + 2 * PHDR;
  const elf = Buffer.alloc(headers + code.length);
  elf.write("7f454c46020101", 0, "hex"); // ELF, 64-bit, little-endian, version 1, System V ABI
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(0x3e, 18); // EM_X86_64
  elf.writeUInt32LE(1, 20); // EV_CURRENT
  elf.writeBigUInt64LE(BigInt(LOAD_ADDRESS + headers), 24); // e_entry
  elf.writeBigUInt64LE(BigInt(EHDR), 32); // e_phoff
  elf.writeUInt16LE(EHDR, 52); // e_ehsize
  elf.writeUInt16LE(PHDR, 54); // e_phentsize
  elf.writeUInt16LE(2, 56); // e_phnum
  // PT_LOAD: the whole file, read and execute
  elf.writeUInt32LE(1, EHDR);
  elf.writeUInt32LE(5, EHDR + 4);
  elf.writeBigUInt64LE(BigInt(LOAD_ADDRESS), EHDR + 16);
  elf.writeBigUInt64LE(BigInt(LOAD_ADDRESS), EHDR + 24);
  elf.writeBigUInt64LE(BigInt(elf.length), EHDR + 32);
  elf.writeBigUInt64LE(BigInt(elf.length), EHDR + 40);
  elf.writeBigUInt64LE(0x1000n, EHDR + 48);
  // PT_GNU_STACK, read and write: without it the kernel may give the process READ_IMPLIES_EXEC, a
  // personality the program would inherit
  elf.writeUInt32LE(0x6474e551, EHDR + PHDR);
  elf.writeUInt32LE(6, EHDR + PHDR + 4);
  code.copy(elf, headers);
  return elf;
}

/** The native launcher, ready to spawn: its path, and close() once it has been spawned. */
export interface NativeLauncher {
  path: string;
  close(): void;
}

/**
 * The launcher in a memfd (close-on-exec: only the path /proc/self/fd/N reaches it, in the child), or undefined
 * where it cannot be made (no launcher for this arch, no koffi, memfd_create refused): Node's then.
 */
export function nativeLauncher(): NativeLauncher | undefined {
  const elf = process.platform === "linux" ? launcherElf() : undefined;
  if (!elf) return undefined;
  let fd = -1;
  try {
    const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
    const memfdCreate = koffi
      .load("libc.so.6")
      .func("int memfd_create(const char *name, unsigned int flags)");
    // MFD_EXEC (Linux 6.3): executable even where vm.memfd_noexec=1 makes memfds noexec by default;
    // refused by older kernels (EINVAL: then without it) and under vm.memfd_noexec=2 (Node's launcher then)
    const MFD_CLOEXEC = 1;
    const MFD_EXEC = 0x10;
    fd = memfdCreate("sysfence-launcher", MFD_CLOEXEC | MFD_EXEC);
    if (fd < 0) fd = memfdCreate("sysfence-launcher", MFD_CLOEXEC);
    if (fd < 0) return undefined;
    if (writeSync(fd, elf) !== elf.length) throw new Error("short write");
  } catch {
    if (fd >= 0) closeSync(fd);
    return undefined;
  }
  return { path: `/proc/self/fd/${fd}`, close: () => closeSync(fd) };
}
