import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CLASSES, classOf, isClassified } from "../../src/generate/classes.js";
import { ARCHES, type ArchName } from "../../src/syscalls/arches.js";
import { syscallTable } from "../../src/syscalls/table.js";

describe("syscall classes (generate's static tier)", () => {
  it("every syscall of every supported architecture has a class: a new one fails here until a person classifies it", () => {
    const missing: string[] = [];
    for (const arch of Object.keys(ARCHES) as ArchName[])
      for (const name of Object.keys(syscallTable(arch)))
        if (!isClassified(name)) missing.push(`${arch}:${name}`);
    assert.deepEqual(missing, []);
  });

  it("a name on no list is privilege (fail closed), and no list names a call twice", () => {
    assert.equal(classOf("a_syscall_of_2030").cls, "privilege");
    const seen = new Set<string>();
    for (const lists of Object.values(CLASSES))
      for (const names of Object.values(lists))
        for (const n of names) {
          assert.ok(!seen.has(n), `${n} twice`);
          seen.add(n);
        }
  });

  it("the privilege class holds what the issue names: exec, ptrace, mounts, namespaces, modules, kexec, bpf, perf, keys, setuid, userfaultfd, io_uring, open_by_handle_at, personality, reboot, swap, chroot", () => {
    for (const n of [
      "execve",
      "execveat",
      "memfd_create",
      "ptrace",
      "process_vm_writev",
      "mount",
      "fsopen",
      "unshare",
      "setns",
      "init_module",
      "kexec_load",
      "bpf",
      "perf_event_open",
      "keyctl",
      "setuid",
      "capset",
      "userfaultfd",
      "io_uring_setup",
      "open_by_handle_at",
      "personality",
      "reboot",
      "swapon",
      "chroot",
      "pivot_root",
    ])
      assert.equal(classOf(n).cls, "privilege", n);
    for (const n of ["chmod", "fchownat", "setxattr", "utimensat", "connect"])
      assert.equal(classOf(n).cls, "seccomp-only", n);
    assert.equal(classOf("unlink").confinedBy, "landlock-fs");
    assert.equal(classOf("kill").confinedBy, "landlock-signal");
    assert.equal(classOf("bind").confinedBy, "landlock-tcp");
    assert.equal(classOf("shmctl").cls, "confined");
  });
});

describe("docs/syscall-classes.md", () => {
  it("is the page classes.ts and ordinary.ts make (npm run gen:docs)", async () => {
    const { readFileSync } = await import("node:fs");
    const { classesDoc } = await import("../../src/generate/classes-doc.js");
    const file = new URL("../../../docs/syscall-classes.md", import.meta.url);
    assert.equal(readFileSync(file, "utf8"), classesDoc(), "run npm run gen:docs");
  });
});
