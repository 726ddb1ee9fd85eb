// The bpf engine's record of each process's root (src/record/engines/bpf/roots.ts) and the paths put
// under it (path-access.ts rootedPath, resolveIn): pure. The engines against the kernel on chroot'ed
// programs: test/record/bpf-paths.test.ts (chroot-open.c, chroot-nest.c).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Roots } from "../../src/record/engines/bpf/roots.js";
import { resolveIn, rootedPath } from "../../src/record/path-access.js";

describe("bpf engine: each process's root", () => {
  it("a chroot sets it, a fork gives the child its parent's, an exec keeps it, an exit ends it", () => {
    const r = new Roots();
    r.chroot(10, 0, "/srv/jail");
    assert.equal(r.of(10, 0), "/srv/jail");
    r.fork(10, 11, 1, 0);
    assert.equal(r.of(11, 1), "/srv/jail", "the child's first image");
    r.fork(10, 10, 0, 0); // a thread
    assert.equal(r.of(10, 0), "/srv/jail");
    assert.equal(r.exec(11, 2), "/srv/jail");
    assert.equal(r.of(11, 2), "/srv/jail", "kept across the exec");
    assert.equal(r.of(11, 1), undefined, "not the image before it");
    r.chroot(11, 2, "/");
    assert.equal(r.of(11, 2), undefined, "a chroot back to the recording's root");
    r.exit(10, 0);
    assert.equal(r.of(10, 0), undefined);
  });

  it("a reused pid's process never takes an earlier one's root, whichever of its fork and the exit comes first", () => {
    const r = new Roots();
    r.chroot(20, 3, "/jail");
    r.fork(1, 20, 4, 0); // pid 20 reused by a child of an unchrooted process, its fork read before the exit
    assert.equal(r.of(20, 4), undefined);
    r.exit(20, 3); // the earlier process's exit, late
    r.chroot(20, 4, "/other");
    r.exit(20, 3);
    assert.equal(r.of(20, 4), "/other", "an earlier image's exit removes nothing of a later one");
    r.fork(20, 21, 1, 9); // a fork by an image the record does not hold
    assert.equal(r.of(21, 1), undefined);
  });

  it("puts absolute paths under the root, and stops `..` there", () => {
    assert.equal(rootedPath(undefined, "/a/../b"), "/b");
    assert.equal(rootedPath("/srv/jail", "/etc/passwd"), "/srv/jail/etc/passwd");
    assert.equal(rootedPath("/srv/jail", "/../../etc//x/."), "/srv/jail/etc/x");
    assert.equal(rootedPath("/srv/jail", "/"), "/srv/jail");
    assert.equal(resolveIn("/srv/jail", "/srv/jail", "../../x"), "/srv/jail/x");
    assert.equal(resolveIn("/srv/jail", "/srv/jail/a/b", "../../../x"), "/srv/jail/x");
    assert.equal(resolveIn("/srv/jail", "/srv/jail/a", "./y"), "/srv/jail/a/y");
    assert.equal(resolveIn("/srv/jail", "/srv", "../x"), "/x", "a directory outside the root: walked freely");
    assert.equal(
      resolveIn("/srv/jail", "/srv/jailx", "../x"),
      "/srv/x",
      "(not under it: only its name begins so)",
    );
    assert.equal(resolveIn(undefined, "/a/b", "../c"), "/a/c");
  });
});
