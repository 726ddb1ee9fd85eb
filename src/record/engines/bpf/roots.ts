// The bpf engine's record of each process's root (bpf.ts): the path program's walk names directories as
// sysfence sees them, but an absolute path a chroot'ed process names is under its root, which user space
// puts in front of it (path-events.ts eventPath). A successful chroot's event (path-programs.ts
// USE_KIND.chroot: its new root, walked) sets a process's root; a fork gives the child its parent's; an
// exec keeps it. Kept by tgid with the image number the kernel's events carry (fork, exec, exit and path
// events each name theirs), so a reused pid's new process never takes an earlier one's root: its fork
// replaces the entry, and the earlier process's exit (which may come after it) removes only its own.
import { readlinkSync } from "node:fs";

/** Processes' roots (only those a chroot moved: every other process's is "/"). */
export class Roots {
  private readonly by = new Map<number, { image: number; root: string }>();

  /** Process tgid's root while it runs image number `image` (undefined: "/"). */
  of(tgid: number, image: number): string | undefined {
    const r = this.by.get(tgid);
    return r && r.image === image ? r.root : undefined;
  }

  /** Process tgid (running image number `image`) chroot'ed into root (as sysfence names it). */
  chroot(tgid: number, image: number, root: string): void {
    if (root === "/") this.by.delete(tgid);
    else this.by.set(tgid, { image, root });
  }

  /**
   * A process known before tracing began (record --pid, --cgroup): its root as /proc says (procPid: its
   * pid in sysfence's PID namespace, when pid is the initial namespace's).
   */
  seed(pid: number, procPid = pid): void {
    try {
      const root = readlinkSync(`/proc/${procPid}/root`);
      if (root.startsWith("/") && root !== "/") this.by.set(pid, { image: 0, root });
    } catch {
      // (gone already: its events, if any, say nothing of a root)
    }
  }

  /** Process parent (running image parentImage) forked child, whose first image is number img. */
  fork(parent: number, child: number, img: number, parentImage?: number): void {
    if (child === parent) return; // (a thread)
    const r = this.by.get(parent);
    if (r && (parentImage === undefined || r.image === parentImage))
      this.by.set(child, { image: img, root: r.root });
    else this.by.delete(child);
  }

  /** Process tgid exec'd, now running image number img: its root (kept across the exec). */
  exec(tgid: number, img: number): string | undefined {
    const r = this.by.get(tgid);
    if (!r) return undefined;
    r.image = img;
    return r.root;
  }

  /** Process tgid's last thread exited (running image number `image`). */
  exit(tgid: number, image?: number): void {
    const r = this.by.get(tgid);
    if (r && (image === undefined || r.image === image)) this.by.delete(tgid);
  }
}
