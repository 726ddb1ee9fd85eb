// tar: recorded creating an archive; then listing it, extracting (directories, symlinks, modes, times),
// appending, creating from a list with a compressor, and a comparison.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CliProgram } from "./types.js";

const TREE = ["find", "out", "-printf", "%p %y %m %l %s\\n"];

export const tarProgram: CliProgram = {
  kind: "cli",
  name: "tar",
  needs: ["tar", "gzip"],
  exes: ["tar", "gzip"],
  setup: (dir) => {
    mkdirSync(join(dir, "src/sub/deeper"), { recursive: true });
    writeFileSync(join(dir, "src/a.txt"), "alpha\n");
    writeFileSync(join(dir, "src/sub/b.txt"), "beta\n".repeat(1000), { mode: 0o640 });
    writeFileSync(join(dir, "src/sub/deeper/c.sh"), "#!/bin/sh\necho c\n", { mode: 0o755 });
    symlinkSync("sub/b.txt", join(dir, "src/link-to-b"));
    symlinkSync("sub", join(dir, "src/link-to-dir"));
    return undefined;
  },
  record: { name: "create", argv: ["tar", "cf", "rec.tar", "src"] },
  uses: [
    { name: "create", argv: ["tar", "cf", "a.tar", "src"] },
    {
      name: "list verbosely",
      argv: ["tar", "tvf", "a.tar", "--numeric-owner"],
      key: (o) => `exit ${o.status}\n${o.stdout.replace(/\d{4}-\d\d-\d\d \d\d:\d\d/g, "<date>")}`,
    },
    {
      name: "extract (dirs, symlinks, modes)",
      todo: "utimensat and fchownat answered EPERM: the recording (tar c) never set times or owners, and those calls are seccomp-only (Landlock does not confine them), so only a recording that saw them allows them",
      argv: ["tar", "xf", "a.tar", "--one-top-level=out"],
      after: TREE,
    },
    { name: "append", argv: ["tar", "rf", "a.tar", "src/a.txt"], after: ["tar", "tf", "a.tar"] },
    { name: "compare with the tree (--diff)", argv: ["tar", "df", "a.tar"] },
    {
      name: "create gzip-compressed (-z: runs gzip)",
      todo: 'execve("/bin/sh", ["/bin/sh", "-c", "gzip"]) answered EPERM: tar -z runs its compressor through a shell, which the recording never executed (the privilege class: by design)',
      argv: ["tar", "czf", "a.tgz", "src"],
      after: ["tar", "tzf", "a.tgz"],
    },
    { name: "extract to stdout", argv: ["tar", "xOf", "a.tar", "src/a.txt"] },
    {
      name: "extract over existing files",
      todo: "utimensat and fchownat answered EPERM: seccomp-only calls the recording (tar c) never made",
      argv: ["tar", "xf", "a.tar", "--one-top-level=out"],
      after: TREE,
    },
  ],
};
